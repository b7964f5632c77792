/**
 * The set-based write checks of migration 0240: rights, values and versions are checked once per
 * statement over its transition tables, and a statement with one bad row is refused as a whole,
 * with the same sentence the per-row triggers gave. The audit chain written by the set-based
 * audit trigger verifies after a 10,000-change push, and a row tampered with in the middle of
 * one statement's rows is found.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src-main/services/audit-verify.js';
import { pushDraft } from '../../src-main/services/push-service.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  countOf,
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';
import { draftWithBulkChanges, migratedPg, tempDir } from './service-fixtures.js';

let url = '';
let rootUrl = '';
let deptUrl = '';

beforeAll(async () => {
  url = await migratedPg();
  const root = await createLoginRole('stroot');
  const dept = await createLoginRole('stdept');
  rootUrl = urlAs(url, root.role, root.password);
  deptUrl = urlAs(url, dept.role, dept.password);
  await withClient(url, async (c) => {
    await c.query(
      `INSERT INTO tenants (id, name) VALUES ('mercy', 'Mercy'), ('general', 'General')`,
    );
    await c.query(
      `INSERT INTO departments (tenant_id, id, name) VALUES ('mercy', 'medical', 'Medical'),
         ('mercy', 'it', 'IT'), ('general', 'er', 'ER')`,
    );
    await c.query(
      `INSERT INTO users (id, tenant_id, department, traits, db_role) VALUES
         ('root', NULL, NULL, '{admin_capable,config_write,super_admin}', $1),
         ('medic_admin', 'mercy', 'medical', '{admin_capable,config_write,dept_admin}', $2)`,
      [root.role, dept.role],
    );
    await c.query(
      `INSERT INTO configuration_metadata (key, category, config_key, display_name, value_type, validation_rules)
       VALUES ('limits.max_sessions', 'limits', 'max_sessions', 'Max sessions', 'number', '{"min": 1, "max": 10}'),
              ('ui.theme', 'ui', 'theme', 'Theme', 'string', '{"options": ["light", "dark"]}')`,
    );
  });
});

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

function count(sql: string, values: unknown[] = []): Promise<number> {
  return countOf(url, sql, values);
}

describe('values, once per statement', () => {
  it('a multi-row INSERT with one invalid value is refused as a whole, naming the key', async () => {
    const audit = await count('SELECT count(*) AS n FROM config_audit');
    for (const who of [url, rootUrl]) {
      const e = await withClient(who, (c) =>
        failure(
          c.query(
            `INSERT INTO config_tenant (tenant_id, key, value, value_type) VALUES
               ('mercy', 'a.first', 'x', 'string'),
               ('mercy', 'limits.max_sessions', '42', 'number'),
               ('mercy', 'ui.theme', 'dark', 'string')`,
          ),
        ),
      );
      expect(e).toEqual({
        code: '23514',
        message:
          "Key 'limits.max_sessions' at tenant mercy rejects the value (rule max: must be at most 10).",
      });
    }
    expect(await count("SELECT count(*) AS n FROM config_tenant WHERE tenant_id = 'mercy'")).toBe(
      0,
    );
    expect(await count('SELECT count(*) AS n FROM config_audit')).toBe(audit);
  });

  it('a multi-row UPDATE with one invalid value changes no row', async () => {
    await withClient(rootUrl, (c) =>
      c.query(
        `INSERT INTO config_department (tenant_id, department, key, value) VALUES
           ('mercy', 'it', 'ui.theme', 'light'), ('mercy', 'medical', 'ui.theme', 'dark')`,
      ),
    );
    const e = await withClient(rootUrl, (c) =>
      failure(
        c.query(
          `UPDATE config_department SET value = CASE department WHEN 'it' THEN 'dark' ELSE 'purple' END
           WHERE key = 'ui.theme'`,
        ),
      ),
    );
    expect(e).toEqual({
      code: '23514',
      message: `Key 'ui.theme' at department mercy/medical rejects the value (rule options: must be one of "light", "dark").`,
    });
    const rows = await withClient(url, async (c) =>
      (
        await c.query(
          "SELECT department, value, version FROM config_department WHERE key = 'ui.theme' ORDER BY department",
        )
      ).rows.map((r: { department: string; value: string; version: string }) => [
        r.department,
        r.value,
        Number(r.version),
      ]),
    );
    expect(rows).toEqual([
      ['it', 'light', 1],
      ['medical', 'dark', 1],
    ]);
  });
});

describe('values: the set-based check says what strata_value_problem() says', () => {
  const META: Array<[string, string, string, string, boolean]> = [
    // key, value_type, input_type, validation_rules, is_required
    ['p.num', 'number', 'number', '{"min": 1, "max": 10}', false],
    ['p.len', 'string', 'text', '{"minLength": 2, "maxLength": 5}', false],
    ['p.pat', 'string', 'text', '{"pattern": "^[a-z]+$"}', false],
    ['p.badpat', 'string', 'text', '{"pattern": "[[:nosuchclass:]]"}', false],
    ['p.opt', 'string', 'select', '{"options": ["a", "b"]}', false],
    ['p.optnum', 'number', 'select', '{"options": [1, 2.5]}', false],
    ['p.req', 'string', 'text', '{"required": true}', false],
    ['p.isreq', 'string', 'text', '{}', true],
    ['p.json', 'json', 'textarea', '{}', false],
    ['p.bool', 'boolean', 'checkbox', '[]', false],
    ['p.pw', 'string', 'password', '{}', false],
  ];
  const KEYS = [...META.map((m) => m[0]), 'p.free', 'p.api_token'];
  const VALUES = [
    '',
    ' ',
    '1',
    '5',
    '11',
    '1e3',
    '+1',
    '.5',
    '2.50',
    'abc',
    'ABC',
    'a',
    'b',
    'true',
    'false',
    '{"a": 1}',
    '{bad',
    'abcdef',
    'phaxio',
    'enc:v1:0123abcd:0123456789abcdef:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA',
  ];
  const TYPES = ['string', 'number', 'boolean', 'json'];

  it('for single rows and for multi-row statements', async () => {
    await withClient(url, async (c) => {
      for (const [key, type, input, rules, required] of META) {
        await c.query(
          `INSERT INTO configuration_metadata (key, category, config_key, display_name, value_type, input_type, validation_rules, is_required)
           VALUES ($1, 'p', $1, $1, $2, $3, $4::jsonb, $5)`,
          [key, type, input, rules, required],
        );
      }
      const row = fc.record({
        key: fc.constantFrom(...KEYS),
        value: fc.constantFrom(...VALUES),
        type: fc.constantFrom(...TYPES),
        encrypted: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(row, { minLength: 1, maxLength: 4, selector: (r) => r.key }),
          async (rows) => {
            const expected: string[] = [];
            for (const r of rows) {
              const p = await c.query<{ p: string | null }>(
                'SELECT strata_value_problem($1, $2, $3, $4) AS p',
                [r.key, r.value, r.type, r.encrypted],
              );
              const problem = p.rows[0]!.p;
              if (problem !== null)
                expected.push(`Key '${r.key}' at global rejects the value (${problem}).`);
            }
            await c.query('BEGIN');
            const e = await failure(
              c.query(
                `INSERT INTO config_global (key, value, value_type, encrypted)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[])`,
                [
                  rows.map((r) => r.key),
                  rows.map((r) => r.value),
                  rows.map((r) => r.type),
                  rows.map((r) => r.encrypted),
                ],
              ),
            );
            await c.query('ROLLBACK');
            if (expected.length === 0) expect(e).toBeNull();
            else {
              expect(e?.code).toBe('23514');
              expect(expected).toContain(e?.message);
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});

describe('versions', () => {
  it('every row of a multi-row UPDATE is bumped exactly once, whatever the statement sets', async () => {
    await withClient(url, (c) =>
      c.query(
        `INSERT INTO config_group (group_id, key, value) SELECT 'g' || (i % 7), 'v.' || i, 'x' FROM generate_series(1, 60) i`,
      ),
    );
    const versions = async (): Promise<number[]> =>
      withClient(url, async (c) =>
        (
          await c.query<{ version: string }>(
            "SELECT DISTINCT version FROM config_group WHERE key LIKE 'v.%' ORDER BY version",
          )
        ).rows.map((r) => Number(r.version)),
      );
    await withClient(url, (c) =>
      c.query(`UPDATE config_group SET value = value || 'y' WHERE key LIKE 'v.%'`),
    );
    expect(await versions()).toEqual([2]);
    // A writer cannot set the version: it is bumped from the old one.
    await withClient(url, (c) =>
      c.query(`UPDATE config_group SET version = 99 WHERE key LIKE 'v.%'`),
    );
    expect(await versions()).toEqual([3]);
    await withClient(url, (c) =>
      c.query(`UPDATE config_group SET version = version - 1 WHERE key LIKE 'v.%'`),
    );
    expect(await versions()).toEqual([4]);
    // The push's own bump is not bumped again.
    await withClient(url, (c) =>
      c.query(
        `UPDATE config_group SET value = 'z', version = version + 1, updated_at = now() WHERE key LIKE 'v.%'`,
      ),
    );
    expect(await versions()).toEqual([5]);
    // Twice in one transaction: twice bumped, updated_at is the transaction's time.
    await withClient(url, async (c) => {
      await c.query('BEGIN');
      await c.query(`UPDATE config_group SET value = 'a' WHERE key LIKE 'v.%'`);
      await c.query(`UPDATE config_group SET value = 'b' WHERE key LIKE 'v.%'`);
      const r = await c.query(
        "SELECT count(*) AS n FROM config_group WHERE key LIKE 'v.%' AND updated_at = now() AND version = 7",
      );
      expect(Number(r.rows[0].n)).toBe(60);
      await c.query('COMMIT');
    });
  });
});

describe('rights, once per statement', () => {
  const deptRow = (d: string, k: string): string => `('mercy', '${d}', '${k}', 'v')`;

  it('a department admin writing one row outside its department is refused entirely', async () => {
    const before = await count('SELECT count(*) AS n FROM config_department');
    const insert = (rows: string[]) =>
      withClient(deptUrl, (c) =>
        failure(
          c.query(
            `INSERT INTO config_department (tenant_id, department, key, value) VALUES ${rows.join(', ')}`,
          ),
        ),
      );
    // Another department of its own tenant: refused by the statement guard.
    expect(
      await insert([
        deptRow('medical', 'p.one'),
        deptRow('it', 'p.two'),
        deptRow('medical', 'p.three'),
      ]),
    ).toEqual({
      code: '42501',
      message:
        'Permission denied: Changing department mercy/it requires super_admin, tenant_admin of mercy or dept_admin of mercy/it.',
    });
    // Another tenant: refused by row-level security, with the same kind of sentence.
    expect(await insert([deptRow('medical', 'p.one'), `('general', 'er', 'p.two', 'v')`])).toEqual({
      code: '42501',
      message:
        'Permission denied: Changing department general/er requires super_admin, tenant_admin of general or dept_admin of general/er.',
    });
    expect(await count('SELECT count(*) AS n FROM config_department')).toBe(before);

    // Its own department alone is fine, and audited under its directory user whatever it claims.
    await withClient(deptUrl, async (c) => {
      await c.query('BEGIN');
      await c.query("SELECT set_config('strata.operator', 'mallory', true)");
      await c.query(
        `INSERT INTO config_department (tenant_id, department, key, value) VALUES ${[
          deptRow('medical', 'p.one'),
          deptRow('medical', 'p.two'),
        ].join(', ')}`,
      );
      await c.query('COMMIT');
    });
    expect(
      await count(
        "SELECT count(*) AS n FROM config_audit WHERE key IN ('p.one', 'p.two') AND changed_by = 'medic_admin'",
      ),
    ).toBe(2);

    // An UPDATE or DELETE that reaches into another department of the tenant changes nothing.
    for (const sql of [
      `UPDATE config_department SET value = 'w' WHERE tenant_id = 'mercy'`,
      `DELETE FROM config_department WHERE tenant_id = 'mercy'`,
    ]) {
      expect(await withClient(deptUrl, (c) => failure(c.query(sql)))).toEqual({
        code: '42501',
        message:
          'Permission denied: Changing department mercy/it requires super_admin, tenant_admin of mercy or dept_admin of mercy/it.',
      });
    }
    expect(
      await count(
        "SELECT count(*) AS n FROM config_department WHERE tenant_id = 'mercy' AND value = 'w'",
      ),
    ).toBe(0);
    expect(
      await count("SELECT count(*) AS n FROM config_department WHERE tenant_id = 'mercy'"),
    ).toBe(4);
  });

  it('a super_admin is refused a malformed scope in a multi-row statement', async () => {
    const e = await withClient(rootUrl, (c) =>
      failure(
        c.query(
          `INSERT INTO config_tenant (tenant_id, key, value) VALUES ('mercy', 'q.one', 'v'), ('', 'q.two', 'v')`,
        ),
      ),
    );
    expect(e).toEqual({
      code: '42501',
      message: 'Permission denied: "" is not a valid tenant scope.',
    });
    expect(await count("SELECT count(*) AS n FROM config_tenant WHERE key LIKE 'q.%'")).toBe(0);
  });
});

describe('the audit chain after a 10,000-change push', () => {
  it('verifies, and finds a row tampered with in the middle of one statement', async () => {
    const n = 5000;
    const file = await draftWithBulkChanges(url, {
      tenant: 'general',
      prefix: 'bulk',
      n,
      dir: tempDir('strata-stmt-'),
    });
    // Pushed as the mapped super_admin: row-level security and every trigger apply.
    const out = await pushDraft(file, { to: rootUrl, reason: 'bulk' });
    expect(out).toMatchObject({ status: 'applied', applied: 2 * n });
    const seqs = await withClient(
      url,
      async (c) =>
        (
          await c.query<{ seq: string; change_type: string; changed_by: string }>(
            'SELECT seq, change_type, changed_by FROM config_audit WHERE push_id = $1 ORDER BY seq',
            [out.pushId],
          )
        ).rows,
    );
    expect(seqs).toHaveLength(2 * n);
    expect(new Set(seqs.map((s) => s.changed_by))).toEqual(new Set(['root']));
    expect(
      await count('SELECT count(*) AS n FROM config_tenant WHERE version = 2 AND value = $1', [
        'v1',
      ]),
    ).toBe(n);
    const total = await count('SELECT count(*) AS n FROM config_audit');
    expect(await withClient(url, (c) => verifyAuditChain(c))).toMatchObject({
      ok: true,
      rows: total,
    });

    // The middle of the statement that created the new keys.
    const creates = seqs.filter((s) => s.change_type === 'create').map((s) => Number(s.seq));
    const middle = creates[Math.floor(creates.length / 2)]!;
    const original = await withClient(url, async (c) =>
      String(
        (await c.query('SELECT new_value FROM config_audit WHERE seq = $1', [middle])).rows[0]
          .new_value,
      ),
    );
    const behind = (sql: string, values: unknown[]) =>
      withClient(url, async (c) => {
        await c.query('BEGIN');
        await c.query('ALTER TABLE config_audit DISABLE TRIGGER strata_append_only');
        await c.query(sql, values);
        await c.query('ALTER TABLE config_audit ENABLE TRIGGER strata_append_only');
        await c.query('COMMIT');
      });
    await behind(`UPDATE config_audit SET new_value = 'evil' WHERE seq = $1`, [middle]);
    expect(await withClient(url, (c) => verifyAuditChain(c, { batchSize: 999 }))).toEqual({
      ok: false,
      firstBrokenSeq: middle,
      reason: `Audit row ${middle} does not match its hash: the row was changed after it was written.`,
    });
    // Put back, the chain holds again; edited with a recomputed hash, the next row breaks.
    await behind(`UPDATE config_audit SET new_value = $2 WHERE seq = $1`, [middle, original]);
    expect(await withClient(url, (c) => verifyAuditChain(c))).toMatchObject({ ok: true });
    await behind(`UPDATE config_audit SET changed_by = 'mallory' WHERE seq = $1`, [middle]);
    await behind(
      `UPDATE config_audit a SET hash = strata_audit_hash(a.prev_hash, a) WHERE seq = $1`,
      [middle],
    );
    const broken = await withClient(url, (c) => verifyAuditChain(c));
    expect(broken).toMatchObject({
      ok: false,
      firstBrokenSeq: creates[creates.indexOf(middle) + 1],
    });
  });
});
