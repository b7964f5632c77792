/**
 * Real workspaces for console tests: a SQLite demo workspace in a temp folder and a migrated
 * PostgreSQL database with the demo network, both opened through the real config service.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { migratePostgres } from '../../src-main/store/migrations.js';
import { createTestDatabase } from '../helpers/pg.js';

/** An environment with a fresh encryption key, so demo secrets are stored (encrypted). */
export function secretEnv(): Record<string, string | undefined> {
  return { ...process.env, CONFIG_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
}

/** A temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'strata-console-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A SQLite demo workspace opened as `operator`. */
export async function openSqliteDemo(
  dir: string,
  operator = 'superadmin',
  env = secretEnv(),
): Promise<{ service: ConfigService; db: string; env: Record<string, string | undefined> }> {
  const db = join(dir, `demo-${randomBytes(3).toString('hex')}.sqlite`);
  await loadDemo(db, { env });
  return { service: await openService({ db, operator, env }), db, env };
}

/** A fresh migrated PostgreSQL database with the demo network, opened as `operator`. */
export async function openPostgresDemo(
  operator = 'superadmin',
  env = secretEnv(),
): Promise<{ service: ConfigService; db: string; env: Record<string, string | undefined> }> {
  const db = await createTestDatabase('strata_console');
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    await migratePostgres(client);
  } finally {
    await client.end();
  }
  await loadDemo(db, { env });
  return { service: await openService({ db, operator, env }), db, env };
}

/** Labels a PostgreSQL database's environment (e.g. production), as an admin's setup would. */
export async function labelEnvironment(db: string, environment: string): Promise<void> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    await client.query(
      "INSERT INTO strata_settings (key, value) VALUES ('environment', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
      [environment],
    );
  } finally {
    await client.end();
  }
}
