/**
 * The benchmark database: a PostgreSQL server (STRATA_BENCH_PG / STRATA_TEST_PG, or an embedded
 * one started for the run), a fresh database migrated with every migration, the deterministic
 * generated network loaded into it, and, where the server allows it, a LOGIN role mapped to the
 * network's super_admin user so writes can be measured the way the console makes them (row-level
 * security and guard triggers active) as well as as the superuser.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../test/helpers/embedded-pg.js';
import type { RunningPostgres } from '../../test/helpers/embedded-pg.js';
import { loadDemoInto } from '../../src-main/demo/load-demo.js';
import type { DemoDataset } from '../../src-main/demo/hospital-network.js';
import { migratePostgres } from '../../src-main/store/migrations.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';
import type { BaseData } from '../../src-main/store/store.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';

/** A server the run can create databases on. */
export interface BenchServer {
  /** Superuser URL of the maintenance database. */
  adminUrl: string;
  /** Where it came from (for the machine report). */
  origin: 'embedded' | 'STRATA_BENCH_PG' | 'STRATA_TEST_PG' | 'option';
  stop(): Promise<void>;
}

/** Uses the given server, STRATA_BENCH_PG, STRATA_TEST_PG, or starts an embedded one. */
export async function openServer(given?: string | null): Promise<BenchServer> {
  const fromEnv = process.env.STRATA_BENCH_PG
    ? ({ url: process.env.STRATA_BENCH_PG, origin: 'STRATA_BENCH_PG' } as const)
    : process.env.STRATA_TEST_PG
      ? ({ url: process.env.STRATA_TEST_PG, origin: 'STRATA_TEST_PG' } as const)
      : null;
  if (given) return { adminUrl: given, origin: 'option', stop: async () => undefined };
  if (fromEnv)
    return { adminUrl: fromEnv.url, origin: fromEnv.origin, stop: async () => undefined };
  const running: RunningPostgres = await startEmbeddedPostgres();
  return { adminUrl: running.url, origin: 'embedded', stop: () => running.stop() };
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** `url` with other credentials. */
export function withUser(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The run's database, its URLs and how to remove it. */
export interface BenchDatabase {
  name: string;
  /** Superuser URL of the benchmark database. */
  url: string;
  /** URL of the mapped application role, or null (with the reason) when it could not be made. */
  appUrl: string | null;
  appWhy: string | null;
  /** The application LOGIN role (a member of strata_app), when one was made. */
  role: string | null;
  /** Directory user the application role is mapped to. */
  appUser: string | null;
  drop(): Promise<void>;
}

/** Creates and migrates a fresh database on the server. */
export async function createDatabase(server: BenchServer, prefix: string): Promise<BenchDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const name = `${prefix}_${suffix}`;
  await admin(server.adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(server.adminUrl, name);
  await admin(url, (c) => migratePostgres(c));
  const role = `strata_bench_${suffix}`;
  let roleMade = false;
  const db: BenchDatabase = {
    name,
    url,
    appUrl: null,
    appWhy: 'not created yet',
    role: null,
    appUser: null,
    async drop() {
      await admin(server.adminUrl, async (c) => {
        await c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
        if (roleMade) await c.query(`DROP ROLE IF EXISTS ${role}`);
      });
    },
  };
  try {
    const password = randomBytes(12).toString('hex');
    await admin(server.adminUrl, async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE strata_app`);
    });
    roleMade = true;
    db.appUrl = withUser(url, role, password);
    db.appWhy = null;
    db.role = role;
  } catch (err) {
    db.appWhy = `could not create a login role (${(err as Error).message})`;
  }
  return db;
}

/**
 * Maps the application role to a directory user (after the dataset is loaded) and checks that it
 * can connect; on failure the database keeps appUrl null and says why.
 */
export async function mapApplicationRole(db: BenchDatabase, userId: string): Promise<void> {
  const role = db.role;
  if (db.appUrl === null || role === null) return;
  try {
    await admin(db.url, (c) =>
      c.query('UPDATE users SET db_role = $1 WHERE id = $2', [role, userId]),
    );
    await admin(db.appUrl, (c) => c.query('SELECT 1'));
    db.appUser = userId;
  } catch (err) {
    db.appUrl = null;
    db.appWhy = `the mapped role could not connect (${(err as Error).message})`;
  }
}

/** The generated dataset as the store's bulk-load input (the generator has no secrets). */
export function baseDataOf(dataset: DemoDataset): BaseData {
  return {
    directory: dataset.directory,
    metadata: dataset.metadata,
    entries: dataset.entries.map((e) => ({
      level: e.level,
      scope: e.scope,
      key: e.key,
      value: e.value,
      valueType: e.valueType,
      encrypted: false,
      locked: e.locked,
    })),
  };
}

/**
 * Loads the dataset: through `loadDemoInto` (exactly what `strata demo --scale N` does) when it
 * is a standard scale, else straight through the store's bulk load. Analyzes afterwards so the
 * planner sees the real table sizes.
 */
export async function loadDataset(
  db: BenchDatabase,
  dataset: DemoDataset,
  standardScale: number | null,
): Promise<void> {
  const store = await PostgresStore.open(db.url);
  try {
    if (standardScale !== null) {
      await loadDemoInto(store, {
        scale: standardScale,
        operator: 'strata-bench',
        codec: codecChoiceOf(null),
      });
    } else {
      await store.loadBase(baseDataOf(dataset), {
        operator: 'strata-bench',
        reason: 'strata bench dataset',
      });
    }
  } finally {
    await store.close();
  }
  await admin(db.url, (c) => c.query('VACUUM ANALYZE'));
}

/** Server version text (for the machine report). */
export async function serverVersion(url: string): Promise<string> {
  return admin(url, async (c) => {
    const r = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return r.rows[0]!.v;
  });
}
