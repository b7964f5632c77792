/**
 * The audit trail is append-only and tamper-evident: nobody edits it through SQL, and
 * verifyAuditChain (an independent JavaScript recomputation) finds the first row that was edited,
 * removed or cut off when someone goes around the triggers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import {
  applyMigrations,
  connect,
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';
import { verifyAuditChain } from '../../src-main/services/audit-verify.js';

let url = '';
let app: { role: string; password: string };

beforeAll(async () => {
  url = await createTestDatabase('strata_sec_audit');
  await applyMigrations(url);
  app = await createLoginRole('auditor');
  await withClient(url, async (c) => {
    await c.query(`INSERT INTO tenants (id, name) VALUES ('mercy', 'Mercy')`);
    await c.query(
      `INSERT INTO departments (tenant_id, id, name) VALUES ('mercy', 'medical', 'Medical')`,
    );
    await c.query(
      `INSERT INTO users (id, tenant_id, traits, db_role) VALUES ('root', NULL, '{admin_capable,config_write,super_admin}', $1)`,
      [app.role],
    );
  });
  // A varied history: several statements, many rows per statement, NULLs, unicode, reasons, pushes.
  await withClient(urlAs(url, app.role, app.password), async (c) => {
    await c.query('BEGIN');
    await c.query(
      `SELECT set_config('strata.reason', 'initial import ☃ — ünïcode 𝄞', true), set_config('strata.push_id', 'push-1', true)`,
    );
    await c.query(
      `INSERT INTO config_tenant (tenant_id, key, value) SELECT 'mercy', 'k.' || i, 'v' || i FROM generate_series(1, 300) i`,
    );
    await c.query(
      `INSERT INTO config_global (key, value, value_type) VALUES ('fax.enabled', 'true', 'boolean')`,
    );
    await c.query('COMMIT');
    await c.query(`UPDATE config_tenant SET value = value || '→x' WHERE key LIKE 'k.1%'`);
    await c.query(`DELETE FROM config_tenant WHERE key LIKE 'k.2%'`);
    await c.query(
      `INSERT INTO config_department (tenant_id, department, key, value) VALUES ('mercy', 'medical', 'multi.line', E'a\\nb;c:d~')`,
    );
  });
});

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

describe('append-only audit', () => {
  it('the application role cannot insert, update, delete or truncate audit rows', async () => {
    await withClient(urlAs(url, app.role, app.password), async (c) => {
      const count = Number((await c.query('SELECT count(*) FROM config_audit')).rows[0].count);
      expect(count).toBeGreaterThan(300);
      for (const sql of [
        `INSERT INTO config_audit (config_table, key, change_type, changed_by) VALUES ('global', 'x', 'create', 'forged')`,
        `UPDATE config_audit SET new_value = 'x'`,
        `DELETE FROM config_audit`,
        `TRUNCATE config_audit`,
        `UPDATE strata_audit_head SET last_seq = 0`,
      ]) {
        const e = await failure(c.query(sql));
        expect(e?.code, sql).toBe('42501');
      }
    });
  });

  it('the owner is stopped by the triggers too', async () => {
    await withClient(url, async (c) => {
      for (const [sql, op] of [
        ['UPDATE config_audit SET new_value = $1', 'UPDATE'],
        ['DELETE FROM config_audit WHERE key = $1', 'DELETE'],
      ] as const) {
        const e = await failure(c.query(sql, ['x']));
        expect(e).toEqual({
          code: '42501',
          message: `config_audit is append-only: ${op} is not allowed.`,
        });
      }
      expect(await failure(c.query('TRUNCATE config_audit'))).toEqual({
        code: '42501',
        message: 'config_audit is append-only: TRUNCATE is not allowed.',
      });
      expect((await failure(c.query('UPDATE strata_audit_head SET last_seq = 0')))?.code).toBe(
        '42501',
      );
      // TRUNCATE fires no DELETE trigger, so it would remove values without audit rows.
      const before = (await c.query('SELECT count(*)::int AS n FROM config_tenant')).rows[0].n;
      for (const t of [
        'config_global',
        'config_tenant',
        'config_department',
        'config_group',
        'config_user',
      ]) {
        expect(await failure(c.query(`TRUNCATE ${t}`))).toEqual({
          code: '42501',
          message: `TRUNCATE of ${t} is not allowed: it would remove values without audit rows.`,
        });
      }
      expect((await c.query('SELECT count(*)::int AS n FROM config_tenant')).rows[0].n).toBe(
        before,
      );
      expect(before).toBeGreaterThan(0);
    });
  });

  it('verifies an intact chain, from a pool and from a client', async () => {
    const total = Number(
      (await withClient(url, (c) => c.query('SELECT count(*) FROM config_audit'))).rows[0].count,
    );
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const r = await verifyAuditChain(pool, { batchSize: 37 });
      expect(r).toMatchObject({ ok: true, rows: total });
    } finally {
      await pool.end();
    }
    // A mapped super_admin may verify too; the result is the same.
    await withClient(urlAs(url, app.role, app.password), async (c) => {
      expect(await verifyAuditChain(c)).toMatchObject({ ok: true, rows: total });
    });
  });

  it('keeps one chain when two writers overlap, and makes a stale REPEATABLE READ writer retry', async () => {
    const a = await connect(url);
    const b = await connect(url);
    try {
      await a.query('BEGIN');
      await a.query(`INSERT INTO config_global (key, value) VALUES ('overlap.a1', '1')`);
      await b.query('BEGIN');
      // b takes its default seq now but waits for a's advisory lock before it is chained.
      const bInsert = b.query(`INSERT INTO config_global (key, value) VALUES ('overlap.b1', '1')`);
      await a.query(`INSERT INTO config_global (key, value) VALUES ('overlap.a2', '1')`);
      await a.query('COMMIT');
      await bInsert;
      await b.query('COMMIT');

      await b.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await b.query('SELECT count(*) FROM config_audit'); // the snapshot is taken here
      await a.query(`INSERT INTO config_global (key, value) VALUES ('overlap.a3', '1')`);
      const e = await failure(
        b.query(`INSERT INTO config_global (key, value) VALUES ('overlap.b2', '1')`),
      );
      expect(e?.code).toBe('40001');
      await b.query('ROLLBACK');
    } finally {
      await a.end();
      await b.end();
    }
    await withClient(url, async (c) => {
      const order = await c.query<{ key: string }>(
        `SELECT key FROM config_audit WHERE key LIKE 'overlap.%' ORDER BY seq`,
      );
      expect(order.rows.map((r) => r.key)).toEqual([
        'overlap.a1',
        'overlap.a2',
        'overlap.b1',
        'overlap.a3',
      ]);
      expect(await verifyAuditChain(c)).toMatchObject({ ok: true });
    });
  });

  it('records who, from where, and blocks a push to production without a reason', async () => {
    await withClient(url, async (c) => {
      await c.query(
        `INSERT INTO strata_settings (key, value) VALUES ('environment', 'production')`,
      );
    });
    try {
      await withClient(urlAs(url, app.role, app.password), async (c) => {
        await c.query('BEGIN');
        await c.query(`SELECT set_config('strata.push_id', 'push-prod-1', true)`);
        const e = await failure(
          c.query(`INSERT INTO config_global (key, value) VALUES ('prod.key', 'x')`),
        );
        expect(e).toEqual({
          code: '22023',
          message: 'A reason is required for every push to a production database.',
        });
        await c.query('ROLLBACK');

        await c.query('BEGIN');
        const p = await failure(
          c.query(
            `INSERT INTO config_pushes (id, operator, item_count) VALUES ('push-prod-2', 'root', 1)`,
          ),
        );
        expect(p?.code).toBe('22023');
        await c.query('ROLLBACK');

        await c.query('BEGIN');
        await c.query(
          `SELECT set_config('strata.push_id', 'push-prod-3', true), set_config('strata.reason', 'CHG-1234 enable fax', true)`,
        );
        await c.query(`INSERT INTO config_global (key, value) VALUES ('prod.key', 'x')`);
        await c.query(
          `INSERT INTO config_pushes (id, operator, reason, item_count) VALUES ('push-prod-3', 'root', 'CHG-1234 enable fax', 1)`,
        );
        await c.query('COMMIT');
        // A live change that is not a push does not need a reason.
        await c.query(`UPDATE config_global SET value = 'y' WHERE key = 'prod.key'`);
      });
    } finally {
      await withClient(url, (c) =>
        c.query(`DELETE FROM strata_settings WHERE key = 'environment'`),
      );
    }
    await withClient(url, async (c) => {
      const r = await c.query(
        `SELECT change_type, changed_by, reason, push_id, ip_address IS NOT NULL AS has_ip FROM config_audit WHERE key = 'prod.key' ORDER BY seq`,
      );
      expect(r.rows).toEqual([
        {
          change_type: 'create',
          changed_by: 'root',
          reason: 'CHG-1234 enable fax',
          push_id: 'push-prod-3',
          has_ip: true,
        },
        { change_type: 'update', changed_by: 'root', reason: null, push_id: null, has_ip: true },
      ]);
      expect(await verifyAuditChain(c)).toMatchObject({ ok: true });
    });
  });

  it('records an UPDATE that moves a row to another slot as a removal and a value', async () => {
    await withClient(urlAs(url, app.role, app.password), async (c) => {
      const before = Number((await c.query('SELECT max(seq) AS s FROM config_audit')).rows[0].s);
      const moved = (
        await c.query<{ value: string }>(
          `SELECT value FROM config_tenant WHERE tenant_id = 'mercy' AND key = 'k.30'`,
        )
      ).rows[0]!.value;
      // One statement: k.30 is renamed (its slot changes), k.31 only gets a new value.
      await c.query(
        `UPDATE config_tenant SET key = CASE key WHEN 'k.30' THEN 'k.30.moved' ELSE key END,
                                  value = CASE key WHEN 'k.31' THEN 'v31-new' ELSE value END
         WHERE tenant_id = 'mercy' AND key IN ('k.30', 'k.31')`,
      );
      const rows = await c.query(
        `SELECT config_id, key, old_value, new_value, change_type FROM config_audit
         WHERE seq > $1 ORDER BY seq`,
        [before],
      );
      expect(rows.rows).toEqual([
        {
          config_id: 'mercy',
          key: 'k.30',
          old_value: moved,
          new_value: null,
          change_type: 'delete',
        },
        {
          config_id: 'mercy',
          key: 'k.30.moved',
          old_value: null,
          new_value: moved,
          change_type: 'create',
        },
        {
          config_id: 'mercy',
          key: 'k.31',
          old_value: 'v31',
          new_value: 'v31-new',
          change_type: 'update',
        },
      ]);
      expect(await verifyAuditChain(c)).toMatchObject({ ok: true });
    });
  });
});

/** A fresh database with migrations and some history, for one tampering scenario. */
async function history(): Promise<string> {
  const db = await createTestDatabase('strata_sec_tamper');
  await applyMigrations(db);
  await withClient(db, async (c) => {
    await c.query(
      `INSERT INTO config_global (key, value) SELECT 'g.' || i, 'v' || i FROM generate_series(1, 40) i`,
    );
    await c.query(`UPDATE config_global SET value = value || '!' WHERE key LIKE 'g.1%'`);
    await c.query(`DELETE FROM config_global WHERE key LIKE 'g.3%'`);
  });
  return db;
}

/** Runs SQL as the superuser with the append-only trigger switched off (what only the DBA can do). */
async function behindTheTriggers(db: string, sql: string, values: unknown[] = []): Promise<void> {
  await withClient(db, async (c) => {
    await c.query('BEGIN');
    await c.query('ALTER TABLE config_audit DISABLE TRIGGER strata_append_only');
    await c.query(sql, values);
    await c.query('ALTER TABLE config_audit ENABLE TRIGGER strata_append_only');
    await c.query('COMMIT');
  });
}

async function seqsOf(db: string): Promise<number[]> {
  return withClient(db, async (c) => {
    const r = await c.query<{ seq: string }>('SELECT seq FROM config_audit ORDER BY seq');
    return r.rows.map((x) => Number(x.seq));
  });
}

describe('verifyAuditChain finds tampering', () => {
  it('names the edited row', async () => {
    const db = await history();
    const all = await seqsOf(db);
    expect(await withClient(db, (c) => verifyAuditChain(c))).toMatchObject({
      ok: true,
      rows: all.length,
    });
    const target = all[17]!;
    await behindTheTriggers(db, `UPDATE config_audit SET new_value = 'evil' WHERE seq = $1`, [
      target,
    ]);
    expect(await withClient(db, (c) => verifyAuditChain(c, { batchSize: 7 }))).toEqual({
      ok: false,
      firstBrokenSeq: target,
      reason: `Audit row ${target} does not match its hash: the row was changed after it was written.`,
    });
  });

  it('an edited row whose hash was recomputed breaks the link to the next row', async () => {
    const db = await history();
    const all = await seqsOf(db);
    await behindTheTriggers(db, `UPDATE config_audit SET changed_by = 'mallory' WHERE seq = $1`, [
      all[5],
    ]);
    await behindTheTriggers(
      db,
      `UPDATE config_audit a SET hash = strata_audit_hash(a.prev_hash, a) WHERE seq = $1`,
      [all[5]],
    );
    const r = await withClient(db, (c) => verifyAuditChain(c));
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: all[6] });
    expect(!r.ok && r.reason).toMatch(/does not follow the row before it/);
  });

  it('a removed row breaks the chain at the row after it', async () => {
    const db = await history();
    const all = await seqsOf(db);
    await behindTheTriggers(db, 'DELETE FROM config_audit WHERE seq = $1', [all[30]]);
    expect(await withClient(db, (c) => verifyAuditChain(c))).toMatchObject({
      ok: false,
      firstBrokenSeq: all[31],
    });
  });

  it('removing the newest rows is caught by the chain head', async () => {
    const db = await history();
    const all = await seqsOf(db);
    await behindTheTriggers(db, 'DELETE FROM config_audit WHERE seq >= $1', [all[all.length - 3]]);
    const r = await withClient(db, (c) => verifyAuditChain(c));
    expect(r).toEqual({
      ok: false,
      firstBrokenSeq: all[all.length - 1],
      reason: `The newest audit rows are missing: the chain head names row ${all[all.length - 1]}, the trail ends at ${all[all.length - 4]}.`,
    });
  });

  it('refuses to vouch for a trail the role can only partly read', async () => {
    const db = await history();
    const reader = await createLoginRole('reader');
    await withClient(db, async (c) => {
      await c.query(`INSERT INTO tenants (id, name) VALUES ('t1', 'T1')`);
      await c.query(
        `INSERT INTO users (id, tenant_id, traits, db_role) VALUES ('ta', 't1', '{admin_capable,tenant_admin}', $1)`,
        [reader.role],
      );
    });
    await withClient(urlAs(db, reader.role, reader.password), async (c) => {
      await expect(verifyAuditChain(c)).rejects.toMatchObject({ code: 'forbidden' });
    });
  });

  it('chains history that existed before the security migrations', async () => {
    const db = await createTestDatabase('strata_sec_backfill');
    await applyMigrations(db, (f) => f < '0100');
    await withClient(db, async (c) => {
      await c.query(
        `INSERT INTO config_global (key, value) SELECT 'old.' || i, 'v' || i FROM generate_series(1, 25) i`,
      );
      await c.query(`UPDATE config_global SET value = 'w' WHERE key = 'old.3'`);
    });
    await applyMigrations(db, (f) => f >= '0100');
    await withClient(db, async (c) => {
      await c.query(`INSERT INTO config_global (key, value) VALUES ('new.1', 'v')`);
      expect(await verifyAuditChain(c)).toMatchObject({ ok: true, rows: 27 });
    });
  });
});
