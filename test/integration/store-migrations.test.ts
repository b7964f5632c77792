/**
 * The migration runner against real PostgreSQL and real SQLite files: ordered, idempotent,
 * recorded with checksums, --print changes nothing, drift and unknown versions stop the run, and
 * the seed's example INSERTs run unchanged on a freshly migrated database.
 */
import { cpSync, readFileSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appliedPostgres,
  appliedSqlite,
  migratePostgres,
  migrateSqlite,
  migrationsDir,
  readMigrations,
} from '../../src-main/store/migrations.js';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import { pgQuery, tempDir } from './service-fixtures.js';

afterAll(dropTestDatabases);

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The first seed's example INSERT statements, verbatim. */
const SEED_INSERTS = `
-- Global defaults (platform-wide)
INSERT INTO config_global (key, value, description) VALUES
('fax_backend', 'phaxio', 'Default fax provider'),
('hipaa_mode', 'false', 'Default HIPAA compliance mode'),
('email_gateway_enabled', 'false', 'Email gateway availability'),
('max_file_size_mb', '10', 'Maximum file upload size');

-- Mercy Hospital tenant configuration
INSERT INTO config_tenant (tenant_id, key, value) VALUES
('mercy_hospital', 'fax_backend', 'phaxio'),
('mercy_hospital', 'hipaa_mode', 'true'),
('mercy_hospital', 'organization_name', 'Mercy Hospital Network'),
('mercy_hospital', 'branding_color', '#2E7D99');

-- Medical department configuration
INSERT INTO config_department (tenant_id, department, key, value) VALUES
('mercy_hospital', 'medical', 'hipaa_mode', 'true'),
('mercy_hospital', 'medical', 'phi_access_enabled', 'true'),
('mercy_hospital', 'medical', 'email_gateway_enabled', 'false');

-- Marketing department configuration
INSERT INTO config_department (tenant_id, department, key, value) VALUES
('mercy_hospital', 'marketing', 'hipaa_mode', 'false'),
('mercy_hospital', 'marketing', 'phi_access_enabled', 'false'),
('mercy_hospital', 'marketing', 'email_gateway_enabled', 'true');

-- Emergency doctors group configuration
INSERT INTO config_group (group_id, key, value) VALUES
('emergency_doctors_group', 'fax_backend', 'sip'),  -- Need faster SIP for emergencies
('emergency_doctors_group', 'priority_processing', 'true'),
('emergency_doctors_group', 'notification_urgency', 'high');
`;

describe('PostgreSQL migrations', () => {
  it('applies every file in order, records checksums, and does nothing the second time', async () => {
    const url = await createTestDatabase();
    const files = readMigrations('postgres');
    expect(files.map((f) => f.version)).toEqual(
      [...files.map((f) => f.version)].sort((a, b) => a - b),
    );
    expect(files[0]!.name).toBe('0001_core.sql');
    await withClient(url, async (c) => {
      const first = await migratePostgres(c);
      expect(first.applied).toEqual(files.map((f) => f.name));
      const applied = await appliedPostgres(c);
      expect(applied.map((a) => [a.version, a.name, a.checksum])).toEqual(
        files.map((f) => [f.version, f.name, f.checksum]),
      );
      const second = await migratePostgres(c);
      expect(second.applied).toEqual([]);
      expect(second.pending).toEqual([]);
      expect((await appliedPostgres(c)).length).toBe(files.length);
    });
  });

  it('--print returns the pending SQL and changes nothing', async () => {
    const url = await createTestDatabase();
    await withClient(url, async (c) => {
      const printed = await migratePostgres(c, { print: true });
      expect(printed.applied).toEqual([]);
      expect(printed.pending[0]).toBe('0001_core.sql');
      expect(printed.sql).toContain('CREATE TABLE config_global');
      expect(printed.sql).toContain(
        "INSERT INTO strata_migrations (version, name, checksum) VALUES (1, '0001_core.sql'",
      );
      const t = await c.query(
        "SELECT to_regclass('strata_migrations') AS m, to_regclass('config_global') AS g",
      );
      expect(t.rows[0]).toEqual({ m: null, g: null });
    });
  });

  it('the printed SQL is exactly what a DBA can run with psql', async () => {
    const url = await createTestDatabase();
    const sql = await withClient(
      url,
      async (c) => (await migratePostgres(c, { print: true })).sql!,
    );
    await withClient(url, async (c) => {
      await c.query(sql);
      const after = await migratePostgres(c, { print: true });
      expect(after.pending).toEqual([]);
      expect(after.sql).toContain('up to date');
    });
  });

  it('refuses a migration file changed after it was applied, and an unknown applied version', async () => {
    const url = await createTestDatabase();
    const dir = join(tempDir(), 'postgres');
    cpSync(migrationsDir('postgres'), dir, { recursive: true });
    await withClient(url, async (c) => {
      await migratePostgres(c, { dir });
      appendFileSync(join(dir, '0001_core.sql'), '\n-- edited after the fact\n');
      await expect(migratePostgres(c, { dir })).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(
          /^Migration 0001_core\.sql was changed after it was applied/,
        ),
      });
      await expect(migratePostgres(c, { dir, print: true })).rejects.toMatchObject({
        code: 'conflict',
      });
      await c.query(
        "INSERT INTO strata_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')",
      );
      await expect(migratePostgres(c)).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringContaining(
          '9999_future.sql that this version of Strata does not know',
        ),
      });
    });
  });

  it('rolls back a failing migration completely', async () => {
    const url = await createTestDatabase();
    const dir = join(tempDir(), 'postgres');
    cpSync(migrationsDir('postgres'), dir, { recursive: true });
    writeFileSync(
      join(dir, '9000_broken.sql'),
      'CREATE TABLE half_made (id int);\nSELECT no_such_function();\n',
    );
    await withClient(url, async (c) => {
      await expect(migratePostgres(c, { dir })).rejects.toMatchObject({
        code: 'internal',
        message: expect.stringContaining('9000_broken.sql failed and was rolled back'),
      });
      const t = await c.query("SELECT to_regclass('half_made') AS h");
      expect(t.rows[0].h).toBeNull();
      const applied = await appliedPostgres(c);
      expect(applied.map((a) => a.name)).not.toContain('9000_broken.sql');
      expect(applied.length).toBe(readMigrations('postgres').length);
    });
  });

  it("runs the seed's example INSERT statements unchanged, audited by the triggers", async () => {
    const url = await createTestDatabase();
    await withClient(url, (c) => migratePostgres(c));
    await withClient(url, (c) => c.query(SEED_INSERTS));
    const counts = await pgQuery<{ t: string; n: number }>(
      url,
      `SELECT 'global' AS t, count(*)::int AS n FROM config_global UNION ALL SELECT 'tenant', count(*)::int FROM config_tenant
       UNION ALL SELECT 'department', count(*)::int FROM config_department UNION ALL SELECT 'group', count(*)::int FROM config_group`,
    );
    expect(Object.fromEntries(counts.map((r) => [r.t, r.n]))).toEqual({
      global: 4,
      tenant: 4,
      department: 6,
      group: 3,
    });
    const audit = await pgQuery<{ n: number }>(url, 'SELECT count(*)::int AS n FROM config_audit');
    expect(audit[0]!.n).toBe(17);
    const v = await pgQuery<{ version: number; value_type: string }>(
      url,
      "SELECT version::int, value_type FROM config_group WHERE group_id = 'emergency_doctors_group' AND key = 'fax_backend'",
    );
    expect(v[0]).toEqual({ version: 1, value_type: 'string' });
  });
});

describe('SQLite migrations', () => {
  it('applies in order, records checksums, is idempotent, and --print changes nothing', () => {
    const path = join(tempDir(), 'm.sqlite');
    const db = new Database(path);
    try {
      const printed = migrateSqlite(db, { print: true });
      expect(printed.pending).toEqual(readMigrations('sqlite').map((f) => f.name));
      expect(printed.sql).toContain('CREATE TABLE staged_changes');
      expect(
        db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get(),
      ).toEqual({ n: 0 });
      const first = migrateSqlite(db);
      expect(first.applied).toEqual(printed.pending);
      expect(appliedSqlite(db).map((a) => a.checksum)).toEqual(
        readMigrations('sqlite').map((f) => f.checksum),
      );
      expect(migrateSqlite(db).applied).toEqual([]);
      expect(db.prepare("SELECT value FROM draft_meta WHERE key = 'format'").get()).toEqual({
        value: 'strata-draft',
      });
    } finally {
      db.close();
    }
  });

  it('treats CRLF line endings as the same file (no false drift on Windows checkouts)', () => {
    const dir = join(tempDir(), 'sqlite');
    cpSync(migrationsDir('sqlite'), dir, { recursive: true });
    const db = new Database(join(tempDir(), 'crlf.sqlite'));
    try {
      migrateSqlite(db, { dir });
      const file = join(dir, '0001_core.sql');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
      expect(migrateSqlite(db, { dir }).applied).toEqual([]);
      writeFileSync(file, `${readFileSync(file, 'utf8')}-- changed\r\n`);
      expect(() => migrateSqlite(db, { dir })).toThrow(
        /0001_core\.sql was changed after it was applied/,
      );
    } finally {
      db.close();
    }
    expect(existsSync(dir)).toBe(true);
  });
});
