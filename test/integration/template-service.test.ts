/**
 * The template service on real workspaces (SQLite drafts and a migrated PostgreSQL holding the
 * demo network): every built-in applies with valid variables and is refused, changing nothing,
 * with each kind of invalid one; secrets are encrypted and never shown; tenants are provisioned
 * as one unit (a database-side failure leaves no half-made tenant); upgrades stage exactly the
 * difference between versions; custom templates never hold secrets; bulk edits are one set.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import { pushDraft } from '../../src-main/services/push-service.js';
import { builtinTemplatesDir } from '../../src-main/services/template-files.js';
import { TemplateService, recoverVariables } from '../../src-main/services/template-service.js';
import {
  readTemplateRecords,
  seedBuiltinTemplates,
} from '../../src-main/services/template-store.js';
import type { SqliteStore } from '../../src-main/store/sqlite-store.js';
import type { TemplateDefinition } from '../../src-main/core/templates/index.js';
import { StrataError } from '../../src-main/core/types.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { migratedPg, pgQuery, tempDir, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

const MASK = '••••••••';
const codec = codecChoiceOf(testCodec());

const VALID: Record<string, Record<string, string>> = {
  healthcare: {},
  business: {},
  default: {},
  'gmail-smtp': { EMAIL_USER: 'frontdesk@gmail.com', EMAIL_PASS: 'abcdefghijklmnop' },
  'sendgrid-smtp': { SENDGRID_API_KEY: 'SG.abcdefghijklmnopqrstuv.wxyz0123456789_-AB' },
  'mailtrap-smtp': { MAILTRAP_USER: '1a2b3c4d5e6f7g', MAILTRAP_PASS: '9z8y7x6w5v4u3t' },
};

// Each SMTP template gets its own department, so re-applying one finds its own values.
const SMTP_SCOPE: Record<string, string> = {
  'gmail-smtp': 'mercy_hospital/it',
  'sendgrid-smtp': 'mercy_hospital/marketing',
  'mailtrap-smtp': 'mercy_hospital/medical',
};

/** Invalid variable values per built-in: [variable, bad value, rule the message names]. */
const INVALID: Record<string, Array<[string, string, RegExp]>> = {
  'gmail-smtp': [
    ['EMAIL_USER', 'frontdesk@yahoo.com', /must match the pattern/],
    ['EMAIL_PASS', 'short', /exactly 16 characters/],
    ['EMAIL_PASS', 'abcdefghijklmnopq', /exactly 16 characters/],
    ['EMAIL_PASS', 'abcdefgh ijklmno', /must match the pattern/],
  ],
  'sendgrid-smtp': [
    ['SENDGRID_API_KEY', 'SG.a.b', /at least 20 characters/],
    ['SENDGRID_API_KEY', 'XX.abcdefghijklmnopqrstuv.wxyz', /must match the pattern/],
  ],
  'mailtrap-smtp': [
    ['MAILTRAP_USER', 'ab', /at least 3 characters/],
    ['MAILTRAP_USER', 'x'.repeat(101), /at most 100 characters/],
    ['MAILTRAP_USER', 'has space', /must match the pattern/],
    ['MAILTRAP_PASS', 'short', /at least 8 characters/],
  ],
};

async function draftDemo(operator = 'superadmin'): Promise<{
  db: string;
  svc: StrataConfigService;
  t: TemplateService;
}> {
  const db = join(tempDir('strata-tpl-'), 'demo.sqlite');
  await loadDemo(db, { codec });
  const svc = await openService({ db, operator, codec: testCodec() });
  return { db, svc, t: new TemplateService(svc) };
}

function staged(svc: StrataConfigService) {
  return (svc.store as SqliteStore).stagedChanges();
}

function errorOf(fn: () => Promise<unknown>): Promise<StrataError> {
  return fn().then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(StrataError);
      return e as StrataError;
    },
  );
}

describe('built-in templates on a draft', () => {
  let ctx: Awaited<ReturnType<typeof draftDemo>>;
  beforeAll(async () => {
    ctx = await draftDemo();
  });
  afterAll(async () => ctx.svc.close());

  it('are stored in config_templates by strata demo (the seed step)', async () => {
    const { records } = await readTemplateRecords(ctx.svc.store);
    expect([...records.keys()].sort()).toEqual(Object.keys(VALID).sort());
    const list = await ctx.t.list();
    expect(list.every((s) => s.stored && s.source === 'builtin' && s.shippedVersion === null)).toBe(
      true,
    );
  });

  it('each applies with valid variables and stages what the scope lacks', async () => {
    for (const [name, vars] of Object.entries(VALID)) {
      const scope = SMTP_SCOPE[name] ?? 'general_hospital';
      const level = name.endsWith('-smtp') ? 'department' : 'tenant';
      const r = await ctx.t.apply({ template: name, level, scope, vars });
      expect(r.mode).toBe('staged');
      const def = (await ctx.t.show(name)).definition;
      // Every key the template sets now holds the rendered value at the scope.
      for (const key of Object.keys(def.configs)) {
        const e = ctx.svc.index.get({ level, scope, key });
        expect(e, `${name} ${key}`).toBeDefined();
      }
      const apps = await ctx.t.applications(name);
      expect(apps).toContainEqual(expect.objectContaining({ level, scope, version: def.version }));
    }
    // Applied twice: nothing left to write.
    const again = await ctx.t.apply({
      template: 'gmail-smtp',
      level: 'department',
      scope: 'mercy_hospital/it',
      vars: VALID['gmail-smtp']!,
    });
    expect(again.written).toBe(0);
    expect(again.items.every((i) => i.action === 'unchanged')).toBe(true);
  });

  it('each refuses an unknown, a missing and every kind of invalid variable, changing nothing', async () => {
    const before = staged(ctx.svc).length;
    const entriesBefore = ctx.svc.index.allEntries().length;
    for (const [name, vars] of Object.entries(VALID)) {
      const target = { template: name, level: 'tenant' as const, scope: 'mercy_hospital' };
      const unknown = await errorOf(() => ctx.t.apply({ ...target, vars: { ...vars, NOPE: 'x' } }));
      expect(unknown.code).toBe('invalid');
      expect(unknown.message).toContain('NOPE is not a variable of template');
      for (const v of Object.keys(vars)) {
        const rest = { ...vars };
        delete rest[v];
        const missing = await errorOf(() => ctx.t.apply({ ...target, vars: rest }));
        expect(missing.message).toContain(`${v} is required`);
      }
      for (const [v, bad, rule] of INVALID[name] ?? []) {
        const e = await errorOf(() => ctx.t.apply({ ...target, vars: { ...vars, [v]: bad } }));
        expect(e.code).toBe('invalid');
        expect(e.message).toContain(v);
        expect(e.message).toMatch(rule);
        const preview = await ctx.t.preview({ ...target, vars: { ...vars, [v]: bad } });
        expect(preview.ok).toBe(false);
        expect(preview.errors.map((x) => x.variable)).toContain(v);
        // Secret values never appear in a refusal.
        const def = (await ctx.t.show(name)).definition;
        if (def.variables.find((x) => x.name === v)?.secret) {
          expect(e.message).not.toContain(bad);
          expect(JSON.stringify(preview)).not.toContain(bad);
        }
      }
    }
    expect(staged(ctx.svc)).toHaveLength(before);
    expect(ctx.svc.index.allEntries()).toHaveLength(entriesBefore);
  });

  it('refuses a level the template does not allow and a scope the directory lacks', async () => {
    const lvl = await errorOf(() =>
      ctx.t.apply({ template: 'healthcare', level: 'department', scope: 'mercy_hospital/it' }),
    );
    expect(lvl.message).toContain('applies at the tenant level, not department');
    const scope = await errorOf(() =>
      ctx.t.apply({ template: 'healthcare', level: 'tenant', scope: 'no_such_tenant' }),
    );
    expect(scope.message).toContain("Tenant 'no_such_tenant' is not in the directory");
    const none = await errorOf(() =>
      ctx.t.apply({ template: 'nope', level: 'tenant', scope: 'x' }),
    );
    expect(none.code).toBe('not_found');
  });

  it('refuses an operator without rights, naming the reason', async () => {
    const svc = await openService({ db: ctx.db, operator: 'mercy_admin', codec: testCodec() });
    try {
      const t = new TemplateService(svc);
      const e = await errorOf(() =>
        t.apply({ template: 'business', level: 'tenant', scope: 'general_hospital' }),
      );
      expect(e.message).toContain('Template "business" was not applied');
      expect(e.message).toContain('requires super_admin or tenant_admin of general_hospital');
      const p = await t.preview({ template: 'default', level: 'tenant', scope: 'mercy_hospital' });
      expect(p.ok).toBe(true);
    } finally {
      await svc.close();
    }
  });

  it('previews a diff against what the scope holds and inherits', async () => {
    const p = await ctx.t.preview({
      template: 'business',
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    expect(p.ok).toBe(true);
    const hipaa = p.items.find((i) => i.key === 'compliance.hipaa.enabled')!;
    expect(hipaa).toMatchObject({ action: 'update', currentValue: 'true', value: 'false' });
    const marketing = p.items.find((i) => i.key === 'notifications.marketing_features')!;
    expect(marketing.currentValue).toBeNull();
    expect(marketing.inheritedFrom).not.toBeNull();
    expect(p.instructions.length).toBeGreaterThan(0);
  });
});

describe('secrets in templates', () => {
  it('are encrypted on write and masked in every result, audit row and error (PostgreSQL)', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec });
    const svc = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      const t = new TemplateService(svc);
      const r = await t.apply({
        template: 'gmail-smtp',
        level: 'tenant',
        scope: 'general_hospital',
        vars: VALID['gmail-smtp']!,
        reason: 'mail for the front desk',
      });
      expect(r.mode).toBe('live');
      expect(JSON.stringify(r)).not.toContain('abcdefghijklmnop');
      expect(r.items.find((i) => i.key === 'smtp.auth_pass')).toMatchObject({
        value: MASK,
        secret: true,
      });
      const [row] = await pgQuery<{ value: string; encrypted: boolean }>(
        url,
        "SELECT value, encrypted FROM config_tenant WHERE tenant_id = 'general_hospital' AND key = 'smtp.auth_pass'",
      );
      expect(row!.encrypted).toBe(true);
      expect(row!.value.startsWith('enc:v1:')).toBe(true);
      expect(
        testCodec().decrypt(
          { level: 'tenant', scope: 'general_hospital', key: 'smtp.auth_pass' },
          row!.value,
        ),
      ).toBe('abcdefghijklmnop');
      const audit = await pgQuery<{
        key: string;
        new_value: string;
        reason: string;
        changed_by: string;
      }>(
        url,
        "SELECT key, new_value, reason, changed_by FROM config_audit WHERE config_id = 'general_hospital' AND key LIKE 'smtp.%'",
      );
      expect(audit).toHaveLength(5);
      expect(
        audit.every((a) => a.reason === 'mail for the front desk' && a.changed_by === 'superadmin'),
      ).toBe(true);
      expect(JSON.stringify(audit)).not.toContain('abcdefghijklmnop');
      expect(audit.find((a) => a.key === 'smtp.auth_pass')!.new_value).toMatch(/^secret:fp=/);
      const apps = await pgQuery(
        url,
        'SELECT template_name, version, level, scope, applied_by FROM template_applications',
      );
      expect(apps).toEqual([
        {
          template_name: 'gmail-smtp',
          version: 1,
          level: 'tenant',
          scope: 'general_hospital',
          applied_by: 'superadmin',
        },
      ]);
      // Re-applying with the same secret compares by decryption: nothing to write.
      const again = await t.apply({
        template: 'gmail-smtp',
        level: 'tenant',
        scope: 'general_hospital',
        vars: VALID['gmail-smtp']!,
      });
      expect(again.written).toBe(0);
    } finally {
      await svc.close();
    }
  });

  it('are refused, not stored in plaintext, when no encryption key is configured', async () => {
    const db = join(tempDir('strata-tpl-'), 'demo.sqlite');
    await loadDemo(db, { codec });
    const svc = await openService({ db, operator: 'superadmin', codec: null });
    try {
      const t = new TemplateService(svc);
      const e = await errorOf(() =>
        t.apply({
          template: 'gmail-smtp',
          level: 'tenant',
          scope: 'mercy_hospital',
          vars: VALID['gmail-smtp']!,
        }),
      );
      expect(e.message).toContain('Secret smtp.auth_pass was not stored');
      expect(staged(svc)).toHaveLength(0);
    } finally {
      await svc.close();
    }
  });
});

describe('tenant provisioning', () => {
  it('creates the tenant, departments, groups in order and values in a draft as one change set', async () => {
    const { svc, t } = await draftDemo();
    try {
      const r = await t.createTenant({
        id: 'st_marys',
        name: "St Mary's Hospital",
        template: 'healthcare',
        departments: ['emergency', { id: 'radiology', name: 'Radiology & Imaging' }],
        groups: [
          { id: 'er_doctors', department: 'emergency' },
          { id: 'radiologists', department: 'radiology' },
          { id: 'everyone' },
        ],
      });
      expect(r.mode).toBe('staged');
      expect(r.groups.map((g) => [g.id, g.order])).toEqual([
        ['st_marys.er_doctors', 0],
        ['st_marys.radiologists', 1],
        ['st_marys.everyone', 2],
      ]);
      const dir = await svc.directory();
      expect(dir.tenants).toContainEqual({
        id: 'st_marys',
        name: "St Mary's Hospital",
        tenantType: 'healthcare',
      });
      expect(dir.departments.filter((d) => d.tenantId === 'st_marys')).toEqual([
        { tenantId: 'st_marys', id: 'emergency', name: 'Emergency' },
        { tenantId: 'st_marys', id: 'radiology', name: 'Radiology & Imaging' },
      ]);
      expect(
        dir.groups
          .filter((g) => g.tenantId === 'st_marys')
          .map((g) => g.id)
          .sort(),
      ).toEqual(['st_marys.er_doctors', 'st_marys.everyone', 'st_marys.radiologists']);
      const rows = staged(svc);
      expect(rows.map((s) => `${s.level}:${s.scope}:${s.key}`).sort()).toEqual(
        Object.keys((await t.show('healthcare')).definition.configs)
          .map((k) => `tenant:st_marys:${k}`)
          .sort(),
      );
      const hipaa = svc.index.get({
        level: 'tenant',
        scope: 'st_marys',
        key: 'compliance.hipaa.enabled',
      });
      expect(hipaa).toMatchObject({ value: 'true', locked: true });
      expect(await t.applications('healthcare')).toContainEqual(
        expect.objectContaining({ level: 'tenant', scope: 'st_marys', version: 1 }),
      );
      // Resolution for the new tenant sees the template values.
      const res = await svc.resolve('ui.theme', { tenantId: 'st_marys', department: 'emergency' });
      expect(res).toMatchObject({ value: 'medical', level: 'tenant', scope: 'st_marys' });

      const dup = await errorOf(() =>
        t.createTenant({ id: 'st_marys', name: 'Again', template: 'default' }),
      );
      expect(dup.code).toBe('conflict');
      const bad = await errorOf(() =>
        t.createTenant({
          id: 'bad/id',
          name: '',
          template: 'default',
          groups: [{ id: 'g', department: 'nowhere' }],
        }),
      );
      expect(bad.code).toBe('invalid');
      expect(bad.message).toContain('Tenant id "bad/id"');
      expect(bad.message).toContain('Tenant name must not be empty');
      expect(bad.message).toContain('department nowhere');
      expect(staged(svc)).toHaveLength(rows.length);
    } finally {
      await svc.close();
    }
  });

  it('pushes a tenant provisioned in a draft to PostgreSQL as one unit, or not at all', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec });
    const file = join(tempDir('strata-tpl-push-'), 'draft.sqlite');
    await pullDraft(url, file);
    const svc = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
    try {
      const t = new TemplateService(svc);
      await t.createTenant({
        id: 'st_marys',
        name: "St Mary's Hospital",
        template: 'healthcare',
        groups: [{ id: 'doctors', department: 'medical' }, { id: 'nurses' }],
      });
    } finally {
      await svc.close();
    }
    const nothingOf = async () => {
      expect(await pgQuery(url, "SELECT id FROM tenants WHERE id = 'st_marys'")).toEqual([]);
      expect(await pgQuery(url, "SELECT id FROM departments WHERE tenant_id = 'st_marys'")).toEqual(
        [],
      );
      expect(
        await pgQuery(url, "SELECT key FROM config_tenant WHERE tenant_id = 'st_marys'"),
      ).toEqual([]);
    };
    // Production gained one of the new groups meanwhile: the push must not create half a tenant.
    await pgQuery(
      url,
      "INSERT INTO groups (id, tenant_id, department, name) VALUES ('st_marys.nurses', 'general_hospital', NULL, 'Elsewhere')",
    );
    const refused = await pushDraft(file, {
      to: url,
      operator: 'superadmin',
      reason: 'new site',
    }).then(
      () => null,
      (e: unknown) => e as StrataError,
    );
    expect(refused?.code).toBe('conflict');
    await nothingOf();

    await pgQuery(url, "DELETE FROM groups WHERE id = 'st_marys.nurses'");
    const pushed = await pushDraft(file, { to: url, operator: 'superadmin', reason: 'new site' });
    expect(pushed.status).toBe('applied');
    expect(pushed.directory).toBe(1 + 3 + 2);
    expect(
      await pgQuery(url, "SELECT id, name, tenant_type FROM tenants WHERE id = 'st_marys'"),
    ).toEqual([{ id: 'st_marys', name: "St Mary's Hospital", tenant_type: 'healthcare' }]);
    const groups = await pgQuery<{ id: string; department: string | null }>(
      url,
      "SELECT id, department FROM groups WHERE tenant_id = 'st_marys' ORDER BY id",
    );
    expect(groups).toEqual([
      { id: 'st_marys.doctors', department: 'medical' },
      { id: 'st_marys.nurses', department: null },
    ]);
    const audit = await pgQuery<{ config_table: string; push_id: string; reason: string }>(
      url,
      "SELECT config_table, push_id, reason FROM config_audit WHERE config_id = 'st_marys'",
    );
    // Seven tenant values and the tenant itself (directory audit, 0270), all in the push.
    expect(audit.filter((a) => a.config_table === 'tenant')).toHaveLength(7);
    expect(audit.filter((a) => a.config_table === 'dir:tenant')).toHaveLength(1);
    expect(new Set(audit.map((a) => a.push_id))).toEqual(new Set([pushed.pushId]));
    expect(await pgQuery(url, 'SELECT count(*)::int AS n FROM config_pushes')).toEqual([{ n: 1 }]);
  });

  it('only a super_admin may create tenants', async () => {
    const { svc, t } = await draftDemo('mercy_admin');
    try {
      const e = await errorOf(() => t.createTenant({ id: 'x', name: 'X', template: 'default' }));
      expect(e.code).toBe('forbidden');
      expect((await svc.directory()).tenants.map((x) => x.id)).not.toContain('x');
    } finally {
      await svc.close();
    }
  });

  it('creates a tenant live on PostgreSQL in one transaction, and rolls all of it back on failure', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec });
    const svc = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      const t = new TemplateService(svc);
      const r = await t.createTenant({ id: 'st_lukes', name: "St Luke's", template: 'business' });
      expect(r.mode).toBe('live');
      expect(
        await pgQuery(url, "SELECT id, name, tenant_type FROM tenants WHERE id = 'st_lukes'"),
      ).toEqual([{ id: 'st_lukes', name: "St Luke's", tenant_type: 'business' }]);
      const depts = await pgQuery<{ id: string }>(
        url,
        "SELECT id FROM departments WHERE tenant_id = 'st_lukes' ORDER BY id",
      );
      expect(depts.map((d) => d.id)).toEqual(['administration', 'it', 'operations']);
      const values = await pgQuery<{ key: string }>(
        url,
        "SELECT key FROM config_tenant WHERE tenant_id = 'st_lukes'",
      );
      expect(values).toHaveLength(
        Object.keys((await t.show('business')).definition.configs).length,
      );
      const audit = await pgQuery<{ config_table: string; reason: string }>(
        url,
        "SELECT config_table, reason FROM config_audit WHERE config_id = 'st_lukes' ORDER BY seq",
      );
      // The tenant row (directory audit, 0270), then one row per value, all with the reason.
      expect(audit.map((a) => a.config_table)).toEqual([
        'dir:tenant',
        ...values.map(() => 'tenant'),
      ]);
      for (const a of audit) {
        expect(a.reason).toContain('create tenant st_lukes from template business v1');
      }

      // A group that appears in the database behind the service's back makes the insert fail
      // half-way: nothing of the tenant may remain.
      await pgQuery(
        url,
        "INSERT INTO groups (id, tenant_id, department, name) VALUES ('st_johns.staff', 'general_hospital', NULL, 'x')",
      );
      const e = await errorOf(() =>
        t.createTenant({ id: 'st_johns', name: "St John's", template: 'default' }),
      );
      expect(e.code).toBe('conflict');
      expect(await pgQuery(url, "SELECT id FROM tenants WHERE id = 'st_johns'")).toEqual([]);
      expect(await pgQuery(url, "SELECT id FROM departments WHERE tenant_id = 'st_johns'")).toEqual(
        [],
      );
      expect(
        await pgQuery(url, "SELECT key FROM config_tenant WHERE tenant_id = 'st_johns'"),
      ).toEqual([]);
      expect(
        await pgQuery(url, "SELECT 1 FROM template_applications WHERE scope = 'st_johns'"),
      ).toEqual([]);
    } finally {
      await svc.close();
    }
  });
});

/** The gmail template at v2: port 465 over SSL, smtp.secure dropped, a timeout added. */
function gmailV2(v1: TemplateDefinition): TemplateDefinition {
  const configs = { ...v1.configs };
  configs['smtp.port'] = { value: '465' };
  delete configs['smtp.secure'];
  configs['smtp.timeout_ms'] = { value: '10000', valueType: 'number' };
  return {
    ...v1,
    version: 2,
    configs,
    metadata: v1.metadata?.filter((m) => m.key !== 'smtp.secure'),
  };
}

describe('template upgrades', () => {
  it('stage exactly the difference from v1 to v2 for each scope that used v1', async () => {
    const { svc, t } = await draftDemo();
    try {
      await t.apply({
        template: 'gmail-smtp',
        level: 'tenant',
        scope: 'general_hospital',
        vars: VALID['gmail-smtp']!,
      });
      await t.apply({
        template: 'gmail-smtp',
        level: 'department',
        scope: 'mercy_hospital/it',
        vars: {
          EMAIL_USER: 'it@gmail.com',
          EMAIL_PASS: 'ponmlkjihgfedcba',
        },
      });
      const v1 = (await t.show('gmail-smtp')).definition;
      expect(await t.upgrades()).toEqual([]);
      const published = await t.publish(gmailV2(v1));
      expect(published.versions).toEqual([1, 2]);

      const ups = await t.upgrades({ template: 'gmail-smtp' });
      expect(ups.map((u) => `${u.level}:${u.scope}`).sort()).toEqual([
        'department:mercy_hospital/it',
        'tenant:general_hospital',
      ]);
      for (const u of ups) {
        expect(u).toMatchObject({ ok: true, exact: true, fromVersion: 1, toVersion: 2 });
        expect(u.items.map((i) => [i.key, i.action, i.value]).sort()).toEqual([
          ['smtp.port', 'update', '465'],
          ['smtp.secure', 'remove', null],
          ['smtp.timeout_ms', 'create', '10000'],
        ]);
      }
      expect((await t.upgrades({ tenant: 'general_hospital' })).map((u) => u.scope)).toEqual([
        'general_hospital',
      ]);

      // The staged state of each slot (the v1 values are staged too in this draft).
      const state = () =>
        new Map(
          staged(svc).map((s) => [`${s.level}:${s.scope}:${s.key}`, `${s.action}=${s.value}`]),
        );
      const before = state();
      const r = await t.upgrade({
        template: 'gmail-smtp',
        level: 'tenant',
        scope: 'general_hospital',
      });
      expect(r.written).toBe(3);
      const after = state();
      const moved = [...new Set([...before.keys(), ...after.keys()])]
        .filter((k) => before.get(k) !== after.get(k))
        .map((k) => [k, after.get(k) ?? null])
        .sort();
      // smtp.secure was only staged, so removing it drops the staged value (the base has none).
      expect(moved).toEqual([
        ['tenant:general_hospital:smtp.port', 'set=465'],
        ['tenant:general_hospital:smtp.secure', null],
        ['tenant:general_hospital:smtp.timeout_ms', 'set=10000'],
      ]);
      expect(
        svc.index.get({ level: 'tenant', scope: 'general_hospital', key: 'smtp.secure' }),
      ).toBeUndefined();
      // The untouched secret and the keys the template does not own stay as they were.
      expect(
        svc.index.get({ level: 'tenant', scope: 'general_hospital', key: 'smtp.auth_user' })?.value,
      ).toBe('frontdesk@gmail.com');
      expect(
        svc.index.get({ level: 'tenant', scope: 'general_hospital', key: 'ui.theme' })?.value,
      ).toBe('medical');
      expect((await t.upgrades()).map((u) => u.scope)).toEqual(['mercy_hospital/it']);
      const apps = await t.applications('gmail-smtp');
      expect(apps.find((a) => a.scope === 'general_hospital')?.version).toBe(2);
      const again = await errorOf(() =>
        t.upgrade({ template: 'gmail-smtp', level: 'tenant', scope: 'general_hospital' }),
      );
      expect(again.code).toBe('conflict');
    } finally {
      await svc.close();
    }
  });

  it('follow a newer shipped built-in loaded by the seed step, keeping the old version', async () => {
    const { svc, t } = await draftDemo();
    try {
      await t.createTenant({ id: 'st_anne', name: 'St Anne', template: 'healthcare' });
      const dir = tempDir('strata-tpl-files-');
      cpSync(builtinTemplatesDir(), dir, { recursive: true });
      const file = join(dir, 'healthcare.json');
      const v2 = JSON.parse(readFileSync(file, 'utf8')) as TemplateDefinition;
      v2.version = 2;
      v2.configs['ui.theme'] = { value: 'neutral', valueType: 'string' };
      v2.configs['features.email_gateway.enabled'] = { value: 'true', valueType: 'boolean' };
      writeFileSync(file, JSON.stringify(v2));

      const seeded = await seedBuiltinTemplates(svc.store, { dir });
      expect(seeded).toEqual({
        added: [],
        upgraded: [{ name: 'healthcare', from: 1, to: 2 }],
        metadata: [],
      });
      const { records } = await readTemplateRecords(svc.store);
      expect(records.get('healthcare')!.history.map((h) => h.version)).toEqual([1]);
      // Seeding again changes nothing.
      expect(await seedBuiltinTemplates(svc.store, { dir })).toEqual({
        added: [],
        upgraded: [],
        metadata: [],
      });

      const ups = await t.upgrades({ tenant: 'st_anne' });
      expect(ups).toHaveLength(1);
      expect(ups[0]!.items.map((i) => [i.key, i.action, i.currentValue, i.value]).sort()).toEqual([
        ['features.email_gateway.enabled', 'update', 'false', 'true'],
        ['ui.theme', 'update', 'medical', 'neutral'],
      ]);
    } finally {
      await svc.close();
    }
  });

  it('write exactly the difference live on PostgreSQL: one audit row per changed key', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec });
    const svc = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      const t = new TemplateService(svc);
      await t.apply({
        template: 'gmail-smtp',
        level: 'tenant',
        scope: 'general_hospital',
        vars: VALID['gmail-smtp']!,
      });
      await t.publish(gmailV2((await t.show('gmail-smtp')).definition));
      const [{ seq }] = (await pgQuery<{ seq: number }>(
        url,
        'SELECT coalesce(max(seq), 0)::int AS seq FROM config_audit',
      )) as [{ seq: number }];
      const r = await t.upgrade({
        template: 'gmail-smtp',
        level: 'tenant',
        scope: 'general_hospital',
        reason: 'gmail v2',
      });
      expect(r.mode).toBe('live');
      const audit = await pgQuery<{ key: string; change_type: string; new_value: string | null }>(
        url,
        'SELECT key, change_type, new_value FROM config_audit WHERE seq > $1 ORDER BY key',
        [seq],
      );
      expect(audit).toEqual([
        { key: 'smtp.port', change_type: 'update', new_value: '465' },
        { key: 'smtp.secure', change_type: 'delete', new_value: null },
        { key: 'smtp.timeout_ms', change_type: 'create', new_value: '10000' },
      ]);
      expect(
        await pgQuery(
          url,
          "SELECT version FROM template_applications WHERE scope = 'general_hospital'",
        ),
      ).toEqual([{ version: 2 }]);
    } finally {
      await svc.close();
    }
  });

  it('recovers variable values from what a scope holds', () => {
    const def = {
      configs: { a: { value: 'smtp://{{USER}}@{{HOST}}:25' }, b: { value: '{{USER}}' } },
    } as unknown as TemplateDefinition;
    const held: Record<string, string> = { a: 'smtp://desk@mail.example.org:25', b: 'other' };
    expect(recoverVariables(def, (k) => held[k] ?? null)).toEqual({
      USER: 'desk',
      HOST: 'mail.example.org',
    });
  });
});

describe('custom templates', () => {
  it('save overrides with secrets as variables, never the secret itself', async () => {
    const { svc, t } = await draftDemo();
    try {
      const d = await t.saveCustom({
        name: 'mercy-baseline',
        level: 'tenant',
        scope: 'mercy_hospital',
      });
      const text = JSON.stringify(d.definition);
      expect(text).not.toContain('demo-mercy-phaxio-key-0002');
      expect(d.definition.configs['providers.phaxio.api_key']).toEqual({
        value: '{{PROVIDERS_PHAXIO_API_KEY}}',
        valueType: 'string',
      });
      expect(d.definition.variables).toContainEqual(
        expect.objectContaining({ name: 'PROVIDERS_PHAXIO_API_KEY', required: true, secret: true }),
      );
      const stored = await svc.store.readTemplates();
      expect(JSON.stringify(stored)).not.toContain('demo-mercy-phaxio-key-0002');

      const missing = await errorOf(() =>
        t.apply({ template: 'mercy-baseline', level: 'tenant', scope: 'general_hospital' }),
      );
      expect(missing.message).toContain('PROVIDERS_PHAXIO_API_KEY is required');
      const ok = await t.apply({
        template: 'mercy-baseline',
        level: 'tenant',
        scope: 'general_hospital',
        vars: { PROVIDERS_PHAXIO_API_KEY: 'general-phaxio-key-9' },
      });
      expect(ok.items.find((i) => i.key === 'providers.phaxio.api_key')?.value).toBe(MASK);

      // Saving again makes version 2 and keeps version 1.
      const d2 = await t.saveCustom({
        name: 'mercy-baseline',
        level: 'tenant',
        scope: 'mercy_hospital',
      });
      expect(d2.versions).toEqual([1, 2]);
      const clash = await errorOf(() =>
        t.saveCustom({ name: 'healthcare', level: 'tenant', scope: 'mercy_hospital' }),
      );
      expect(clash.code).toBe('conflict');
    } finally {
      await svc.close();
    }
  });

  it('refuse a value outside a variable option list, naming the options', async () => {
    const { svc, t } = await draftDemo();
    try {
      await t.publish({
        name: 'theme-picker',
        description: 'Pick a theme',
        version: 1,
        targetLevel: 'department',
        kind: 'custom',
        configs: { 'ui.theme': { value: '{{THEME}}' } },
        variables: [
          {
            name: 'THEME',
            description: 'Theme',
            required: true,
            validation: { options: ['medical', 'business'] },
          },
        ],
      });
      const e = await errorOf(() =>
        t.apply({
          template: 'theme-picker',
          level: 'department',
          scope: 'mercy_hospital/it',
          vars: { THEME: 'pink' },
        }),
      );
      expect(e.message).toContain('THEME "pink" must be one of medical, business');
    } finally {
      await svc.close();
    }
  });
});

describe('bulk edits', () => {
  it('set a key at every department of a tenant as one staged change set', async () => {
    const { svc, t } = await draftDemo();
    try {
      const scopes = t.departmentScopes('mercy_hospital');
      expect(scopes.sort()).toEqual([
        'mercy_hospital/it',
        'mercy_hospital/marketing',
        'mercy_hospital/medical',
      ]);
      const r = await t.bulkSet({
        key: 'uploads.max_size_mb',
        action: 'set',
        value: '25',
        level: 'department',
        scopes,
        reason: 'bigger scans',
      });
      expect(r).toMatchObject({ mode: 'staged', written: 3 });
      expect(
        staged(svc)
          .map((s) => [s.scope, s.value, s.reason])
          .sort(),
      ).toEqual([
        ['mercy_hospital/it', '25', 'bigger scans'],
        ['mercy_hospital/marketing', '25', 'bigger scans'],
        ['mercy_hospital/medical', '25', 'bigger scans'],
      ]);
      const bad = await errorOf(() =>
        t.bulkSet({
          key: 'uploads.max_size_mb',
          action: 'set',
          value: '500',
          level: 'department',
          scopes,
        }),
      );
      expect(bad.message).toContain("Key 'uploads.max_size_mb' rejects value");
      const removed = await t.bulkSet({
        key: 'ui.theme',
        action: 'unset',
        level: 'department',
        scopes,
      });
      expect(removed.items.filter((i) => i.changed).map((i) => i.scope)).toEqual([
        'mercy_hospital/marketing',
      ]);
      expect(staged(svc)).toHaveLength(4);
    } finally {
      await svc.close();
    }
  });

  it('is refused as a whole when one scope is out of the operator’s reach', async () => {
    const { svc, t } = await draftDemo('mercy_admin');
    try {
      const e = await errorOf(() =>
        t.bulkSet({
          key: 'ui.theme',
          action: 'set',
          value: 'dark',
          level: 'group',
          scopes: ['doctors', 'nurses', 'gh_doctors'],
        }),
      );
      expect(e.code).toBe('forbidden');
      expect(e.message).toContain('gh_doctors');
      expect(staged(svc)).toHaveLength(0);
    } finally {
      await svc.close();
    }
  });

  it('writes live in one transaction: a conflict at one scope leaves every scope as it was', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec });
    const svc = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      const t = new TemplateService(svc);
      // Someone changes one of the slots after the service read it.
      await pgQuery(
        url,
        "UPDATE config_department SET value = 'neutral' WHERE tenant_id = 'mercy_hospital' AND department = 'marketing' AND key = 'ui.theme'",
      );
      const e = await errorOf(() =>
        t.bulkSet({
          key: 'ui.theme',
          action: 'set',
          value: 'dark',
          level: 'department',
          scopes: t.departmentScopes('mercy_hospital'),
        }),
      );
      expect(e.code).toBe('conflict');
      expect(
        await pgQuery(
          url,
          "SELECT department, value FROM config_department WHERE key = 'ui.theme' ORDER BY department",
        ),
      ).toEqual([{ department: 'marketing', value: 'neutral' }]);
      await svc.reload();
      const ok = await t.bulkSet({
        key: 'ui.theme',
        action: 'set',
        value: 'dark',
        level: 'department',
        scopes: t.departmentScopes('mercy_hospital'),
        reason: 'dark mode pilot',
      });
      expect(ok).toMatchObject({ mode: 'live', written: 3 });
      const audit = await pgQuery(
        url,
        "SELECT count(*)::int AS n FROM config_audit WHERE key = 'ui.theme' AND reason = 'dark mode pilot'",
      );
      expect(audit).toEqual([{ n: 3 }]);
    } finally {
      await svc.close();
    }
  });
});
