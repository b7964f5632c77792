/**
 * Migrations 0240 and 0250 and the push transaction after them: the audit field function is inlined and
 * returns exactly the canonical text the chain is computed from, the set-based validation still
 * refuses one bad row among thousands with its sentence, config_audit is keyed by seq, and a
 * push of thousands of updates and creates leaves one audit and one history row per change, a
 * chain that verifies, and no planner setting behind on the pooled connection.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src-main/services/audit-verify.js';
import { pushDraft } from '../../src-main/services/push-service.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';
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

beforeAll(async () => {
  url = await migratedPg();
  const root = await createLoginRole('psroot');
  rootUrl = urlAs(url, root.role, root.password);
  await withClient(url, async (c) => {
    await c.query(`INSERT INTO tenants (id, name) VALUES ('mercy', 'Mercy')`);
    await c.query(
      `INSERT INTO users (id, tenant_id, department, traits, db_role) VALUES
         ('root', NULL, NULL, '{admin_capable,config_write,super_admin}', $1)`,
      [root.role],
    );
    await c.query(
      `INSERT INTO configuration_metadata (key, category, config_key, display_name, value_type, validation_rules)
       VALUES ('limits.max_sessions', 'limits', 'max_sessions', 'Max sessions', 'number', '{"min": 1, "max": 10}'),
              ('ui.theme', 'ui', 'theme', 'Theme', 'string', '{"options": ["light", "dark"]}'),
              ('ui.code', 'ui', 'code', 'Code', 'string', '{"pattern": "^[A-Z]{3}$", "maxLength": 3}')`,
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

// The canonical field as audit-verify.ts writes it: characters (code points), colon, text.
function field(v: string | null): string {
  return v === null ? '~;' : `${[...v].length}:${v};`;
}

describe('strata_audit_field', () => {
  it('is inlined by the planner (no function call left per row)', async () => {
    const plan = await withClient(url, async (c) =>
      (
        await c.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN VERBOSE SELECT strata_audit_field(key) FROM configuration_metadata`,
        )
      ).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n'),
    );
    expect(plan).not.toMatch(/strata_audit_field/);
    expect(plan).toMatch(/char_length/);
  });

  it('returns the canonical text of any value, NULL and multi-byte text included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }), { nil: null }), {
          minLength: 1,
          maxLength: 40,
        }),
        async (values) => {
          const clean = values.map((v) =>
            v === null ? null : v.split(String.fromCharCode(0)).join(''),
          );
          const got = await withClient(url, async (c) =>
            (
              await c.query<{ f: string }>(
                'SELECT strata_audit_field(v) AS f FROM unnest($1::text[]) WITH ORDINALITY AS x(v, n) ORDER BY n',
                [clean],
              )
            ).rows.map((r) => r.f),
          );
          expect(got).toEqual(clean.map(field));
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('values, once per statement, at push size', () => {
  it('one bad row among 3,000 refuses the whole statement with its sentence', async () => {
    await withClient(url, (c) =>
      c.query(
        `INSERT INTO config_tenant (tenant_id, key, value, value_type)
         SELECT 'mercy', 'bulk.v' || lpad(i::text, 5, '0'), (i % 10 + 1)::text, 'number' FROM generate_series(1, 3000) i`,
      ),
    );
    const before = await count('SELECT count(*) AS n FROM config_audit');
    for (const who of [url, rootUrl]) {
      const e = await withClient(who, (c) =>
        failure(
          c.query(
            `INSERT INTO config_user (user_id, key, value, value_type)
             SELECT 'root', CASE WHEN i = 1500 THEN 'limits.max_sessions' ELSE 'bulk.u' || i END,
                    CASE WHEN i = 1500 THEN '11' ELSE 'x' END,
                    CASE WHEN i = 1500 THEN 'number' ELSE 'string' END
             FROM generate_series(1, 3000) i`,
          ),
        ),
      );
      expect(e).toEqual({
        code: '23514',
        message:
          "Key 'limits.max_sessions' at user root rejects the value (rule max: must be at most 10).",
      });
      const e2 = await withClient(who, (c) =>
        failure(
          c.query(
            `UPDATE config_tenant SET value = CASE WHEN key = 'bulk.v01234' THEN 'x' ELSE value END
             WHERE tenant_id = 'mercy' AND key LIKE 'bulk.v%'`,
          ),
        ),
      );
      expect(e2).toEqual({
        code: '23514',
        message:
          "Key 'bulk.v01234' at tenant mercy rejects the value (rule type: expected a decimal number such as 42 or 3.5).",
      });
    }
    expect(await count('SELECT count(*) AS n FROM config_audit')).toBe(before);
    // Rules of several keys in one statement, each decoded once, each still applied.
    const ok = await withClient(
      rootUrl,
      async (c) =>
        (
          await c.query(
            `INSERT INTO config_user (user_id, key, value, value_type) VALUES
             ('root', 'limits.max_sessions', '10', 'number'), ('root', 'ui.theme', 'dark', 'string'),
             ('root', 'ui.code', 'ABC', 'string')`,
          )
        ).rowCount,
    );
    expect(ok).toBe(3);
    for (const [key, value, why] of [
      ['ui.theme', 'blue', 'rule options: must be one of "light", "dark"'],
      ['ui.code', 'abc', 'rule pattern: must match /^[A-Z]{3}$/'],
    ] as const) {
      const e = await withClient(rootUrl, (c) =>
        failure(
          c.query(`UPDATE config_user SET value = $2 WHERE user_id = 'root' AND key = $1`, [
            key,
            value,
          ]),
        ),
      );
      expect(e).toEqual({
        code: '23514',
        message: `Key '${key}' at user root rejects the value (${why}).`,
      });
    }
  });
});

describe('config_audit and config_history after 0250', () => {
  it('config_audit is keyed by seq; id is still a UUID on every row', async () => {
    const pk = await withClient(url, async (c) =>
      (
        await c.query<{ col: string }>(
          `SELECT a.attname AS col FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
           WHERE i.indrelid = 'config_audit'::regclass AND i.indisprimary`,
        )
      ).rows.map((r) => r.col),
    );
    expect(pk).toEqual(['seq']);
    expect(await count('SELECT count(*) AS n FROM config_audit WHERE id IS NULL')).toBe(0);
  });

  it('a push of 2,000 updates and 2,000 creates: one audit and one history row each, chain intact', async () => {
    const n = 2000;
    const file = await draftWithBulkChanges(url, {
      tenant: 'mercy',
      prefix: 'push',
      n,
      dir: tempDir('strata-pushspeed-'),
    });
    const out = await pushDraft(file, { to: rootUrl, reason: 'bulk' });
    expect(out).toMatchObject({ status: 'applied', applied: 2 * n });
    const audit = await withClient(url, async (c) =>
      (
        await c.query<{ change_type: string; n: string }>(
          `SELECT change_type, count(*) AS n FROM config_audit WHERE push_id = $1 GROUP BY 1 ORDER BY 1`,
          [out.pushId],
        )
      ).rows.map((r) => [r.change_type, Number(r.n)]),
    );
    expect(audit).toEqual([
      ['create', n],
      ['update', n],
    ]);
    expect(
      await count('SELECT count(*) AS n FROM config_history WHERE push_id = $1', [out.pushId]),
    ).toBe(2 * n);
    expect(
      await count(
        "SELECT count(*) AS n FROM config_tenant WHERE key LIKE 'push.%' AND key NOT LIKE '%.new' AND value = 'v1' AND version = 2",
      ),
    ).toBe(n);
    const total = await count('SELECT count(*) AS n FROM config_audit');
    expect(await withClient(url, (c) => verifyAuditChain(c))).toMatchObject({
      ok: true,
      rows: total,
    });

    // The key and operator queries of `strata history` / audit:list still answer.
    const store = await PostgresStore.open(url);
    try {
      const byKey = await store.history({ key: 'push.00007' });
      expect(byKey.map((r) => r.changeType)).toEqual(['update', 'create']);
      const byOperator = await store.history({ changedBy: 'root', limit: 5 });
      expect(byOperator).toHaveLength(5);
      expect(new Set(byOperator.map((r) => r.pushId))).toEqual(new Set([out.pushId]));
      // The push's planner setting was transaction-local: the pooled connections are as before.
      const costs = await Promise.all(
        [1, 2, 3].map(() =>
          store.pool.query<{ v: string }>("SELECT current_setting('random_page_cost') AS v"),
        ),
      );
      const fresh = await withClient(url, async (c) =>
        String(
          (await c.query<{ v: string }>("SELECT current_setting('random_page_cost') AS v")).rows[0]!
            .v,
        ),
      );
      expect(costs.map((r) => r.rows[0]!.v)).toEqual([fresh, fresh, fresh]);
    } finally {
      await store.close();
    }
  });
});
