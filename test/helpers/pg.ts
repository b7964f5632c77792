/**
 * Per-test-file PostgreSQL databases on the run's real server: each call creates a fresh,
 * empty database and returns its URL; dropDatabases() removes them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

const created: string[] = [];

/** The superuser URL of the test server. */
export function pgAdminUrl(): string {
  return inject('pgAdminUrl');
}

/** Returns `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a fresh empty database and returns its superuser URL. */
export async function createTestDatabase(prefix = 'strata_t'): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  created.push(name);
  return withDatabase(pgAdminUrl(), name);
}

/** Drops every database this file created (terminating leftover connections first). */
export async function dropTestDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    for (const name of created.splice(0)) {
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    }
  } finally {
    await admin.end();
  }
}
