/**
 * `strata resolve` (one key with its chain) and `strata effective` (every key) for a directory
 * user or an ad-hoc context.
 */
import { envExportPairs, mapEnvKey } from '../../core/env/mapping.js';
import { serializeEnv } from '../../core/env/serialize-env.js';
import type { UserContext } from '../../core/types.js';
import { columns, positionals, printJson, str, usage } from '../command.js';
import type { CommandArgs, CommandImpl, GlobalOptions } from '../command.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, contextFromFlags, shown } from '../context-flags.js';
import { withService } from '../service.js';

/** The reveal options of a read: --reveal with an optional --reason (recorded in the reveal log). */
function revealOptions(
  args: CommandArgs,
  globals: GlobalOptions,
): { reveal: boolean; reason: string | null } {
  const reason = str(args, 'reason') ?? null;
  if (reason !== null && !globals.reveal)
    throw usage('--reason is recorded with a reveal; add --reveal or leave --reason out.');
  return { reveal: globals.reveal, reason };
}

function where(level: string, scope: string): string {
  return level === 'global' || level === 'default' || level === 'env_legacy'
    ? level
    : `${level} ${scope}`;
}

/** `strata resolve <key> <context>`. */
export const resolveCommand: CommandImpl = {
  usage: `Usage: strata resolve <key> (--user <id> | --tenant <id> [--department <id>] [--group <id>]... [--user-id <id>]) [--json] [--reveal]

Resolves one key: the value of the most specific level that sets it (a locked value at a more
general level is final), and the whole chain from global to user. "false", "0" and "" are real
values that override. Secrets are masked unless --reveal; a reveal is recorded (who, which
slots, when, why; never the value) before anything is printed.

${CONTEXT_HELP}

  --reason <text>  why you reveal; recorded with the reveal (needs --reveal)
  --json   {"key","value","value_type","level","scope","chain":[{"level","scope","value"}...]}
           level is global|tenant|department|group|user|default; scope is "" for global and
           "tenant/department" for a department

Examples:
  strata resolve fax_backend --user user123 --db ./demo.sqlite
  strata resolve compliance.hipaa.enabled --tenant mercy_hospital --department marketing --db ./demo.sqlite`,
  options: { ...CONTEXT_OPTIONS, reason: { type: 'string' } },
  async run(args, globals, io) {
    const [key] = positionals(args, ['key'], 'resolve');
    const ctx = contextFromFlags(args, 'resolve');
    const reveal = revealOptions(args, globals);
    await withService(globals, io, async (service) => {
      const r = await service.resolve(key!, ctx, reveal);
      if (globals.json) {
        printJson(io, {
          key: r.key,
          value: r.value,
          value_type: r.valueType,
          level: r.level,
          scope: r.scope,
          chain: r.chain.map((l) => ({ level: l.level, scope: l.scope, value: l.value })),
        });
        return;
      }
      const rows = [['level', 'scope', 'value', '']];
      for (const l of r.chain) {
        const mark = l.winner
          ? l.locked
            ? 'wins (locked)'
            : 'wins'
          : l.shadowed
            ? l.locked
              ? 'shadowed (locked)'
              : 'shadowed'
            : '';
        rows.push([l.level, l.scope, shown(l.value), mark]);
      }
      io.stdout(
        `${r.key} = ${shown(r.value)}  (${r.valueType}, from ${where(r.level, r.scope)})\n\n${columns(rows)}\n`,
      );
    });
  },
};

function contextJson(ctx: UserContext): Record<string, unknown> {
  return { tenant: ctx.tenantId, department: ctx.department, groups: ctx.groups, user: ctx.userId };
}

/** `strata effective <context>`. */
export const effectiveCommand: CommandImpl = {
  usage: `Usage: strata effective (--user <id> | --tenant <id> [--department <id>] [--group <id>]... [--user-id <id>]) [--json | --format env] [--reveal]

Shows every key that applies to the context with its effective value and where it comes from.
Secrets are masked unless --reveal; a reveal is recorded (who, which slots, when, why; never the
value) before anything is printed.

${CONTEXT_HELP}

  --reason <text>  why you reveal; recorded with the reveal (needs --reveal)

  --json         {"context":{"tenant","department","groups","user"},
                  "values":{key: value},
                  "items":[{"key","value","value_type","level","scope"}...]}
  --format env   KEY=value lines (.env names as in import-env's mapping, e.g.
                 fax.backend.provider -> FAX_BACKEND), readable by dotenv
  --at <time>    the context as it was at that moment (ISO 8601 with a zone, e.g.
                 2025-01-31T12:00:00Z), rebuilt from the PostgreSQL history, next to now;
                 --json adds "at", "history_since", per item "now" and "changed"
  --changed      with --at: only keys whose value differs from now

Example:
  strata effective --user dr_house --db ./demo.sqlite`,
  options: {
    ...CONTEXT_OPTIONS,
    format: { type: 'string' },
    at: { type: 'string' },
    changed: { type: 'boolean' },
    reason: { type: 'string' },
  },
  async run(args, globals, io) {
    // Point in time (history-at.ts): the context as it was at --at, against now.
    if (args.values.at !== undefined || args.values.changed !== undefined) {
      await (await import('./history-at.js')).runEffectiveAt(args, globals, io);
      return;
    }
    positionals(args, [], 'effective');
    const format = str(args, 'format');
    if (format !== undefined && format !== 'env')
      throw usage(`Unknown --format '${format.slice(0, 20)}'; the only format is env.`);
    if (format !== undefined && globals.json)
      throw usage('Give either --json or --format env, not both.');
    const input = contextFromFlags(args, 'effective');
    const reveal = revealOptions(args, globals);
    await withService(globals, io, async (service) => {
      const ctx = await service.context(input);
      const items = await service.effective(input, reveal);
      if (globals.json) {
        // Null prototype: keys written outside Strata (psql) could be named __proto__.
        const values: Record<string, string | null> = Object.create(null) as Record<
          string,
          string | null
        >;
        for (const i of items) values[i.key] = i.value;
        printJson(io, {
          context: contextJson(ctx),
          values,
          items: items.map((i) => ({
            key: i.key,
            value: i.value,
            value_type: i.valueType,
            level: i.level,
            scope: i.scope,
          })),
        });
        return;
      }
      if (format === 'env') {
        const present = items.filter((i) => i.value !== null);
        const valueOf = new Map(present.map((i) => [i.key, i.value!]));
        const { pairs, collisions } = envExportPairs(
          present.map((i) => [i.key, i.value!] as const),
        );
        // Two keys sharing a .env name (hipaa_mode and compliance.hipaa.enabled both export
        // as HIPAA_MODE): write the one an import of that name maps back to, note the rest.
        for (const c of collisions) {
          const keep = mapEnvKey(c.envKey, null, c.keys);
          if (c.keys.includes(keep)) pairs.push([c.envKey, valueOf.get(keep)!]);
          const dropped = c.keys.filter((k) => k !== keep);
          io.stderr(
            `Note: ${dropped.join(', ')} not exported: ${c.envKey} holds ${c.keys.includes(keep) ? keep : 'none of them'}.\n`,
          );
        }
        pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        io.stdout(serializeEnv(pairs));
        return;
      }
      const rows = [['key', 'value', 'from']];
      for (const i of items) rows.push([i.key, shown(i.value), where(i.level, i.scope)]);
      io.stdout(`${columns(rows)}\n`);
    });
  },
};
