/**
 * Helpers for the security integration tests: apply the PostgreSQL migrations in filename order
 * (a tiny stand-in for the real runner), create throw-away LOGIN roles that are members of
 * strata_app, and connect as them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { pgAdminUrl } from '../helpers/pg.js';

const MIGRATIONS = join(process.cwd(), 'migrations', 'postgres');

/** The migration files in the order they are applied. */
export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
}

/** Applies the migration files (all, or those accepted by `filter`), each in one transaction. */
export async function applyMigrations(
  url: string,
  filter: (file: string) => boolean = () => true,
): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const file of migrationFiles().filter(filter)) {
      const sql = readFileSync(join(MIGRATIONS, file), 'utf8');
      try {
        await c.query(`BEGIN;\n${sql}\nCOMMIT;`);
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    await c.end();
  }
}

/** Opens a client; the caller ends it. */
export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  // A refused statement surfaces as a rejected query; an idle-connection error must not crash.
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Runs fn with a fresh client and always closes it. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connect(url);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The number a counting query returns in its column `n` (e.g. `SELECT count(*) AS n ...`). */
export async function countOf(url: string, sql: string, values: unknown[] = []): Promise<number> {
  return withClient(url, async (c) => Number((await c.query(sql, values)).rows[0].n));
}

/** `url` with the user and password replaced. */
export function urlAs(url: string, role: string, password: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = password;
  return u.toString();
}

const createdRoles: string[] = [];

/** Creates a LOGIN role (member of strata_app unless `member` is false) with a random name. */
export async function createLoginRole(
  label: string,
  member = true,
): Promise<{ role: string; password: string }> {
  const role = `sx_${randomBytes(4).toString('hex')}_${label}`;
  const password = randomBytes(12).toString('hex');
  await withClient(pgAdminUrl(), async (c) => {
    // strata_app is created by the migration; make sure it exists before granting it.
    await c.query(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'strata_app') THEN CREATE ROLE strata_app NOLOGIN; END IF;
       EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    );
    await c.query(
      `CREATE ROLE ${role} LOGIN PASSWORD '${password}'${member ? ' IN ROLE strata_app' : ''}`,
    );
  });
  createdRoles.push(role);
  return { role, password };
}

/** Drops the roles this file created (call after dropTestDatabases, which removes their grants). */
export async function dropCreatedRoles(): Promise<void> {
  await withClient(pgAdminUrl(), async (c) => {
    for (const role of createdRoles.splice(0)) {
      await c.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()',
        [role],
      );
      await c.query(`DROP ROLE IF EXISTS ${role}`);
    }
  });
}

/** The SQLSTATE and message of a rejected query, or null when it succeeded. */
export async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string } | null> {
  try {
    await p;
    return null;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { code: e.code ?? '', message: e.message ?? String(err) };
  }
}
