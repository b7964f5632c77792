/**
 * `strata audit verify`: recomputes the hash chain of config_audit and reports the first broken
 * link, so an auditor can tell whether history was edited, removed or cut short.
 */
import { StrataError } from '../../core/types.js';
import { verifyAuditChain } from '../../services/audit-verify.js';
import { isPostgresTarget } from '../../services/targets.js';
import { PostgresStore } from '../../store/postgres-store.js';
import { positionals, printJson, requireDb } from '../command.js';
import type { CommandImpl } from '../command.js';

export const command: CommandImpl = {
  usage: `Usage: strata audit verify --db <postgres URL> [--json]

Recomputes the tamper-evident hash chain of the audit trail (config_audit) and reports the first
row whose link is broken. Exit 0 when the chain is intact, 3 when it is broken.

  --json    {"ok":true,"rows":N,"last_seq":N} or {"ok":false,"first_broken_seq":N,"reason":"..."}

Example:
  strata audit verify --db postgres://auditor@db.example.org/strata`,
  async run(args, globals, io) {
    positionals(args, [], 'audit verify');
    const db = requireDb(globals);
    if (!isPostgresTarget(db)) {
      throw new StrataError(
        'invalid',
        'strata audit verify needs a PostgreSQL database; a draft holds no audit chain.',
      );
    }
    const store = await PostgresStore.open(db, { requireMigrated: true, poolSize: 1 });
    try {
      const result = await verifyAuditChain(store.pool);
      if (globals.json) {
        printJson(
          io,
          result.ok
            ? { ok: true, rows: result.rows, last_seq: result.lastSeq }
            : { ok: false, first_broken_seq: result.firstBrokenSeq, reason: result.reason },
        );
      } else if (result.ok) {
        io.stdout(`The audit chain of ${store.target} is intact (${result.rows} rows).\n`);
      } else {
        io.stdout(`The audit chain is broken at row ${result.firstBrokenSeq}: ${result.reason}\n`);
      }
      return result.ok ? 0 : 3;
    } finally {
      await store.close();
    }
  },
};
