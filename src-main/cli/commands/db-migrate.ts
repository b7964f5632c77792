/**
 * `strata db migrate [--print]`: applies pending numbered migrations (each in a transaction,
 * recorded in strata_migrations), or with --print writes the exact SQL it would run and changes
 * nothing, so a DBA can review it first.
 */
import { isPostgresTarget } from '../../services/targets.js';
import { migratePostgres } from '../../store/migrations.js';
import type { MigrateResult } from '../../store/migrations.js';
import { PostgresStore } from '../../store/postgres-store.js';
import { SqliteStore, pendingDraftMigrations } from '../../store/sqlite-store.js';
import { seedBuiltinTemplates } from '../../services/template-store.js';
import { positionals, printJson, requireDb } from '../command.js';
import type { CommandImpl } from '../command.js';

export const command: CommandImpl = {
  usage: `Usage: strata db migrate --db <target> [--print] [--json]

Applies the numbered SQL files under migrations/postgres (or migrations/sqlite for a draft)
that the database has not applied yet, in order, each in its own transaction, and records each
in strata_migrations (version, name, checksum, applied_at). Running it again does nothing.
A migration file changed after it was applied stops the run (exit 3).

  --print   write the pending SQL to stdout without applying anything (for DBA review);
            a .sqlite path that does not exist yet is not created
  --json    {"dialect","target","applied":[...],"pending":[...]} (with --print also "sql")

Examples:
  strata db migrate --db postgres://strata@db.example.org/strata --print > pending.sql
  strata db migrate --db postgres://strata@db.example.org/strata
  strata db migrate --db ./draft.sqlite`,
  options: { print: { type: 'boolean' } },
  async run(args, globals, io) {
    positionals(args, [], 'db migrate');
    const db = requireDb(globals);
    const print = args.values.print === true;
    let result: MigrateResult;
    let target: string;
    if (isPostgresTarget(db)) {
      const store = await PostgresStore.open(db, { requireMigrated: false, poolSize: 1 });
      target = store.target;
      try {
        const client = await store.pool.connect();
        try {
          result = await migratePostgres(client, { print });
        } finally {
          client.release();
        }
        if (!print) await seedBuiltinTemplates(store);
      } finally {
        await store.close();
      }
    } else if (print) {
      target = db;
      result = pendingDraftMigrations(db);
    } else {
      const store = SqliteStore.open(db, { create: true });
      target = store.target;
      result = store.migrated ?? { dialect: 'sqlite', applied: [], pending: [] };
      await seedBuiltinTemplates(store).finally(() => store.close());
    }
    if (globals.json) {
      printJson(io, {
        dialect: result.dialect,
        target,
        applied: result.applied,
        pending: result.pending,
        ...(print ? { sql: result.sql } : {}),
      });
    } else if (print) {
      io.stdout(result.sql ?? '');
    } else if (result.applied.length === 0) {
      io.stdout(`${target} is up to date; nothing to apply.\n`);
    } else {
      io.stdout(`Applied ${result.applied.join(', ')} to ${target}.\n`);
    }
  },
};
