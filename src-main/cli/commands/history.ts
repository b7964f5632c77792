/**
 * `strata history <key>`: the audit trail of a key (config_audit on PostgreSQL, the staged-change
 * log in a draft), newest first. Secret values appear only as fingerprints.
 * `strata history --directory [<id>]`: the audited directory changes (PostgreSQL).
 */
import { parseLevel } from '../../core/keys.js';
import { DIRECTORY_AUDIT_KINDS } from '../../services/types.js';
import type {
  AuditChange,
  DirectoryAuditKind,
  DirectoryHistoryFilter,
  HistoryFilter,
} from '../../services/types.js';
import { columns, positionals, printJson, str, usage } from '../command.js';
import type { CliIO, CommandArgs, CommandImpl, GlobalOptions } from '../command.js';
import { shown } from '../context-flags.js';
import { withService } from '../service.js';

export const command: CommandImpl = {
  usage: `Usage: strata history <key> [--level <level> [--scope <id>]] [--limit N] [--json]
       strata history --directory [<id>] [--kind <kind>] [--limit N] [--json]

Shows who changed a key, when, from what to what and why, newest first: config_audit on
PostgreSQL (written by database triggers, so changes made with psql appear too), the
staged-change log in a draft. Secret values show only as fingerprints (secret:fp=...).

  --level, --scope   only this level (and scope)
  --limit N          at most N records (default 1000)
  --json             {"key","items":[{"seq","level","scope","key","old_value","new_value",
                      "change_type","changed_by","changed_at","reason","push_id"}...]}
                     (drafts add "status": staged | pushed | discarded)

With --directory: who changed the directory (tenants, departments, groups, users and group
memberships), when, what and why, newest first, from config_audit on PostgreSQL (a draft keeps
none). A tenant, department, group or user that was created or removed is one record, field
(row); an update is one record per changed column; a membership is the user with the group as
field and the group's position in the user's order (0 wins) as value.

  <id>               only this tenant, group or user id, or tenant/department (a user id
                     also shows that user's memberships)
  --kind <kind>      only tenant | department | group | user | membership
  --json             {"items":[{"seq","kind","id","field","old_value","new_value","change_type",
                      "changed_by","changed_at","reason","push_id"}...]}

Examples:
  strata history fax_backend --db postgres://strata@db.example.org/strata
  strata history --directory dr_grey --db postgres://strata@db.example.org/strata`,
  options: {
    level: { type: 'string' },
    scope: { type: 'string' },
    limit: { type: 'string' },
    directory: { type: 'boolean' },
    kind: { type: 'string' },
  },
  async run(args, globals, io) {
    if (args.values.directory === true) {
      await directoryHistory(args, globals, io);
      return;
    }
    if (str(args, 'kind') !== undefined) throw usage('--kind needs --directory.');
    const [key] = positionals(args, ['key'], 'history');
    const filter: HistoryFilter = { key: key! };
    const level = str(args, 'level');
    const scope = str(args, 'scope');
    if (scope !== undefined && level === undefined) throw usage('--scope needs --level.');
    if (level !== undefined) {
      filter.level = parseLevel(level);
      if (filter.level === 'global') filter.scope = '';
      else if (scope !== undefined) filter.scope = scope;
    }
    const limit = limitOf(args);
    if (limit !== undefined) filter.limit = limit;
    await withService(globals, io, async (service) => {
      const records = await service.history(filter);
      if (globals.json) {
        printJson(io, {
          key,
          items: records.map((r) => ({
            seq: r.seq,
            level: r.level,
            scope: r.scope,
            key: r.key,
            ...changeJson(r),
            ...(r.status !== undefined ? { status: r.status } : {}),
          })),
        });
        return;
      }
      if (records.length === 0) {
        io.stdout(`No history for ${key}.\n`);
        return;
      }
      const rows = [['when', 'who', 'where', 'change', 'old', 'new', 'reason']];
      for (const r of records) {
        const change = r.status !== undefined ? `${r.changeType} (${r.status})` : r.changeType;
        rows.push([
          r.changedAt,
          r.changedBy,
          r.level === 'global' ? 'global' : `${r.level} ${r.scope}`,
          change,
          shown(r.oldValue),
          shown(r.newValue),
          r.reason ?? '',
        ]);
      }
      io.stdout(`${columns(rows)}\n`);
    });
  },
};

/** The --json fields every history item has, value and directory history alike. */
function changeJson(r: AuditChange): Record<string, string | null> {
  return {
    old_value: r.oldValue,
    new_value: r.newValue,
    change_type: r.changeType,
    changed_by: r.changedBy,
    changed_at: r.changedAt,
    reason: r.reason,
    push_id: r.pushId,
  };
}

function limitOf(args: CommandArgs): number | undefined {
  const limit = str(args, 'limit');
  if (limit === undefined) return undefined;
  if (!/^\d+$/.test(limit) || Number(limit) < 1)
    throw usage('--limit must be a whole number of at least 1.');
  return Number(limit);
}

async function directoryHistory(
  args: CommandArgs,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  if (str(args, 'level') !== undefined || str(args, 'scope') !== undefined) {
    throw usage(
      '--level and --scope name configuration slots; with --directory use <id> and --kind.',
    );
  }
  if (args.positionals.length > 1) {
    throw usage(
      `Unexpected argument '${args.positionals[1]!.slice(0, 40)}'; see \`strata history --help\`.`,
    );
  }
  const filter: DirectoryHistoryFilter = {};
  const [ref] = args.positionals;
  if (ref !== undefined) filter.ref = ref;
  const kind = str(args, 'kind');
  if (kind !== undefined) {
    if (!(DIRECTORY_AUDIT_KINDS as readonly string[]).includes(kind)) {
      throw usage(`--kind must be one of ${DIRECTORY_AUDIT_KINDS.join(', ')}.`);
    }
    filter.kind = kind as DirectoryAuditKind;
  }
  const limit = limitOf(args);
  if (limit !== undefined) filter.limit = limit;
  await withService(globals, io, async (service) => {
    const records = await service.directoryHistory(filter);
    if (globals.json) {
      printJson(io, {
        items: records.map((r) => ({
          seq: r.seq,
          kind: r.kind,
          id: r.ref,
          field: r.field,
          ...changeJson(r),
        })),
      });
      return;
    }
    if (records.length === 0) {
      io.stdout(`No directory history${ref !== undefined ? ` for ${ref}` : ''}.\n`);
      return;
    }
    const rows = [['when', 'who', 'what', 'field', 'change', 'old', 'new', 'reason']];
    for (const r of records) {
      rows.push([
        r.changedAt,
        r.changedBy,
        `${r.kind} ${r.ref}`,
        r.kind === 'membership' ? `group ${r.field}` : r.field,
        r.changeType,
        r.oldValue ?? '',
        r.newValue ?? '',
        r.reason ?? '',
      ]);
    }
    io.stdout(`${columns(rows)}\n`);
  });
}
