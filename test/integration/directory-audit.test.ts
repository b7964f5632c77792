/**
 * Directory changes are audited (migration 0270): tenants, departments, groups, users and group
 * memberships written through SQL leave config_audit rows in the same hash chain as configuration
 * changes, with who, why and the push; an update records only the columns it changed; TRUNCATE
 * is refused; readers see the directory audit of their own tenant only; and the configuration
 * history never mistakes a directory row for a value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import {
  applyMigrations,
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';
import { verifyAuditChain } from '../../src-main/services/audit-verify.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';

interface Row {
  config_table: string;
  config_id: string;
  key: string;
  old_value: string | null;
  new_value: string | null;
  change_type: string;
  changed_by: string;
  reason: string | null;
  push_id: string | null;
}

let url = '';
let root: { role: string; password: string };
let reader: { role: string; password: string };

async function dirRows(since: number): Promise<Row[]> {
  return withClient(url, async (c) => {
    const r = await c.query<Row>(
      `SELECT config_table, config_id, key, old_value, new_value, change_type, changed_by, reason, push_id
       FROM config_audit WHERE seq > $1 AND config_table LIKE 'dir:%' ORDER BY seq`,
      [since],
    );
    return r.rows;
  });
}

async function lastSeq(): Promise<number> {
  return withClient(url, async (c) =>
    Number((await c.query('SELECT coalesce(max(seq), 0) AS s FROM config_audit')).rows[0].s),
  );
}

beforeAll(async () => {
  url = await createTestDatabase('strata_dir_audit');
  await applyMigrations(url);
  root = await createLoginRole('dirroot');
  reader = await createLoginRole('dirreader');
  await withClient(url, async (c) => {
    await c.query(
      `INSERT INTO tenants (id, name) VALUES ('mercy', 'Mercy'), ('general', 'General')`,
    );
    await c.query(
      `INSERT INTO users (id, tenant_id, traits, db_role) VALUES
         ('root', NULL, '{admin_capable,config_write,super_admin}', $1),
         ('reader', 'mercy', '{admin_capable}', $2)`,
      [root.role, reader.role],
    );
  });
});

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

describe('directory audit', () => {
  it('records creations as rows, updates per changed column, memberships by group, with who and why', async () => {
    const since = await lastSeq();
    await withClient(urlAs(url, root.role, root.password), async (c) => {
      await c.query('BEGIN');
      await c.query(
        `SELECT set_config('strata.operator', 'root', true), set_config('strata.reason', 'onboarding', true),
                set_config('strata.push_id', 'push-dir-1', true)`,
      );
      await c.query(
        `INSERT INTO departments (tenant_id, id, name) VALUES ('mercy', 'medical', 'Medical')`,
      );
      await c.query(
        `INSERT INTO groups (id, tenant_id, department, name) VALUES
           ('doctors', 'mercy', 'medical', 'Doctors'), ('nurses', 'mercy', 'medical', 'Nurses')`,
      );
      await c.query(
        `INSERT INTO users (id, tenant_id, department, display_name, traits)
         VALUES ('dr_grey', 'mercy', 'medical', 'Meredith Grey', '{}')`,
      );
      await c.query(
        `INSERT INTO group_members (user_id, group_id, position) VALUES ('dr_grey', 'doctors', 0), ('dr_grey', 'nurses', 1)`,
      );
      await c.query('COMMIT');
    });
    const created = await dirRows(since);
    expect(created.map((r) => [r.config_table, r.config_id, r.key, r.change_type])).toEqual([
      ['dir:department', 'mercy/medical', '(row)', 'create'],
      ['dir:group', 'doctors', '(row)', 'create'],
      ['dir:group', 'nurses', '(row)', 'create'],
      ['dir:user', 'dr_grey', '(row)', 'create'],
      ['dir:membership', 'dr_grey', 'doctors', 'create'],
      ['dir:membership', 'dr_grey', 'nurses', 'create'],
    ]);
    for (const r of created) {
      expect(r).toMatchObject({ changed_by: 'root', reason: 'onboarding', push_id: 'push-dir-1' });
    }
    const user = JSON.parse(created[3]!.new_value!) as Record<string, unknown>;
    expect(user).toMatchObject({ id: 'dr_grey', tenant_id: 'mercy', traits: [] });
    expect(user).not.toHaveProperty('created_at');
    expect(created[4]).toMatchObject({ old_value: null, new_value: '0' });

    // An update: only the changed columns; a reorder of memberships; a removal.
    const before = await lastSeq();
    await withClient(urlAs(url, root.role, root.password), async (c) => {
      await c.query(`SELECT set_config('strata.operator', 'root', false)`);
      await c.query(
        `UPDATE users SET traits = '{admin_capable}', display_name = 'Dr. Meredith Grey', email = email WHERE id = 'dr_grey'`,
      );
      await c.query('BEGIN');
      await c.query(`DELETE FROM group_members WHERE user_id = 'dr_grey'`);
      await c.query(
        `INSERT INTO group_members (user_id, group_id, position) VALUES ('dr_grey', 'nurses', 0)`,
      );
      await c.query('COMMIT');
      await c.query(`UPDATE group_members SET position = 3 WHERE user_id = 'dr_grey'`);
      await c.query(`UPDATE groups SET name = name WHERE id = 'doctors'`);
    });
    const changed = await dirRows(before);
    expect(
      changed.map((r) => [r.config_table, r.key, r.old_value, r.new_value, r.change_type]),
    ).toEqual([
      ['dir:user', 'display_name', 'Meredith Grey', 'Dr. Meredith Grey', 'update'],
      ['dir:user', 'traits', '[]', '["admin_capable"]', 'update'],
      ['dir:membership', 'doctors', '0', null, 'delete'],
      ['dir:membership', 'nurses', '1', null, 'delete'],
      ['dir:membership', 'nurses', null, '0', 'create'],
      ['dir:membership', 'nurses', '0', '3', 'update'],
    ]);
    expect(changed[0]!.changed_by).toBe('root');
  });

  it('records cascaded removals, keeps the chain whole, and refuses TRUNCATE', async () => {
    const since = await lastSeq();
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO tenants (id, name) VALUES ('closing', 'Closing')`);
      await c.query(
        `INSERT INTO groups (id, tenant_id, name) VALUES ('closing-all', 'closing', 'All')`,
      );
      await c.query(`DELETE FROM tenants WHERE id = 'closing'`);
      for (const table of ['tenants', 'departments', 'groups', 'users', 'group_members']) {
        const e = await failure(c.query(`TRUNCATE ${table} CASCADE`));
        expect(e?.message, table).toMatch(/TRUNCATE of .* is not allowed/);
      }
    });
    const rows = await dirRows(since);
    expect(rows.map((r) => [r.config_table, r.config_id, r.change_type])).toEqual([
      ['dir:tenant', 'closing', 'create'],
      ['dir:group', 'closing-all', 'create'],
      // The tenant's statement is audited first, then the removal its foreign key cascaded to.
      ['dir:tenant', 'closing', 'delete'],
      ['dir:group', 'closing-all', 'delete'],
    ]);
    const verdict = await withClient(url, (c) => verifyAuditChain(c));
    expect(verdict.ok).toBe(true);
    expect(
      await withClient(
        url,
        async (c) => (await c.query('SELECT count(*)::int AS n FROM tenants')).rows[0].n,
      ),
    ).toBe(2);
  });

  it('a tenant reader sees their own tenant’s directory audit and nothing of another tenant', async () => {
    await withClient(url, async (c) => {
      await c.query(
        `INSERT INTO users (id, tenant_id, traits) VALUES ('gen_user', 'general', '{}')`,
      );
    });
    const seen = await withClient(urlAs(url, reader.role, reader.password), async (c) => {
      const r = await c.query<{ config_table: string; config_id: string }>(
        `SELECT DISTINCT config_table, config_id FROM config_audit WHERE config_table LIKE 'dir:%' ORDER BY 1, 2`,
      );
      return r.rows.map((x) => `${x.config_table} ${x.config_id}`);
    });
    expect(seen).toEqual([
      'dir:department mercy/medical',
      'dir:group doctors',
      'dir:group nurses',
      'dir:membership dr_grey',
      'dir:tenant mercy',
      'dir:user dr_grey',
      'dir:user reader',
    ]);
  });

  it('the configuration history leaves directory rows out, even for a key named like a column', async () => {
    // The migrations were applied as files (security-support), without the migration ledger.
    const store = await PostgresStore.open(url, { requireMigrated: false });
    try {
      await store.write(
        [
          {
            level: 'global',
            scope: '',
            key: 'name',
            action: 'set',
            value: 'x',
            valueType: 'string',
            encrypted: false,
            locked: false,
          },
        ],
        { operator: 'root', reason: 'a key called name' },
      );
      const all = await store.history({ limit: 100_000 });
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((r) => r.level === 'global' && r.key === 'name')).toBe(true);
      const named = await store.history({ key: 'name' });
      expect(named.map((r) => [r.level, r.changeType])).toEqual([['global', 'create']]);
    } finally {
      await store.close();
    }
  });
});
