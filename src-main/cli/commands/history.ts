/**
 * `strata history <key>`: the audit trail of a key (config_audit on PostgreSQL, the staged-change
 * log in a draft), newest first. Secret values appear only as fingerprints.
 */
import { parseLevel } from '../../core/keys.js';
import type { HistoryFilter } from '../../services/types.js';
import { columns, positionals, printJson, str, usage } from '../command.js';
import type { CommandImpl } from '../command.js';
import { shown } from '../context-flags.js';
import { withService } from '../service.js';

export const command: CommandImpl = {
  usage: `Usage: strata history <key> [--level <level> [--scope <id>]] [--limit N] [--json]

Shows who changed a key, when, from what to what and why, newest first: config_audit on
PostgreSQL (written by database triggers, so changes made with psql appear too), the
staged-change log in a draft. Secret values show only as fingerprints (secret:fp=...).

  --level, --scope   only this level (and scope)
  --limit N          at most N records (default 1000)
  --json             {"key","items":[{"seq","level","scope","key","old_value","new_value",
                      "change_type","changed_by","changed_at","reason","push_id"}...]}
                     (drafts add "status": staged | pushed | discarded)

Example:
  strata history fax_backend --db postgres://strata@db.example.org/strata`,
  options: { level: { type: 'string' }, scope: { type: 'string' }, limit: { type: 'string' } },
  async run(args, globals, io) {
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
    const limit = str(args, 'limit');
    if (limit !== undefined) {
      if (!/^\d+$/.test(limit) || Number(limit) < 1)
        throw usage('--limit must be a whole number of at least 1.');
      filter.limit = Number(limit);
    }
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
            old_value: r.oldValue,
            new_value: r.newValue,
            change_type: r.changeType,
            changed_by: r.changedBy,
            changed_at: r.changedAt,
            reason: r.reason,
            push_id: r.pushId,
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
