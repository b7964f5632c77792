/**
 * The template commands through the real `bin/strata.js`: template list/show/apply, tenant create,
 * bulk `set` with repeated --scope, and the seed step of `strata db migrate`, against SQLite drafts
 * and PostgreSQL. Checks stdout JSON, exit codes and the one-sentence refusals on stderr.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import {
  TEST_KEY,
  json,
  migratedPg,
  pgQuery,
  strata,
  tempDir,
  testCodec,
} from './service-fixtures.js';

afterAll(dropTestDatabases);

const env = { CONFIG_ENCRYPTION_KEY: TEST_KEY };

async function demoDraft(): Promise<string> {
  const db = join(tempDir('strata-tpl-cli-'), 'demo.sqlite');
  await loadDemo(db, { codec: codecChoiceOf(testCodec()) });
  return db;
}

function stagedRows(db: string) {
  const store = SqliteStore.open(db);
  try {
    return store.stagedChanges();
  } finally {
    void store.close();
  }
}

describe('strata template (draft)', () => {
  let db: string;
  beforeAll(async () => {
    db = await demoDraft();
  });

  it('lists the built-ins with --json', async () => {
    const out = json<{
      items: Array<{ name: string; version: number; kind: string; stored: boolean }>;
    }>(await strata(['template', 'list', '--json', '--db', db]));
    expect(out.items.map((i) => i.name)).toEqual([
      'business',
      'default',
      'gmail-smtp',
      'healthcare',
      'mailtrap-smtp',
      'sendgrid-smtp',
    ]);
    expect(out.items.every((i) => i.version === 1 && i.stored)).toBe(true);
  });

  it('shows a template with its variables and instructions', async () => {
    const out = json<{
      definition: { variables: Array<{ name: string }>; instructions: string[] };
    }>(await strata(['template', 'show', 'gmail-smtp', '--json', '--db', db]));
    expect(out.definition.variables.map((v) => v.name)).toEqual(['EMAIL_USER', 'EMAIL_PASS']);
    expect(out.definition.instructions.length).toBeGreaterThan(0);
    const missing = await strata(['template', 'show', 'nope', '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('apply --dry-run prints the diff and stages nothing; a bad variable exits 2 naming it', async () => {
    const base = [
      'template',
      'apply',
      'gmail-smtp',
      '--level',
      'tenant',
      '--scope',
      'mercy_hospital',
    ];
    const dry = json<{
      dry_run: boolean;
      items: Array<{ key: string; action: string; value: string }>;
    }>(
      await strata(
        [
          ...base,
          '--var',
          'EMAIL_USER=desk@gmail.com',
          '--var',
          'EMAIL_PASS=abcdefghijklmnop',
          '--dry-run',
          '--json',
          '--db',
          db,
          '--as',
          'superadmin',
        ],
        env,
      ),
    );
    expect(dry.dry_run).toBe(true);
    expect(dry.items.find((i) => i.key === 'smtp.auth_pass')).toMatchObject({
      action: 'create',
      value: '••••••••',
    });
    expect(stagedRows(db)).toHaveLength(0);

    const bad = await strata(
      [
        ...base,
        '--var',
        'EMAIL_USER=desk@yahoo.com',
        '--var',
        'EMAIL_PASS=secretvalue',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    const line = bad.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('EMAIL_USER');
    expect(line).toContain('EMAIL_PASS must be exactly 16 characters long');
    expect(line).not.toContain('secretvalue');
    expect(stagedRows(db)).toHaveLength(0);
  });

  it('apply stages the values, taking a secret from the environment with --var-env', async () => {
    const r = await strata(
      [
        'template',
        'apply',
        'gmail-smtp',
        '--level',
        'tenant',
        '--scope',
        'mercy_hospital',
        '--var',
        'EMAIL_USER=desk@gmail.com',
        '--var-env',
        'EMAIL_PASS=GMAIL_APP_PASSWORD',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      { ...env, GMAIL_APP_PASSWORD: 'abcdefghijklmnop' },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Staged gmail-smtp v1 at tenant mercy_hospital: 5 to create.');
    expect(r.stdout).not.toContain('abcdefghijklmnop');
    const rows = stagedRows(db);
    expect(rows.map((s) => s.key).sort()).toEqual([
      'smtp.auth_pass',
      'smtp.auth_user',
      'smtp.host',
      'smtp.port',
      'smtp.secure',
    ]);
    const pass = rows.find((s) => s.key === 'smtp.auth_pass')!;
    expect(pass.encrypted).toBe(true);
    expect(pass.value).toMatch(/^enc:v1:/);
  });

  it('tenant create stages a tenant with departments and groups in order', async () => {
    const out = json<{
      mode: string;
      tenant: { id: string; tenant_type: string };
      departments: Array<{ id: string }>;
      groups: Array<{ id: string; order: number; department: string | null }>;
      written: number;
    }>(
      await strata(
        [
          'tenant',
          'create',
          'st_marys',
          '--name',
          "St Mary's",
          '--template',
          'healthcare',
          '--department',
          'emergency',
          '--department',
          'radiology=Radiology',
          '--group',
          'er_doctors:emergency=ER doctors',
          '--group',
          'everyone',
          '--json',
          '--db',
          db,
          '--as',
          'superadmin',
        ],
        env,
      ),
    );
    expect(out.mode).toBe('staged');
    expect(out.tenant).toMatchObject({ id: 'st_marys', tenant_type: 'healthcare' });
    expect(out.departments.map((d) => d.id)).toEqual(['emergency', 'radiology']);
    expect(out.groups).toEqual([
      expect.objectContaining({ id: 'st_marys.er_doctors', order: 0, department: 'emergency' }),
      expect.objectContaining({ id: 'st_marys.everyone', order: 1, department: null }),
    ]);
    expect(out.written).toBe(7);
    const users = await strata([
      'resolve',
      'ui.theme',
      '--tenant',
      'st_marys',
      '--json',
      '--db',
      db,
    ]);
    expect(json<{ value: string; level: string }>(users)).toMatchObject({
      value: 'medical',
      level: 'tenant',
    });
    const dup = await strata(
      [
        'tenant',
        'create',
        'st_marys',
        '--name',
        'X',
        '--template',
        'default',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      env,
    );
    expect(dup.code).toBe(3);
  });

  it('set with repeated --scope (and tenant/*) bulk-edits as one staged set', async () => {
    const before = stagedRows(db).length;
    const out = json<{ written: number; items: Array<{ scope: string; changed: boolean }> }>(
      await strata(
        [
          'set',
          'ui.theme',
          'dark',
          '--level',
          'department',
          '--scope',
          'mercy_hospital/*',
          '--scope',
          'st_marys/emergency',
          '--reason',
          'pilot',
          '--json',
          '--db',
          db,
          '--as',
          'superadmin',
        ],
        env,
      ),
    );
    expect(out.items.map((i) => i.scope)).toEqual([
      'mercy_hospital/it',
      'mercy_hospital/marketing',
      'mercy_hospital/medical',
      'st_marys/emergency',
    ]);
    expect(out.written).toBe(4);
    expect(stagedRows(db)).toHaveLength(before + 4);

    const refused = await strata(
      [
        'set',
        'ui.theme',
        'business',
        '--level',
        'group',
        '--scope',
        'doctors',
        '--scope',
        'gh_doctors',
        '--db',
        db,
        '--as',
        'mercy_admin',
      ],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('gh_doctors');
    expect(stagedRows(db)).toHaveLength(before + 4);

    const removed = await strata(
      [
        'unset',
        'ui.theme',
        '--level',
        'department',
        '--scope',
        'mercy_hospital/it',
        '--scope',
        'mercy_hospital/medical',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      env,
    );
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(
      'Staged ui.theme at 2 of 2 department scopes as one change set.',
    );
  });

  it('upgrades lists nothing while every scope is current', async () => {
    const out = json<{ items: unknown[] }>(
      await strata(['template', 'upgrades', '--json', '--db', db]),
    );
    expect(out.items).toEqual([]);
  });
});

describe('strata template on PostgreSQL', () => {
  it('db migrate loads the built-ins (the seed step) and apply writes live', async () => {
    const url = await createTestDatabase();
    const migrated = await strata(['db', 'migrate', '--db', url]);
    expect(migrated.code).toBe(0);
    const rows = await pgQuery<{ name: string; version: number }>(
      url,
      'SELECT name, version FROM config_templates ORDER BY name',
    );
    expect(rows.map((r) => r.name)).toEqual([
      'business',
      'default',
      'gmail-smtp',
      'healthcare',
      'mailtrap-smtp',
      'sendgrid-smtp',
    ]);
    const meta = await pgQuery<{ input_type: string }>(
      url,
      "SELECT input_type FROM configuration_metadata WHERE key = 'smtp.auth_pass'",
    );
    expect(meta).toEqual([{ input_type: 'password' }]);
    // Running it again changes nothing.
    expect((await strata(['db', 'migrate', '--db', url])).code).toBe(0);
    expect(await pgQuery(url, 'SELECT count(*)::int AS n FROM config_templates')).toEqual([
      { n: 6 },
    ]);
  });

  it('tenant create and apply are live and audited', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
    const created = json<{ mode: string }>(
      await strata(
        [
          'tenant',
          'create',
          'riverside',
          '--name',
          'Riverside Clinic',
          '--template',
          'default',
          '--reason',
          'new clinic',
          '--json',
          '--db',
          url,
          '--as',
          'superadmin',
        ],
        env,
      ),
    );
    expect(created.mode).toBe('live');
    expect(await pgQuery(url, "SELECT id FROM departments WHERE tenant_id = 'riverside'")).toEqual([
      { id: 'general' },
    ]);
    const applied = json<{ mode: string; written: number }>(
      await strata(
        [
          'template',
          'apply',
          'sendgrid-smtp',
          '--level',
          'tenant',
          '--scope',
          'riverside',
          '--var-env',
          'SENDGRID_API_KEY=SG_KEY',
          '--json',
          '--db',
          url,
          '--as',
          'superadmin',
        ],
        { ...env, SG_KEY: 'SG.abcdefghijklmnopqrstuv.wxyz0123456789' },
      ),
    );
    expect(applied).toMatchObject({ mode: 'live', written: 5 });
    const audit = await pgQuery<{ new_value: string }>(
      url,
      "SELECT new_value FROM config_audit WHERE config_id = 'riverside' AND key = 'smtp.auth_pass'",
    );
    expect(audit[0]!.new_value).toMatch(/^secret:fp=/);
  });
});
