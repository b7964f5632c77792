/**
 * Which PostgreSQL database a draft is planned and pushed against: the one it was pulled from
 * (its recorded source, without password: the password comes from PGPASSWORD or ~/.pgpass), or
 * for a fresh draft the one named with --to. A pulled draft is never pushed to another database:
 * its base versions mean nothing there (use `strata promote` to carry changes across).
 */
import { StrataError } from '../core/types.js';
import { PostgresStore } from '../store/postgres-store.js';
import { redactUrl } from '../store/store.js';
import type { DraftWorkspace } from './draft-workspace.js';
import { isPostgresTarget } from './targets.js';

/** A chosen target: the URL to connect with and its display form. */
export interface TargetChoice {
  url: string;
  /** The URL with the password removed (what the draft records and messages show). */
  target: string;
}

/** Checks that a string names a PostgreSQL database. */
export function assertPostgresUrl(url: unknown, what = 'The target'): string {
  const s = typeof url === 'string' ? url.trim() : '';
  if (!isPostgresTarget(s)) {
    throw new StrataError(
      'invalid',
      `${what} must be a postgres:// or postgresql:// URL, not ${s === '' ? 'an empty string' : `'${redactUrl(s).slice(0, 80)}'`}.`,
    );
  }
  return s;
}

/**
 * Which database a URL names, whoever connects: host, port and database name. A draft pulled by
 * one administrator may be pushed by another, connecting as their own role.
 */
export function databaseId(url: string): string {
  try {
    const u = new URL(url);
    const host = (u.hostname || u.searchParams.get('host') || 'localhost').toLowerCase();
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username);
    return `${host}:${u.port || '5432'}/${db}`;
  } catch {
    return redactUrl(url);
  }
}

/** The database a draft plans and pushes against. */
export function chooseTarget(ws: DraftWorkspace, to?: string | null): TargetChoice {
  const source = ws.source();
  if (to !== undefined && to !== null && to !== '') {
    const url = assertPostgresUrl(to, '--to');
    const target = redactUrl(url);
    if (source !== null && databaseId(source) !== databaseId(url)) {
      throw new StrataError(
        'invalid',
        `Draft ${ws.path} was pulled from ${source}, not ${target}; push it where it came from, or carry its changes over with \`strata promote\`.`,
      );
    }
    return { url, target };
  }
  if (source === null) {
    throw new StrataError(
      'invalid',
      `Draft ${ws.path} has no source yet; name the database its first push creates everything in with --to <postgres-url>.`,
    );
  }
  return { url: source, target: source };
}

/** Opens a migrated PostgreSQL target (clear one-sentence errors when it is not). */
export async function openTarget(url: string): Promise<PostgresStore> {
  try {
    return await PostgresStore.open(url, { requireMigrated: true });
  } catch (err) {
    // A recorded source has no password; the driver's own words for that are cryptic.
    if (err instanceof StrataError && /password must be a string/.test(err.message)) {
      throw new StrataError(
        'invalid',
        `Cannot connect to ${redactUrl(url)}: no password was given; set PGPASSWORD (or use ~/.pgpass), or give the full URL with --to.`,
      );
    }
    throw err;
  }
}
