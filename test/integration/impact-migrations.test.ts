import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';
import { migratedPg, pgQuery, testCodec } from './service-fixtures.js';

let url: string;
let tenantAdminUrl: string;
let superAdminUrl: string;

beforeAll(async () => {
  url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
  const ta = await createLoginRole('gh_admin');
  const sa = await createLoginRole('sa');
  await withClient(url, async (c) => {
    await c.query("UPDATE users SET db_role = $1 WHERE id = 'general_admin'", [ta.role]);
    await c.query("UPDATE users SET db_role = $1 WHERE id = 'superadmin'", [sa.role]);
  });
  tenantAdminUrl = urlAs(url, ta.role, ta.password);
  superAdminUrl = urlAs(url, sa.role, sa.password);
});

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

const insertRule = (id: string, op = 'equals', value: string | null = '"false"') =>
  `INSERT INTO config_policy_rules (id, description, require_key, require_op, require_value)
   VALUES ('${id}', 'test', 'ui.theme', '${op}', ${value === null ? 'NULL' : `'${value}'::jsonb`})`;

describe('0200 policy rules', () => {
  it('ships the HIPAA / email gateway rule', async () => {
    const rows = await pgQuery(
      url,
      'SELECT id, severity, when_key, when_op, when_value, require_key, require_op, require_value FROM config_policy_rules',
    );
    expect(rows).toEqual([
      {
        id: 'hipaa-no-email-gateway',
        severity: 'error',
        when_key: 'compliance.hipaa.enabled',
        when_op: 'equals',
        when_value: 'true',
        require_key: 'features.email_gateway.enabled',
        require_op: 'equals',
        require_value: 'false',
      },
    ]);
  });

  it('refuses malformed rules', async () => {
    expect((await failure(pgQuery(url, insertRule('bad id!'))))?.code).toBe('23514');
    expect((await failure(pgQuery(url, insertRule('r1', 'matches'))))?.code).toBe('23514');
    expect((await failure(pgQuery(url, insertRule('r2', 'in', '"not-a-list"'))))?.code).toBe(
      '23514',
    );
    expect((await failure(pgQuery(url, insertRule('r3', 'is_set', '"x"'))))?.code).toBe('23514');
    expect(await failure(pgQuery(url, insertRule('r4', 'is_set', null)))).toBeNull();
  });

  it('is readable by admins and written by super_admin only', async () => {
    await withClient(tenantAdminUrl, async (c) => {
      const r = await c.query('SELECT id FROM config_policy_rules');
      expect(r.rows.length).toBeGreaterThan(0);
      expect((await failure(c.query(insertRule('by-tenant-admin'))))?.code).toBe('42501');
      const del = await c.query(
        "DELETE FROM config_policy_rules WHERE id = 'hipaa-no-email-gateway'",
      );
      expect(del.rowCount).toBe(0);
    });
    await withClient(superAdminUrl, async (c) => {
      await c.query("SELECT set_config('strata.operator', 'superadmin', false)");
      await c.query(insertRule('by-super-admin'));
      const [row] = (
        await c.query("SELECT created_by FROM config_policy_rules WHERE id = 'by-super-admin'")
      ).rows;
      expect(row).toEqual({ created_by: 'superadmin' });
    });
  });
});

describe('0220 configuration history', () => {
  it('records the state after every change, lock flags included, and never changes', async () => {
    await pgQuery(
      url,
      "UPDATE config_tenant SET locked = true WHERE tenant_id = 'mercy_hospital' AND key = 'ui.theme'",
    );
    await pgQuery(
      url,
      "DELETE FROM config_tenant WHERE tenant_id = 'mercy_hospital' AND key = 'ui.theme'",
    );
    const rows = await pgQuery<{ present: boolean; value: string | null; locked: boolean }>(
      url,
      "SELECT present, value, locked FROM config_history WHERE level = 'tenant' AND scope = 'mercy_hospital' AND key = 'ui.theme' ORDER BY seq",
    );
    expect(rows).toEqual([
      { present: true, value: 'medical', locked: false },
      { present: true, value: 'medical', locked: true },
      { present: false, value: null, locked: false },
    ]);
    expect((await failure(pgQuery(url, 'DELETE FROM config_history')))?.message).toBe(
      'config_history is append-only: DELETE is not allowed.',
    );
    expect((await failure(pgQuery(url, "UPDATE config_history SET value = 'x'")))?.code).toBe(
      '42501',
    );
    // Secrets are kept as their ciphertext envelope, never in plaintext.
    const secrets = await pgQuery<{ value: string }>(
      url,
      "SELECT value FROM config_history WHERE key LIKE 'providers.%api_key'",
    );
    expect(secrets.length).toBeGreaterThan(0);
    expect(secrets.every((s) => s.value.startsWith('enc:v1:'))).toBe(true);
  });

  it("shows a tenant admin only their tenant's history", async () => {
    await withClient(tenantAdminUrl, async (c) => {
      const r = await c.query<{ level: string; scope: string }>(
        'SELECT DISTINCT level, scope FROM config_history',
      );
      expect(r.rows.length).toBeGreaterThan(0);
      for (const row of r.rows) {
        expect(row.level === 'global' || !row.scope.startsWith('mercy_hospital')).toBe(true);
      }
      expect(r.rows.some((row) => row.scope === 'general_hospital')).toBe(true);
      expect(
        (
          await failure(
            c.query(
              "INSERT INTO config_history (level, scope, key, present, value_type, changed_by) VALUES ('global', '', 'x', false, 'string', 'me')",
            ),
          )
        )?.code,
      ).toBe('42501');
    });
  });
});

describe('0230 lock guard', () => {
  it('refuses a mapped admin the same way as psql', async () => {
    await withClient(tenantAdminUrl, async (c) => {
      const f = await failure(
        c.query(
          "INSERT INTO config_department (tenant_id, department, key, value) VALUES ('general_hospital', 'medical', 'fax.backend.provider', 'phaxio')",
        ),
      );
      expect(f).toEqual({
        code: '42501',
        message:
          'fax.backend.provider is locked at tenant general_hospital; department overrides are not allowed.',
      });
    });
  });
});
