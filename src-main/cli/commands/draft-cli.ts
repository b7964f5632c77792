/**
 * What the draft commands (pull, plan, resolve-conflict, push, diff, promote) share: progress
 * lines on stderr for long runs, the human form of a plan, and the conflict-resolution flags
 * that plan and push accept as well as resolve-conflict.
 */
import type { DraftPlan } from '../../services/draft-plan.js';
import type { ResolutionRequest } from '../../services/draft-resolve.js';
import type { DraftProgress, ProgressListener } from '../../services/draft-workspace.js';
import { planJson, type PlanItemJson } from '../../services/draft-display.js';
import { StrataError } from '../../core/types.js';
import { str, strs } from '../command.js';
import type { CliIO, CommandArgs, OptionsConfig } from '../command.js';
import { shown } from '../context-flags.js';

/** Flags that settle conflicts before a plan is shown or a push runs. */
export const RESOLVE_FLAGS: OptionsConfig = {
  'keep-mine': { type: 'string', multiple: true },
  'take-theirs': { type: 'string', multiple: true },
};

/** Help lines of RESOLVE_FLAGS. */
export const RESOLVE_HELP = `  --keep-mine <item>     settle a conflict by pushing my value over theirs; <item> is
                         key@level:scope (key@global), a plan item id, dir:<kind>:<id>, or all
  --take-theirs <item>   settle a conflict by keeping production's value (my change is dropped)`;

/** The resolutions named by --keep-mine / --take-theirs. */
export function resolutionFlags(args: CommandArgs): ResolutionRequest[] {
  return [
    ...strs(args, 'keep-mine').map((item): ResolutionRequest => ({ item, choice: 'mine' })),
    ...strs(args, 'take-theirs').map((item): ResolutionRequest => ({ item, choice: 'theirs' })),
  ];
}

/** The optional --to target. */
export function toFlag(args: CommandArgs): string | null {
  return str(args, 'to') ?? null;
}

// Long runs only: a pull or push of a few rows prints nothing extra.
const LONG_RUN = 5_000;

/**
 * Progress on stderr: for phases with at least LONG_RUN units, one line per tenth (or every
 * report with STRATA_PROGRESS=1); nothing with --json unless STRATA_PROGRESS=1.
 */
export function progressPrinter(io: CliIO, command: string): ProgressListener {
  const forced = io.env.STRATA_PROGRESS === '1';
  const last = new Map<string, number>();
  return (p: DraftProgress) => {
    if (!forced && p.total < LONG_RUN) return;
    const tenth = p.total > 0 ? Math.floor((p.done * 10) / p.total) : 10;
    if (!forced && last.get(p.phase) === tenth) return;
    last.set(p.phase, tenth);
    const pct = p.total > 0 ? Math.floor((p.done * 100) / p.total) : 100;
    io.stderr(
      `${command}: ${p.phase} ${p.done}/${p.total} (${pct}%)${p.message ? ` ${p.message}` : ''}\n`,
    );
  };
}

const MARK: Record<string, string> = {
  create: '+',
  update: '~',
  delete: '-',
  'no-op': '=',
  conflict: '!',
};

function where(i: { level: string; scope: string }): string {
  return i.level === 'global' ? 'global' : `${i.level} ${i.scope}`;
}

function itemLine(i: PlanItemJson): string[] {
  const head = `  ${MARK[i.action] ?? '?'} ${i.action.padEnd(8)} ${i.key} (${where(i)})`;
  let tail: string;
  switch (i.action) {
    case 'create':
      tail = ` = ${shown(i.mine)}`;
      break;
    case 'update':
      tail = `: ${shown(i.live)} -> ${shown(i.mine)}`;
      break;
    case 'delete':
      tail = `: ${shown(i.live)} removed`;
      break;
    case 'no-op':
      tail = ': production already has it';
      break;
    default: {
      const how =
        i.resolution === null
          ? `unresolved; settle with --keep-mine/--take-theirs ${i.slot}`
          : `resolved: ${i.resolution === 'theirs' ? 'take theirs' : i.resolution === 'mine' ? 'keep mine' : 'edited'}`;
      tail = `: base ${shown(i.base)}, live ${shown(i.live)}, mine ${i.change === 'unset' ? '(remove)' : shown(i.mine)} [${how}]`;
    }
  }
  const lines = [`${head}${tail}`];
  for (const p of i.parent_changed) {
    lines.push(`      parent changed at ${where(p)}: ${shown(p.base)} -> ${shown(p.live)}`);
  }
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The human form of a plan. */
export function formatPlan(plan: DraftPlan): string {
  const j = planJson(plan);
  const env = j.environment ? ` (${j.environment})` : '';
  const out = [
    `Plan: ${j.draft} -> ${j.target}${env}${j.fresh ? ' [first push: creates the whole draft]' : ''}`,
  ];
  if (j.directory.length > 0) {
    out.push('Directory:');
    for (const d of j.directory) {
      const how =
        d.action === 'conflict'
          ? d.resolution === null
            ? ` [unresolved; settle with --keep-mine/--take-theirs dir:${d.kind}:${d.ref}]`
            : ` [resolved: ${d.resolution === 'mine' ? 'keep mine' : 'take theirs'}]`
          : '';
      out.push(`  ${MARK[d.action] ?? '?'} ${d.action.padEnd(8)} ${d.kind} ${d.ref}${how}`);
    }
  }
  if (j.metadata_to_create > 0)
    out.push(`Metadata: ${plural(j.metadata_to_create, 'key')} to create.`);
  if (j.items.length === 0 && j.directory.length === 0) out.push('Nothing is staged.');
  else if (j.items.length > 0) out.push('Values:');
  for (const i of j.items) out.push(...itemLine(i));
  const s = j.summary;
  out.push(
    `Summary: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.no_op} no-op, ` +
      `${plural(s.conflicts + s.directory.conflicts, 'conflict')} (${j.conflicts} unresolved)` +
      (s.parent_changed > 0
        ? `, ${plural(s.parent_changed, 'item')} whose parent level changed`
        : '') +
      '.',
  );
  if (j.conflicts > 0) {
    out.push(
      'Push writes nothing while a conflict is unresolved: settle each with strata resolve-conflict, or --keep-mine / --take-theirs.',
    );
  }
  return `${out.join('\n')}\n`;
}

/** Details attached to a conflict or refusal error, for --json output. */
export function errorDetails(err: unknown): Record<string, unknown> | null {
  if (!(err instanceof StrataError)) return null;
  const d = err.details as Record<string, unknown> | undefined;
  if (err.code === 'conflict' && d && Array.isArray(d.conflicts)) {
    return {
      status: 'conflict',
      message: err.message,
      conflicts: (d.conflicts as Array<Record<string, unknown>>).map((c) => ({
        kind: c.kind,
        level: c.level,
        scope: c.scope,
        key: c.key,
      })),
    };
  }
  if (err.code === 'forbidden' && d && Array.isArray(d.refused)) {
    return { status: 'refused', message: err.message, refused: d.refused };
  }
  return null;
}
