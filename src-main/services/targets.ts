/**
 * Connection targets: a PostgreSQL URL (postgres:// or postgresql://) or a path to a SQLite
 * draft workspace. One place decides which, so every front door treats `--db` alike.
 */
import { StrataError } from '../core/types.js';
import { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';

/** True when the target names a PostgreSQL database. */
export function isPostgresTarget(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db.trim());
}

/** True when the target starts with a URL scheme (any, not only PostgreSQL's). */
export function hasUrlScheme(db: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(db);
}

/** Options for opening a target's store. */
export interface OpenStoreOptions {
  /** SQLite: create (and migrate) the workspace when the file does not exist. */
  create?: boolean;
  /** PostgreSQL: refuse a database with pending migrations (default true). */
  requireMigrated?: boolean;
}

/** Opens the store behind a target. */
export async function openStore(db: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const target = typeof db === 'string' ? db.trim() : '';
  if (target === '') {
    throw new StrataError(
      'invalid',
      'No database given: pass --db <postgres URL or .sqlite path> or set STRATA_DB.',
    );
  }
  if (isPostgresTarget(target)) {
    return PostgresStore.open(target, { requireMigrated: opts.requireMigrated ?? true });
  }
  if (hasUrlScheme(target)) {
    throw new StrataError(
      'invalid',
      `Unsupported database URL scheme in ${target.split('://')[0]}://...; use postgres:// or a .sqlite path.`,
    );
  }
  return SqliteStore.open(target, { create: opts.create ?? false });
}
