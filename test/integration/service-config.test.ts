/**
 * The config service on both targets (real PostgreSQL, real SQLite draft), loaded with the demo
 * hospital network: the seed's example, falsy overrides, group order, ad-hoc contexts, locks,
 * validation and permission refusals that change nothing, secrets, audit rows, and the index
 * kept current incrementally (equal to a fresh load).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { ConfigProvider } from '../../src-main/lib/index.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoTargets, pgQuery, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

let targets: { postgres: string; draft: string };
beforeAll(async () => {
  targets = await demoTargets();
});

const KINDS = ['postgres', 'draft'] as const;

async function open(
  kind: (typeof KINDS)[number],
  operator: string | null = 'superadmin',
  codec = true,
): Promise<StrataConfigService> {
  return openService({ db: targets[kind], operator, codec: codec ? testCodec() : null });
}

async function withService<T>(
  kind: (typeof KINDS)[number],
  operator: string | null,
  fn: (s: StrataConfigService) => Promise<T>,
): Promise<T> {
  const s = await open(kind, operator);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe.each(KINDS)('config service on %s', (kind) => {
  it("resolves the seed's example: the emergency doctors group's sip wins over global phaxio", async () => {
    await withService(kind, null, async (s) => {
      const r = await s.resolve('fax_backend', { userId: 'user123' });
      expect(r).toMatchObject({
        value: 'sip',
        level: 'group',
        scope: 'emergency_doctors_group',
        valueType: 'string',
      });
      expect(r.chain.map((l) => [l.level, l.scope, l.value, l.winner, l.shadowed])).toEqual([
        ['global', '', 'phaxio', false, true],
        ['tenant', 'mercy_hospital', 'phaxio', false, true],
        ['department', 'mercy_hospital/medical', null, false, false],
        ['group', 'doctors', null, false, false],
        ['group', 'emergency_doctors_group', 'sip', true, false],
        ['user', 'user123', null, false, false],
      ]);
    });
  });

  it('treats "false" at a department as an override of a tenant\'s "true"', async () => {
    await withService(kind, null, async (s) => {
      const r = await s.resolve('compliance.hipaa.enabled', { userId: 'mkt_ben' });
      expect(r).toMatchObject({
        value: 'false',
        level: 'department',
        scope: 'mercy_hospital/marketing',
      });
      expect(r.chain.find((l) => l.level === 'tenant')).toMatchObject({
        value: 'true',
        shadowed: true,
      });
      const anna = await s.resolve('features.email_gateway.enabled', { userId: 'mkt_anna' });
      expect(anna).toMatchObject({ value: 'false', level: 'user', scope: 'mkt_anna' });
    });
  });

  it("takes the first group in the user's order that sets a key", async () => {
    await withService(kind, null, async (s) => {
      // user123: [emergency_doctors_group, doctors]; dr_house: [doctors, emergency_doctors_group].
      expect(await s.resolve('priority_processing', { userId: 'user123' })).toMatchObject({
        value: 'true',
        scope: 'emergency_doctors_group',
      });
      expect(await s.resolve('priority_processing', { userId: 'dr_house' })).toMatchObject({
        value: 'false',
        scope: 'doctors',
      });
      const adhoc = await s.resolve('notification_urgency', {
        tenantId: 'mercy_hospital',
        groups: ['doctors', 'emergency_doctors_group'],
      });
      expect(adhoc).toMatchObject({ value: 'normal', level: 'group', scope: 'doctors' });
    });
  });

  it('resolves ad-hoc contexts: tenant only, tenant + department, groups without a user, a user id', async () => {
    await withService(kind, null, async (s) => {
      expect(await s.resolve('ui.theme', { tenantId: 'mercy_hospital' })).toMatchObject({
        value: 'medical',
        level: 'tenant',
      });
      expect(
        await s.resolve('ui.theme', { tenantId: 'mercy_hospital', department: 'marketing' }),
      ).toMatchObject({
        value: 'business',
        level: 'department',
        scope: 'mercy_hospital/marketing',
      });
      const g = await s.resolve('fax_backend', {
        tenantId: 'mercy_hospital',
        groups: ['emergency_doctors_group'],
      });
      expect(g).toMatchObject({ value: 'sip', level: 'group' });
      expect(g.chain.some((l) => l.level === 'user')).toBe(false);
      const u = await s.resolve('ui.theme', {
        tenantId: 'mercy_hospital',
        department: 'medical',
        userId: 'user123',
      });
      expect(u).toMatchObject({ value: 'dark', level: 'user', scope: 'user123' });
      await expect(s.resolve('ui.theme', { tenantId: 'no_such_hospital' })).rejects.toMatchObject({
        code: 'invalid',
        message:
          "Tenant 'no_such_hospital' is not in the directory; check the spelling or add it first.",
      });
      await expect(s.resolve('ui.theme', { userId: 'nobody' })).rejects.toMatchObject({
        code: 'not_found',
      });
      const eff = await s.effective({ tenantId: 'general_hospital' });
      expect(eff.find((i) => i.key === 'fax.backend.provider')).toMatchObject({
        value: 'sip',
        level: 'tenant',
      });
    });
  });

  it('keeps a locked tenant value final below it', async () => {
    await withService(kind, null, async (s) => {
      const r = await s.resolve('fax.backend.provider', { userId: 'gh_dr_osei' });
      expect(r).toMatchObject({ value: 'sip', level: 'tenant', scope: 'general_hospital' });
      expect(r.chain.find((l) => l.scope === 'gh_oncall')).toMatchObject({
        value: 'phaxio',
        shadowed: true,
      });
    });
  });

  it('falls back to the metadata default', async () => {
    await withService(kind, null, async (s) => {
      expect(await s.resolve('providers.sip.port', { userId: 'user123' })).toMatchObject({
        value: '5060',
        level: 'default',
        scope: '',
      });
      expect(await s.resolve('no.such.key', { userId: 'user123' })).toMatchObject({
        value: null,
        level: 'default',
      });
    });
  });

  it('refuses values that break metadata rules, naming key, rule and value, and changes nothing', async () => {
    await withService(kind, 'superadmin', async (s) => {
      const before = await s.history({ limit: 100_000 });
      const cases: Array<[string, string, string, RegExp]> = [
        [
          'max_file_size_mb',
          '500',
          'max',
          /^Key 'max_file_size_mb' rejects value "500" \(rule max\)/,
        ],
        ['hipaa_mode', 'maybe', 'type', /^Key 'hipaa_mode' rejects value "maybe" \(rule type\)/],
        ['notification_urgency', 'urgent', 'options', /rule options/],
        ['branding_color', 'red', 'pattern', /rule pattern/],
        ['fax.backend.provider', '', 'required', /rule required/],
      ];
      for (const [key, value, rule, message] of cases) {
        await expect(s.set({ level: 'global', scope: '', key, value })).rejects.toMatchObject({
          code: 'invalid',
          message: expect.stringMatching(message),
          details: { key, rule },
        });
      }
      await expect(
        s.set({
          level: 'tenant',
          scope: 'mercy_hospital',
          key: 'providers.phaxio.api_key',
          value: 'short',
        }),
      ).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining(MASK) });
      await expect(
        s.set({
          level: 'tenant',
          scope: 'mercy_hospital',
          key: 'providers.phaxio.api_key',
          value: 'short',
        }),
      ).rejects.not.toMatchObject({ message: expect.stringContaining('short') });
      expect(await s.history({ limit: 100_000 })).toEqual(before);
      expect(await s.resolve('max_file_size_mb', { tenantId: 'mercy_hospital' })).toMatchObject({
        value: '10',
      });
    });
  });

  it('refuses writes the operator may not make, with a clear reason, and changes nothing', async () => {
    const refusals: Array<[string | null, string, string, RegExp]> = [
      [
        'medical_admin',
        'department',
        'mercy_hospital/marketing',
        /requires super_admin, tenant_admin of mercy_hospital or dept_admin of mercy_hospital\/marketing/,
      ],
      [
        'mercy_admin',
        'tenant',
        'general_hospital',
        /requires super_admin or tenant_admin of general_hospital/,
      ],
      ['mercy_admin', 'global', '', /requires super_admin/],
      ['marketing_lead', 'department', 'mercy_hospital/marketing', /lacks the config_write trait/],
      ['user123', 'user', 'user123', /lacks the admin_capable trait/],
      [
        'general_admin',
        'group',
        'doctors',
        /requires super_admin, tenant_admin of mercy_hospital or dept_admin of mercy_hospital\/medical/,
      ],
    ];
    for (const [op, level, scope, why] of refusals) {
      await withService(kind, op, async (s) => {
        await expect(
          s.set({
            level: level as 'global',
            scope,
            key: 'ui.theme',
            value: 'dark',
            reason: 'should not land',
          }),
        ).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(why) });
      });
    }
    if (kind === 'draft') {
      await withService(kind, null, async (s) => {
        await expect(
          s.set({ level: 'global', scope: '', key: 'ui.theme', value: 'dark' }),
        ).rejects.toMatchObject({
          code: 'forbidden',
          message: expect.stringContaining('pass --as <user id>'),
        });
      });
    }
    await withService(kind, null, async (s) => {
      const h = await s.history({ key: 'ui.theme' });
      expect(h.some((r) => r.reason === 'should not land')).toBe(false);
    });
  });

  it('lets each admin write where the access rules allow, with one audit record per write', async () => {
    const allowed: Array<[string, 'department' | 'group' | 'user' | 'tenant', string]> = [
      ['medical_admin', 'department', 'mercy_hospital/medical'],
      ['medical_admin', 'group', 'nurses'],
      ['mercy_admin', 'group', 'marketing_team'],
      ['general_admin', 'user', 'gh_dr_patel'],
      ['general_admin', 'tenant', 'general_hospital'],
    ];
    for (const [op, level, scope] of allowed) {
      await withService(kind, op, async (s) => {
        const r = await s.set({
          level,
          scope,
          key: 'ui.terminology',
          value: 'standard',
          reason: `by ${op}`,
        });
        expect(r).toMatchObject({
          mode: kind === 'postgres' ? 'live' : 'staged',
          level,
          scope,
          action: 'set',
          value: 'standard',
        });
        const h = await s.history({ key: 'ui.terminology', level, scope });
        expect(h[0]).toMatchObject({ changedBy: op, newValue: 'standard', reason: `by ${op}` });
      });
    }
  });

  it('records who, old, new and reason for set and unset; unset of nothing is not_found', async () => {
    await withService(kind, 'mercy_admin', async (s) => {
      await s.set({
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'organization_name',
        value: 'Mercy Health',
        reason: 'rebrand',
      });
      await s.unset({
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'organization_name',
        reason: 'revert to global',
      });
      const [del, upd] = await s.history({
        key: 'organization_name',
        level: 'tenant',
        scope: 'mercy_hospital',
      });
      expect(upd).toMatchObject({
        changeType: 'update',
        changedBy: 'mercy_admin',
        oldValue: 'Mercy Hospital Network',
        newValue: 'Mercy Health',
        reason: 'rebrand',
      });
      expect(del).toMatchObject({
        changeType: 'delete',
        changedBy: 'mercy_admin',
        oldValue: 'Mercy Health',
        newValue: null,
        reason: 'revert to global',
      });
      expect(Date.parse(del!.changedAt)).not.toBeNaN();
      await expect(
        s.unset({ level: 'tenant', scope: 'mercy_hospital', key: 'organization_name' }),
      ).rejects.toMatchObject({
        code: 'not_found',
        message: 'Nothing is set for organization_name at the tenant mercy_hospital.',
      });
      expect(await s.resolve('organization_name', { userId: 'user123' })).toMatchObject({
        value: null,
        level: 'default',
      });
    });
  });

  it('stores explicit "0" and "" as overrides', async () => {
    await withService(kind, 'superadmin', async (s) => {
      await s.set({ level: 'global', scope: '', key: 'custom.retries', value: '3' });
      await s.set({ level: 'tenant', scope: 'mercy_hospital', key: 'custom.retries', value: '0' });
      await s.set({
        level: 'department',
        scope: 'mercy_hospital/medical',
        key: 'custom.greeting',
        value: '',
      });
      expect(await s.resolve('custom.retries', { userId: 'user123' })).toMatchObject({
        value: '0',
        level: 'tenant',
      });
      expect(await s.resolve('custom.greeting', { userId: 'user123' })).toMatchObject({
        value: '',
        level: 'department',
      });
    });
  });

  it('refuses unknown scopes, bad keys and bad levels', async () => {
    await withService(kind, 'superadmin', async (s) => {
      await expect(
        s.set({ level: 'tenant', scope: 'mercy_hosptial', key: 'ui.theme', value: 'dark' }),
      ).rejects.toMatchObject({
        code: 'invalid',
        message:
          "Tenant 'mercy_hosptial' is not in the directory; check the spelling or add it first.",
      });
      await expect(
        s.set({ level: 'global', scope: '', key: 'bad key', value: 'x' }),
      ).rejects.toMatchObject({ code: 'invalid' });
      await expect(
        s.set({ level: 'planet' as 'global', scope: '', key: 'a.b', value: 'x' }),
      ).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringContaining(
          'valid levels are global, tenant, department, group, user',
        ),
      });
    });
  });

  it('encrypts secrets, masks them unless revealed, and audits only fingerprints', async () => {
    await withService(kind, 'mercy_admin', async (s) => {
      const r = await s.set({
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'providers.phaxio.api_secret',
        value: 'canary-secret-9f8e7d',
        reason: 'rotate',
      });
      expect(r.value).toBe(MASK);
      const stored = s.index.get({
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'providers.phaxio.api_secret',
      })!;
      expect(stored.encrypted).toBe(true);
      expect(stored.value.startsWith('enc:v1:')).toBe(true);
      expect(stored.value).not.toContain('canary');
      expect(await s.resolve('providers.phaxio.api_secret', { userId: 'user123' })).toMatchObject({
        value: MASK,
        encrypted: true,
      });
      expect(
        await s.resolve('providers.phaxio.api_secret', { userId: 'user123' }, { reveal: true }),
      ).toMatchObject({ value: 'canary-secret-9f8e7d' });
      const eff = await s.effective({ userId: 'user123' });
      expect(eff.find((i) => i.key === 'providers.phaxio.api_key')!.value).toBe(MASK);
      const [h] = await s.history({
        key: 'providers.phaxio.api_secret',
        level: 'tenant',
        scope: 'mercy_hospital',
      });
      expect(h!.newValue).toMatch(/^secret:fp=[0-9a-f]{16}$/);
      expect(JSON.stringify(await s.history({}))).not.toContain('canary');
    });
    if (kind === 'postgres') {
      const rows = await pgQuery(targets.postgres, 'SELECT * FROM config_audit');
      expect(JSON.stringify(rows)).not.toContain('canary');
    }
    const noKey = await open(kind, 'mercy_admin', false);
    try {
      await expect(
        noKey.set({
          level: 'tenant',
          scope: 'mercy_hospital',
          key: 'providers.phaxio.api_key',
          value: 'another-secret-1234',
        }),
      ).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringMatching(/^Secret providers\.phaxio\.api_key was not stored: /),
      });
      await expect(
        noKey.resolve('providers.phaxio.api_key', { userId: 'user123' }, { reveal: true }),
      ).rejects.toMatchObject({
        code: 'invalid',
      });
    } finally {
      await noKey.close();
    }
  });

  it('refuses a write whose expected version is stale (conflict) and applies one that matches', async () => {
    await withService(kind, 'superadmin', async (s) => {
      const e = s.index.get({ level: 'global', scope: '', key: 'ui.theme' })!;
      await expect(
        s.set({
          level: 'global',
          scope: '',
          key: 'ui.theme',
          value: 'dark',
          expectedVersion: e.version + 5,
        }),
      ).rejects.toMatchObject({ code: 'conflict' });
      await s.set({
        level: 'global',
        scope: '',
        key: 'ui.theme',
        value: 'dark',
        expectedVersion: e.version,
      });
      expect(
        await s.resolve('ui.theme', { tenantId: 'general_hospital', department: 'administration' }),
      ).toMatchObject({ value: 'medical' });
      await s.set({ level: 'global', scope: '', key: 'ui.theme', value: 'neutral' });
    });
  });

  it('writes a change set all or nothing, one audit record per change with the batch reason', async () => {
    await withService(kind, 'mercy_admin', async (s) => {
      const before = await s.history({ limit: 100_000 });
      await expect(
        s.writeBatch(
          [
            { level: 'group', scope: 'nurses', key: 'ui.theme', value: 'dark' },
            { level: 'tenant', scope: 'general_hospital', key: 'ui.theme', value: 'dark' },
          ],
          { reason: 'batch' },
        ),
      ).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringContaining('general_hospital'),
      });
      await expect(
        s.writeBatch([
          { level: 'group', scope: 'nurses', key: 'ui.theme', value: 'dark' },
          { level: 'group', scope: 'doctors', key: 'ui.theme', value: 'purple' },
        ]),
      ).rejects.toMatchObject({ code: 'invalid', details: { rule: 'options' } });
      expect(await s.history({ limit: 100_000 })).toEqual(before);
      const results = await s.writeBatch(
        [
          { level: 'group', scope: 'nurses', key: 'ui.theme', value: 'dark' },
          { level: 'group', scope: 'doctors', key: 'ui.theme', value: 'medical' },
          { level: 'user', scope: 'user123', key: 'ui.theme', action: 'unset' },
        ],
        { reason: 'theme sweep' },
      );
      expect(results.map((r) => [r.action, r.scope, r.value])).toEqual([
        ['set', 'nurses', 'dark'],
        ['set', 'doctors', 'medical'],
        ['unset', 'user123', null],
      ]);
      const after = (await s.history({ key: 'ui.theme', limit: 3 })).map((h) => [
        h.scope,
        h.changeType,
        h.reason,
      ]);
      expect(after).toEqual(
        expect.arrayContaining([
          ['nurses', 'create', 'theme sweep'],
          ['doctors', 'create', 'theme sweep'],
          ['user123', 'delete', 'theme sweep'],
        ]),
      );
      expect(await s.resolve('ui.theme', { userId: 'user123' })).toMatchObject({
        value: 'medical',
        scope: 'doctors',
      });
      await s.writeBatch(
        [
          { level: 'group', scope: 'nurses', key: 'ui.theme', action: 'unset' },
          { level: 'group', scope: 'doctors', key: 'ui.theme', action: 'unset' },
        ],
        { reason: 'undo' },
      );
    });
    await withService(kind, 'superadmin', (s) =>
      s.set({ level: 'user', scope: 'user123', key: 'ui.theme', value: 'dark' }),
    );
  });

  it('keeps the index equal to a fresh load after writes', async () => {
    const s = await open(kind, 'superadmin');
    try {
      await s.set({
        level: 'group',
        scope: 'doctors',
        key: 'fax_backend',
        value: 'sinch',
        reason: 'index check',
      });
      await s.set({ level: 'user', scope: 'dr_house', key: 'priority_processing', value: 'yes' });
      await s.unset({ level: 'group', scope: 'doctors', key: 'notification_urgency' });
      const fresh = await open(kind, null);
      try {
        for (const u of (await s.directory()).users) {
          expect(await s.effective({ userId: u.id })).toEqual(
            await fresh.effective({ userId: u.id }),
          );
        }
        expect(await s.entries('group', 'doctors')).toEqual(
          await fresh.entries('group', 'doctors'),
        );
        expect(await s.resolve('priority_processing', { userId: 'dr_house' })).toMatchObject({
          value: 'true',
          level: 'user',
        });
      } finally {
        await fresh.close();
      }
      // Leave the shared demo as it was for the other tests.
      await s.unset({ level: 'group', scope: 'doctors', key: 'fax_backend' });
      await s.unset({ level: 'user', scope: 'dr_house', key: 'priority_processing' });
      await s.set({
        level: 'group',
        scope: 'doctors',
        key: 'notification_urgency',
        value: 'normal',
      });
    } finally {
      await s.close();
    }
  });

  it('reports the workspace and lists keys, users and entries', async () => {
    await withService(kind, 'medical_admin', async (s) => {
      const info = await s.info();
      expect(info).toMatchObject({
        kind,
        operator: 'medical_admin',
        operatorTraits: ['admin_capable', 'config_write', 'dept_admin'],
      });
      expect(info.target).not.toContain('strata-test');
      expect(await s.listKeys('compliance.')).toEqual([
        'compliance.hipaa.audit_level',
        'compliance.hipaa.enabled',
      ]);
      expect(
        s.users({ tenantId: 'mercy_hospital', department: 'marketing' }).map((u) => u.id),
      ).toEqual(['marketing_lead', 'mkt_anna', 'mkt_ben']);
      expect(s.users({ group: 'gh_oncall' }).map((u) => [u.id, u.groups])).toEqual([
        ['gh_dr_osei', ['gh_oncall', 'gh_doctors']],
        ['gh_nurse_diaz', ['gh_nurses', 'gh_oncall']],
      ]);
      const entries = await s.entries('department', 'mercy_hospital/marketing');
      expect(entries.find((e) => e.key === 'hipaa_mode')).toMatchObject({
        value: 'false',
        valueType: 'boolean',
        version: 1,
      });
    });
  });
});

describe('operator on PostgreSQL', () => {
  it('is the directory user mapped to the connection role, else the role (a superuser counts as super_admin)', async () => {
    const s = await openService({ db: targets.postgres, codec: null });
    try {
      expect(s.operator()).toMatchObject({
        id: 'postgres',
        source: 'superuser',
        traits: ['admin_capable', 'super_admin', 'config_write'],
      });
    } finally {
      await s.close();
    }
    await pgQuery(
      targets.postgres,
      "UPDATE users SET db_role = 'postgres' WHERE id = 'mercy_admin'",
    );
    try {
      const m = await openService({ db: targets.postgres, codec: null });
      try {
        expect(m.operator()).toMatchObject({ id: 'mercy_admin', source: 'db-role' });
        await expect(
          m.set({ level: 'global', scope: '', key: 'ui.theme', value: 'dark' }),
        ).rejects.toMatchObject({ code: 'forbidden' });
      } finally {
        await m.close();
      }
    } finally {
      await pgQuery(targets.postgres, "UPDATE users SET db_role = NULL WHERE id = 'mercy_admin'");
    }
    await expect(openService({ db: targets.postgres, operator: 'ghost' })).rejects.toMatchObject({
      code: 'invalid',
      message:
        "Operator 'ghost' is not a user in the directory; pass --as with a directory user id.",
    });
  });
});

describe('library (the seed ConfigProvider shape)', () => {
  it('gets, sets, deletes, lists and explains values', async () => {
    const config = await ConfigProvider.open({
      db: targets.postgres,
      operator: 'superadmin',
      codec: testCodec(),
    });
    try {
      const v = await config.get('fax_backend', 'user123');
      expect(v).toMatchObject({
        value: 'sip',
        sourceLevel: 'group',
        sourceId: 'emergency_doctors_group',
      });
      expect((await config.get('max_file_size_mb', { userId: 'user123' })).value).toBe(25);
      expect((await config.get('hipaa_mode', 'mkt_anna')).value).toBe(false);
      expect((await config.get('nothing.here', 'user123', 'fallback')).value).toBe('fallback');
      await config.set('uploads.max_size_mb', 42, 'user', 'user123', { reason: 'library test' });
      expect((await config.get('uploads.max_size_mb', 'user123')).value).toBe(42);
      expect(await config.delete('uploads.max_size_mb', 'user', 'user123')).toBe(true);
      expect(await config.delete('uploads.max_size_mb', 'user', 'user123')).toBe(false);
      expect(await config.listKeys('ui.')).toEqual(['ui.terminology', 'ui.theme']);
      const h = await config.getHierarchy('fax_backend', 'user123');
      expect(h.filter((l) => l.winner).map((l) => l.sourceId)).toEqual(['emergency_doctors_group']);
      const eff = await config.getEffectiveConfig('user123');
      expect(eff['compliance.hipaa.enabled']).toBe(true);
      expect(eff['providers.phaxio.api_key']).toBe(MASK);
    } finally {
      await config.close();
    }
    const reveal = await ConfigProvider.open({
      db: targets.postgres,
      codec: testCodec(),
      revealSecrets: true,
    });
    try {
      expect((await reveal.get('providers.phaxio.api_key', 'user123')).value).toBe(
        'demo-mercy-phaxio-key-0002',
      );
    } finally {
      await reveal.close();
    }
  });
});
