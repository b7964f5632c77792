/**
 * Point in time on the command line: `strata effective ... --at <ISO time>` (the effective
 * configuration of a context as it was, diffed against now) and `strata revert-push <push id>
 * --into <draft.sqlite>` (a past push's undo, staged as one change set in a draft).
 */
import { StrataError } from '../../core/types.js';
import { draftSource, pointInTime, revertPushInto } from '../../services/history-service.js';
import type { PointInTimeValue } from '../../services/history-service.js';
import { openStore } from '../../services/targets.js';
import { PostgresStore } from '../../store/postgres-store.js';
import { columns, positionals, printJson, str, usage } from '../command.js';
import type { CliIO, CommandArgs, CommandImpl, GlobalOptions } from '../command.js';
import { contextFromFlags, shown } from '../context-flags.js';
import { withService } from '../service.js';

function from(v: PointInTimeValue | null): string {
  if (v === null) return '-';
  return v.level === 'global' || v.scope === '' ? String(v.level) : `${v.level} ${v.scope}`;
}

/** `strata effective <context> --at <time> [--changed]`: then vs now for one context. */
export async function runEffectiveAt(
  args: CommandArgs,
  globals: GlobalOptions,
  io: CliIO,
): Promise<number> {
  positionals(args, [], 'effective');
  const at = str(args, 'at');
  if (at === undefined) throw usage('--at needs a time such as 2025-01-31T12:00:00Z.');
  if (globals.reveal)
    throw usage('--at shows past values masked; --reveal is not available with it.');
  if (str(args, 'format') !== undefined) throw usage('--at cannot be combined with --format.');
  const input = contextFromFlags(args, 'effective');
  const changedOnly = args.values.changed === true;
  return withService(globals, io, async (service) => {
    const view = await pointInTime(service, { at, context: input, changedOnly });
    if (globals.json) {
      const values: Record<string, string | null> = Object.create(null) as Record<
        string,
        string | null
      >;
      for (const i of view.items) if (i.then !== null) values[i.key] = i.then.value;
      const ctx = view.subject.kind === 'context' ? view.subject.context : null;
      printJson(io, {
        at: view.at,
        history_since: view.historySince,
        context: ctx && {
          tenant: ctx.tenantId,
          department: ctx.department,
          groups: ctx.groups,
          user: ctx.userId,
        },
        values,
        items: view.items.map((i) => ({
          key: i.key,
          value: i.then?.value ?? null,
          value_type: i.then?.valueType ?? null,
          level: i.then?.level ?? null,
          scope: i.then?.scope ?? null,
          now: i.now && { value: i.now.value, level: i.now.level, scope: i.now.scope },
          changed: i.changed,
        })),
        changed: view.changed,
      });
      return 0;
    }
    const rows = [['key', `value at ${view.at}`, 'from', 'now', 'from', '']];
    for (const i of view.items) {
      rows.push([
        i.key,
        shown(i.then?.value ?? null),
        from(i.then),
        shown(i.now?.value ?? null),
        from(i.now),
        i.changed ? 'changed' : '',
      ]);
    }
    io.stdout(`${columns(rows)}\n\n${view.changed} key(s) differ from now.\n`);
    return 0;
  });
}

export const revertPushCommand: CommandImpl = {
  usage: `Usage: strata revert-push <push id> --into <draft.sqlite> [--db <postgres URL>] [--as <user>] [--json]

Stages the undo of a past push in a draft pulled from the same database: every slot the push
touched goes back to the value (and lock) it had just before, as one change set with the reason
"revert push <id>". Nothing reaches the database until you review the draft's plan and push it.
Slots changed again after the push are listed: the revert would overwrite those later changes.

  --into <path>  the draft to stage the revert in, pulled from the database the push went to
  --db <url>     that database (default: the draft's source; the password then comes from
                 PGPASSWORD or ~/.pgpass)
  --json         {"push_id","draft","staged","changed_since":[{"level","scope","key"}...]}

Example:
  strata revert-push 3f0c2a9e-... --into ./mercy-draft.sqlite --db postgres://strata@db/strata`,
  options: { into: { type: 'string' } },
  async run(args, globals, io) {
    const [pushId] = positionals(args, ['push id'], 'revert-push');
    const into = str(args, 'into');
    if (into === undefined) throw usage('--into <draft.sqlite> is required.');
    // Without --db, the database the draft was pulled from (password from PGPASSWORD/.pgpass).
    const db = globals.db ?? (await draftSource(into));
    if (db === null)
      throw usage(`${into} was not pulled from a database; pass --db <postgres URL>.`);
    const store = await openStore(db);
    try {
      if (!(store instanceof PostgresStore)) {
        throw new StrataError(
          'invalid',
          '--db must name the PostgreSQL database the push went to.',
        );
      }
      const operator = globals.as ?? (await store.identity()).role;
      const r = await revertPushInto(store, pushId!, into, operator);
      if (globals.json) {
        printJson(io, {
          push_id: r.pushId,
          draft: r.draft,
          staged: r.staged,
          changed_since: r.changedSince,
        });
        return;
      }
      io.stdout(`Staged ${r.staged} change(s) in ${r.draft} that revert push ${r.pushId}.\n`);
      if (r.changedSince.length > 0) {
        io.stdout('Changed again after that push (the revert overwrites these):\n');
        io.stdout(
          `${columns(r.changedSince.map((s) => [s.key, s.level === 'global' ? 'global' : `${s.level} ${s.scope}`]))}\n`,
        );
      }
      io.stdout('Review it with `strata plan` and send it with `strata push`.\n');
    } finally {
      await store.close();
    }
  },
};
