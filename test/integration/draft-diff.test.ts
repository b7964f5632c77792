/**
 * Environments side by side: `strata diff` between databases, drafts and a draft's base, and
 * `strata promote` carrying staging's setup of a new tenant into a draft of production, which
 * is then planned and pushed like any other draft.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import { diffTargets } from '../../src-main/services/diff-service.js';
import { planDraft } from '../../src-main/services/draft-service.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { cliEnv, demoPg, label, liveRow, pulled, set, unset, write } from './draft-helpers.js';
import { json, pgQuery, strata } from './service-fixtures.js';

afterAll(dropTestDatabases);

describe('strata diff', () => {
  let url = '';
  let file = '';
  beforeAll(async () => {
    url = await demoPg();
    await label(url, 'production');
    file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
      set('tenant', 'general_hospital', 'app.new_setting', 'on'),
      unset('user', 'user123', 'ui.theme'),
      set('global', '', 'providers.phaxio.api_key', 'sk-diff-0123456789'),
    ]);
  });

  it('compares a database with a draft key by key, secrets masked', async () => {
    const run = await strata(['diff', url, file, '--json'], cliEnv());
    const doc = json<{
      a: { kind: string; environment: string | null };
      b: { kind: string };
      items: Array<{
        level: string;
        scope: string;
        key: string;
        status: string;
        a: string | null;
        b: string | null;
      }>;
      summary: Record<string, number>;
    }>(run);
    expect(doc.a).toMatchObject({ kind: 'postgres', environment: 'production' });
    expect(doc.b).toMatchObject({ kind: 'draft' });
    expect(doc.items).toEqual([
      {
        level: 'global',
        scope: '',
        key: 'providers.phaxio.api_key',
        status: 'changed',
        a: MASK,
        b: MASK,
        secret: true,
      },
      {
        level: 'tenant',
        scope: 'general_hospital',
        key: 'app.new_setting',
        status: 'added',
        a: null,
        b: 'on',
        secret: false,
      },
      {
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'ui.theme',
        status: 'changed',
        a: 'medical',
        b: 'dark',
        secret: false,
      },
      {
        level: 'user',
        scope: 'user123',
        key: 'ui.theme',
        status: 'removed',
        a: 'dark',
        b: null,
        secret: false,
      },
    ]);
    expect(doc.summary).toEqual({ added: 1, removed: 1, changed: 2, directory: 0 });
    expect(run.stdout).not.toContain('sk-diff');
    expect(run.stdout).not.toContain('enc:v1:');
  });

  it("compares a draft's base with the draft, and filters by tenant", async () => {
    const base = await diffTargets(`base:${file}`, file, { tenants: ['mercy_hospital'] });
    expect(base.a.kind).toBe('draft-base');
    expect(base.items.map((i) => `${i.status} ${i.key}@${i.level}:${i.scope}`)).toEqual([
      'changed ui.theme@tenant:mercy_hospital',
      'removed ui.theme@user:user123',
    ]);
    const same = await diffTargets(url, `base:${file}`);
    expect(same.items).toEqual([]);
    const human = await strata(['diff', `base:${file}`, file, '--prefix', 'ui.'], cliEnv());
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('changed  ui.theme (tenant mercy_hospital): medical -> dark');
    expect(human.stdout).toMatch(
      /Summary: 0 added, 1 removed, 1 changed values; 0 directory row\(s\) differ\.\n$/,
    );
  });
});

describe('strata promote', () => {
  it("stages staging's setup of a new tenant into a draft of production, for plan and push", async () => {
    const staging = await demoPg();
    const production = await demoPg();
    await label(staging, 'staging');
    await label(production, 'production');
    const store = await PostgresStore.open(staging);
    try {
      await store.writeDirectory({
        tenants: [{ id: 'st_marys', name: "St Mary's", tenantType: 'healthcare' }],
        departments: [{ tenantId: 'st_marys', id: 'er', name: 'Emergency' }],
        groups: [{ id: 'st_marys.nurses', tenantId: 'st_marys', department: 'er', name: 'Nurses' }],
        users: [
          {
            id: 'st_admin',
            tenantId: 'st_marys',
            department: 'er',
            groups: ['st_marys.nurses'],
            traits: ['admin_capable', 'config_write', 'tenant_admin'],
            displayName: 'St Admin',
            email: null,
            dbRole: null,
          },
        ],
      });
    } finally {
      await store.close();
    }
    await write(staging, [
      set('tenant', 'st_marys', 'organization_name', "St Mary's"),
      set('tenant', 'st_marys', 'providers.phaxio.api_key', 'sk-stmarys-0123456789'),
      set('group', 'st_marys.nurses', 'notification_urgency', 'high'),
      set('user', 'st_admin', 'ui.theme', 'dark'),
      set('global', '', 'ui.theme', 'business'),
    ]);
    const draft = await pulled(production);
    const run = await strata(
      ['promote', staging, draft, '--tenant', 'st_marys', '--as', 'superadmin', '--json'],
      cliEnv(),
    );
    expect(json(run)).toMatchObject({ staged: 4, unset: 0, directory: 4, skipped_secrets: 0 });
    const plan = await planDraft(draft);
    expect(plan.directory.map((d) => `${d.action} ${d.kind} ${d.ref}`)).toEqual([
      'create tenant st_marys',
      'create department st_marys/er',
      'create group st_marys.nurses',
      'create user st_admin',
    ]);
    expect(plan.items.map((i) => `${i.action} ${i.key}@${i.level}:${i.scope}`).sort()).toEqual([
      'create notification_urgency@group:st_marys.nurses',
      'create organization_name@tenant:st_marys',
      'create providers.phaxio.api_key@tenant:st_marys',
      'create ui.theme@user:st_admin',
    ]);
    const push = await strata(
      ['push', draft, '--as', 'superadmin', '--reason', "St Mary's go-live", '--json'],
      cliEnv(),
    );
    expect(json(push)).toMatchObject({ status: 'applied', applied: 4, directory: 4 });
    expect(await liveRow(production, 'user', 'st_admin', 'ui.theme')).toMatchObject({
      value: 'dark',
    });
    expect(await liveRow(production, 'global', '', 'ui.theme')).toMatchObject({ value: 'neutral' });
    const secret = await liveRow(production, 'tenant', 'st_marys', 'providers.phaxio.api_key');
    expect(secret?.encrypted).toBe(true);
    const members = await pgQuery(
      production,
      "SELECT group_id FROM group_members WHERE user_id = 'st_admin'",
    );
    expect(members).toEqual([{ group_id: 'st_marys.nurses' }]);
    const after = await diffTargets(staging, production, { tenants: ['st_marys'] });
    expect(after.items).toEqual([]);
    expect(after.directory).toEqual([]);
  });

  it('skips secrets it cannot verify, and stages removals only when asked', async () => {
    const staging = await demoPg();
    const production = await demoPg();
    await write(staging, [
      set('tenant', 'general_hospital', 'providers.sip.password', 'another-secret-1'),
      unset('tenant', 'general_hospital', 'ui.theme'),
    ]);
    const draft = await pulled(production);
    const env = { ...cliEnv() } as Record<string, string>;
    delete env.CONFIG_ENCRYPTION_KEY;
    const run = await strata(
      ['promote', staging, draft, '--tenant', 'general_hospital', '--json'],
      env,
    );
    expect(json(run)).toMatchObject({ staged: 0, unset: 0, skipped_secrets: 1 });
    expect(run.stderr).toMatch(
      /^Note: 1 secret value\(s\) were not promoted: CONFIG_ENCRYPTION_KEY is not set/,
    );
    const deletes = await strata(
      ['promote', staging, draft, '--tenant', 'general_hospital', '--with-deletes', '--json'],
      cliEnv(),
    );
    expect(json(deletes)).toMatchObject({ staged: 1, unset: 1 });
    const plan = await planDraft(draft);
    expect(plan.items.map((i) => i.action).sort()).toEqual(['delete', 'update']);
  });
});
