/**
 * The PostgreSQL store on a real server: a batch is one transaction with the operator, reason
 * and push id in its audit rows; a conflict anywhere rolls the whole batch back; concurrent
 * creators of one slot cannot both win; directory, metadata, templates and settings round-trip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyMetadata } from '../../src-main/core/types.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';
import type { StoredChange } from '../../src-main/store/store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { migratedPg, pgQuery } from './service-fixtures.js';

afterAll(dropTestDatabases);

function set(
  level: StoredChange['level'],
  scope: string,
  key: string,
  value: string,
  extra: Partial<StoredChange> = {},
): StoredChange {
  return {
    level,
    scope,
    key,
    action: 'set',
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    ...extra,
  };
}

describe('PostgreSQL store', () => {
  it('writes a batch in one transaction with who, why and push id in every audit row', async () => {
    const url = await migratedPg();
    const store = await PostgresStore.open(url);
    try {
      const results = await store.write(
        [
          set('global', '', 'a.one', '1', { valueType: 'number' }),
          set('tenant', 't1', 'a.one', '2'),
          set('department', 't1/d1', 'a.one', '3'),
          set('group', 'g1', 'a.one', '4', { locked: true }),
          set('user', 'u1', 'a.one', ''),
        ],
        { operator: 'alice', reason: 'initial', pushId: 'push-1' },
      );
      expect(
        results.map((r) => [r.slot.level, r.after?.version, r.after?.updatedBy, r.changed]),
      ).toEqual([
        ['global', 1, 'alice', true],
        ['tenant', 1, 'alice', true],
        ['department', 1, 'alice', true],
        ['group', 1, 'alice', true],
        ['user', 1, 'alice', true],
      ]);
      expect(results[3]!.after!.locked).toBe(true);
      expect(results[4]!.after!.value).toBe('');
      const audit = await pgQuery<Record<string, unknown>>(
        url,
        'SELECT config_table, config_id, new_value, change_type, changed_by, reason, push_id FROM config_audit ORDER BY seq',
      );
      expect(audit).toEqual([
        {
          config_table: 'global',
          config_id: '',
          new_value: '1',
          change_type: 'create',
          changed_by: 'alice',
          reason: 'initial',
          push_id: 'push-1',
        },
        {
          config_table: 'tenant',
          config_id: 't1',
          new_value: '2',
          change_type: 'create',
          changed_by: 'alice',
          reason: 'initial',
          push_id: 'push-1',
        },
        {
          config_table: 'department',
          config_id: 't1/d1',
          new_value: '3',
          change_type: 'create',
          changed_by: 'alice',
          reason: 'initial',
          push_id: 'push-1',
        },
        {
          config_table: 'group',
          config_id: 'g1',
          new_value: '4',
          change_type: 'create',
          changed_by: 'alice',
          reason: 'initial',
          push_id: 'push-1',
        },
        {
          config_table: 'user',
          config_id: 'u1',
          new_value: '',
          change_type: 'create',
          changed_by: 'alice',
          reason: 'initial',
          push_id: 'push-1',
        },
      ]);
      const [update] = await store.write([set('tenant', 't1', 'a.one', '22')], {
        operator: 'bob',
        reason: null,
      });
      expect(update).toMatchObject({
        before: { value: '2', version: 1 },
        after: { value: '22', version: 2, updatedBy: 'bob' },
      });
      const [same] = await store.write([set('tenant', 't1', 'a.one', '22')], {
        operator: 'bob',
        reason: null,
      });
      expect(same!.changed).toBe(false);
      const snap = await store.snapshot();
      expect(snap.entries.map((e) => [e.level, e.scope, e.value, e.version]).sort()).toEqual(
        [
          ['department', 't1/d1', '3', 1],
          ['global', '', '1', 1],
          ['group', 'g1', '4', 1],
          ['tenant', 't1', '22', 2],
          ['user', 'u1', '', 1],
        ].sort(),
      );
      expect(
        snap.entries.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(e.updatedAt)),
      ).toBe(true);
      expect(
        (await store.history({ key: 'a.one', level: 'tenant', scope: 't1' })).map(
          (h) => h.changeType,
        ),
      ).toEqual(['update', 'create']);
    } finally {
      await store.close();
    }
  });

  it('rolls back the whole batch when one change conflicts', async () => {
    const url = await migratedPg();
    const store = await PostgresStore.open(url);
    try {
      await store.write([set('global', '', 'k.a', 'x'), set('global', '', 'k.b', 'y')], {
        operator: 'a',
        reason: null,
      });
      await expect(
        store.write(
          [
            set('global', '', 'k.a', 'x2', { expectedVersion: 1 }),
            set('global', '', 'k.b', 'y2', { expectedVersion: 4 }),
            set('global', '', 'k.c', 'z'),
          ],
          { operator: 'a', reason: 'both' },
        ),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringContaining('k.b (global)'),
      });
      const rows = await pgQuery<{ key: string; value: string }>(
        url,
        'SELECT key, value FROM config_global ORDER BY key',
      );
      expect(rows).toEqual([
        { key: 'k.a', value: 'x' },
        { key: 'k.b', value: 'y' },
      ]);
      expect(await pgQuery(url, "SELECT 1 FROM config_audit WHERE reason = 'both'")).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('lets only one of two concurrent creators of a slot win', async () => {
    const url = await migratedPg();
    const a = await PostgresStore.open(url);
    const b = await PostgresStore.open(url);
    try {
      const outcomes = await Promise.allSettled([
        a.write([set('tenant', 't9', 'race.key', 'from-a', { expectedVersion: null })], {
          operator: 'a',
          reason: null,
        }),
        b.write([set('tenant', 't9', 'race.key', 'from-b', { expectedVersion: null })], {
          operator: 'b',
          reason: null,
        }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.reason).toMatchObject({ code: 'conflict' });
      const rows = await pgQuery<{ version: string }>(
        url,
        "SELECT version FROM config_tenant WHERE key = 'race.key'",
      );
      expect(rows).toEqual([{ version: '1' }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('round-trips the directory (group order, traits), metadata, templates and settings', async () => {
    const url = await migratedPg();
    const store = await PostgresStore.open(url);
    try {
      await store.writeDirectory({
        tenants: [{ id: 't1', name: 'Tenant One', tenantType: 'healthcare' }],
        departments: [{ tenantId: 't1', id: 'd1', name: 'Dept One' }],
        groups: [
          { id: 'g1', tenantId: 't1', department: 'd1', name: 'G1' },
          { id: 'g2', tenantId: 't1', department: null, name: 'G2' },
        ],
        users: [
          {
            id: 'u1',
            tenantId: 't1',
            department: 'd1',
            groups: ['g2', 'g1'],
            traits: ['admin_capable', 'config_write'],
            displayName: 'Ü One',
            email: null,
            dbRole: 'role_u1',
          },
          {
            id: 'u2',
            tenantId: 't1',
            department: null,
            groups: [],
            traits: [],
            displayName: null,
            email: 'u2@x',
            dbRole: null,
          },
        ],
      });
      const dir = await store.readDirectory();
      expect(dir.users).toEqual([
        {
          id: 'u1',
          tenantId: 't1',
          department: 'd1',
          groups: ['g2', 'g1'],
          traits: ['admin_capable', 'config_write'],
          displayName: 'Ü One',
          email: null,
          dbRole: 'role_u1',
        },
        {
          id: 'u2',
          tenantId: 't1',
          department: null,
          groups: [],
          traits: [],
          displayName: null,
          email: 'u2@x',
          dbRole: null,
        },
      ]);
      await store.writeDirectory({ users: [{ ...dir.users[0]!, groups: ['g1'] }] });
      expect((await store.readDirectory()).users[0]!.groups).toEqual(['g1']);
      const meta: KeyMetadata = {
        key: 'smtp.port',
        category: 'smtp',
        displayName: 'SMTP Port',
        description: null,
        inputType: 'number',
        valueType: 'number',
        validationRules: { min: 1, max: 65535, required: true },
        defaultValue: '587',
        isRequired: true,
        sortOrder: 2,
        groupName: 'Connection Settings',
        helpText: 'Common ports: 25, 587, 465',
      };
      await store.writeMetadata([meta]);
      expect(await store.readMetadata()).toEqual([meta]);
      const cfgKey = await pgQuery(
        url,
        "SELECT config_key FROM configuration_metadata WHERE key = 'smtp.port'",
      );
      expect(cfgKey).toEqual([{ config_key: 'port' }]);
      await store.writeTemplate({
        name: 'gmail-smtp',
        description: 'Gmail',
        targetLevel: 'tenant',
        templateData: { configs: { 'smtp.host': { value: 'smtp.gmail.com' } } },
        traits: ['tenant_admin'],
        version: 2,
        providerName: 'gmail',
        category: 'smtp',
        createdAt: null,
        createdBy: 'alice',
      });
      expect(await store.readTemplates()).toMatchObject([
        {
          name: 'gmail-smtp',
          version: 2,
          targetLevel: 'tenant',
          templateData: { configs: { 'smtp.host': { value: 'smtp.gmail.com' } } },
        },
      ]);
      expect(await store.getSetting('environment')).toBeNull();
      await store.setSetting('environment', 'production');
      expect(await store.getSetting('environment')).toBe('production');
      expect(await store.isEmpty()).toBe(false);
      expect(await store.identity()).toEqual({ role: 'postgres', superuser: true });
    } finally {
      await store.close();
    }
  });
});
