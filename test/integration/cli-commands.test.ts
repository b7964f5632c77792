/**
 * The `strata` command line, spawned as a real process (node bin/strata.js) against a real
 * PostgreSQL database and a real SQLite draft: JSON shapes, human output, exit codes (0 ok,
 * 2 bad input/usage/validation/permission, 3 conflict, 1 internal) and one-sentence errors.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestDatabases, createTestDatabase } from '../helpers/pg.js';
import { TEST_KEY, json, pgQuery, strata, tempDir } from './service-fixtures.js';
import type { CliRun } from './service-fixtures.js';

afterAll(dropTestDatabases);

/** One error sentence on stderr, nothing on stdout, no stack trace. */
function expectError(run: CliRun, code: number, message: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

const targets: Record<'postgres' | 'draft', string> = { postgres: '', draft: '' };
const env = { CONFIG_ENCRYPTION_KEY: TEST_KEY };

beforeAll(async () => {
  targets.postgres = await createTestDatabase();
  targets.draft = join(tempDir(), 'cli.sqlite');
  const migrated = await strata(['db', 'migrate', '--db', targets.postgres]);
  expect(migrated.code, migrated.stderr).toBe(0);
  const [a, b] = await Promise.all([
    strata(['demo', '--db', targets.postgres, '--json'], env),
    strata(['demo', '--db', targets.draft, '--json'], env),
  ]);
  expect(json(a)).toMatchObject({
    kind: 'postgres',
    tenants: 2,
    departments: 5,
    groups: 9,
    users: 20,
    skipped_secrets: 0,
  });
  expect(json(b)).toMatchObject({ kind: 'draft', dataset: 'hospital-network', users: 20 });
}, 120_000);

describe('usage', () => {
  it('prints help and refuses unknown commands, options and missing targets', async () => {
    const [help, cmdHelp, unknown, badOpt, noDb, noCtx, both] = await Promise.all([
      strata(['--help']),
      strata(['resolve', '--help']),
      strata(['frobnicate']),
      strata(['resolve', 'x', '--user', 'u', '--colour', 'red', '--db', targets.draft]),
      strata(['users']),
      strata(['resolve', 'fax_backend', '--db', targets.draft]),
      strata([
        'resolve',
        'fax_backend',
        '--user',
        'user123',
        '--tenant',
        'mercy_hospital',
        '--db',
        targets.draft,
      ]),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /db migrate[\s\S]*demo[\s\S]*resolve[\s\S]*effective[\s\S]*set[\s\S]*unset[\s\S]*history[\s\S]*users/,
    );
    expect(cmdHelp.code).toBe(0);
    expect(cmdHelp.stdout).toContain('Usage: strata resolve <key>');
    expectError(unknown, 2, /^Unknown command 'frobnicate'; run `strata --help`/);
    expectError(badOpt, 2, /^Unknown option '--colour' for `strata resolve`/);
    expectError(
      noDb,
      2,
      /^No database given: pass --db <postgres URL or \.sqlite path> or set STRATA_DB\.$/,
    );
    expectError(noCtx, 2, /^Give a context: --user <id>, or --tenant <id>/);
    expectError(both, 2, /^Give either --user or --tenant, not both/);
  });

  it('explains unreachable, unmigrated and non-workspace targets in one sentence', async () => {
    const notes = join(tempDir(), 'notes.sqlite');
    writeFileSync(notes, 'not a database');
    const empty = await createTestDatabase();
    const [refused, unmigrated, notDraft, missing] = await Promise.all([
      strata(['users', '--db', 'postgres://nobody:secret-pw@127.0.0.1:1/none']),
      strata(['users', '--db', empty]),
      strata(['users', '--db', notes]),
      strata(['users', '--db', join(tempDir(), 'nope.sqlite')]),
    ]);
    expectError(
      refused,
      2,
      /^Cannot connect to postgres:\/\/nobody@127\.0\.0\.1:1\/none: the server refused the connection\.$/,
    );
    expect(refused.stderr).not.toContain('secret-pw');
    expectError(
      unmigrated,
      2,
      /is not migrated \(pending: 0001_core\.sql.*\); run `strata db migrate` first\.$/,
    );
    expectError(notDraft, 2, /is not a Strata draft workspace \(it is not a SQLite database\)\.$/);
    expectError(missing, 2, /^No draft workspace at .*nope\.sqlite/);
  });
});

describe('db migrate and demo', () => {
  it('--print shows pending SQL without applying it; migrate is idempotent', async () => {
    const fresh = await createTestDatabase();
    const printed = await strata(['db', 'migrate', '--print', '--db', fresh]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('CREATE TABLE config_global');
    expect(printed.stdout).toMatch(/^BEGIN;$/m);
    expect(await pgQuery(fresh, "SELECT to_regclass('strata_migrations') AS t")).toEqual([
      { t: null },
    ]);
    const first = json<{ applied: string[] }>(
      await strata(['db', 'migrate', '--db', fresh, '--json']),
    );
    expect(first.applied[0]).toBe('0001_core.sql');
    const again = await strata(['db', 'migrate', '--db', fresh]);
    expect(again.stdout).toMatch(/is up to date; nothing to apply\.\n$/);
    const draft = join(tempDir(), 'new.sqlite');
    const dprint = json<{ pending: string[]; sql: string }>(
      await strata(['db', 'migrate', '--print', '--json', '--db', draft]),
    );
    const sqliteMigrations = readdirSync(resolve(import.meta.dirname, '../../migrations/sqlite'))
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(dprint.pending).toEqual(sqliteMigrations);
    expect(dprint.pending[0]).toBe('0001_core.sql');
    expect(existsSync(draft)).toBe(false);
    const dapply = await strata(['db', 'migrate', '--db', draft]);
    expect(dapply.stdout).toBe(`Applied ${sqliteMigrations.join(', ')} to ${draft}.\n`);
    expect(existsSync(draft)).toBe(true);
  });

  it('refuses to load the demo into a target that already holds data (exit 3)', async () => {
    const [pgRun, draftRun] = await Promise.all([
      strata(['demo', '--db', targets.postgres]),
      strata(['demo', '--db', targets.draft]),
    ]);
    expectError(
      pgRun,
      3,
      /already holds a directory or configuration; `strata demo` loads only into an empty store\.$/,
    );
    expectError(draftRun, 3, /already holds a directory or configuration/);
    const bad = await strata(['demo', '--scale', 'lots', '--db', join(tempDir(), 'x.sqlite')]);
    expectError(bad, 2, /^--scale must be a whole number from 1 to 100/);
  });

  it('skips secrets (and says so) when no encryption key is set', async () => {
    const run = await strata(['demo', '--db', join(tempDir(), 'nokey.sqlite'), '--json']);
    expect(json(run)).toMatchObject({ skipped_secrets: 5 });
    expect(run.stderr).toMatch(
      /^Note: 5 secret values were skipped: CONFIG_ENCRYPTION_KEY is not set/,
    );
  });
});

describe.each(['postgres', 'draft'] as const)('commands on %s', (kind) => {
  const db = (): string[] => ['--db', targets[kind]];

  it('resolve prints the documented JSON shape', async () => {
    const r = json(
      await strata(['resolve', 'fax_backend', '--user', 'user123', '--json', ...db()]),
    );
    expect(r).toEqual({
      key: 'fax_backend',
      value: 'sip',
      value_type: 'string',
      level: 'group',
      scope: 'emergency_doctors_group',
      chain: [
        { level: 'global', scope: '', value: 'phaxio' },
        { level: 'tenant', scope: 'mercy_hospital', value: 'phaxio' },
        { level: 'department', scope: 'mercy_hospital/medical', value: null },
        { level: 'group', scope: 'doctors', value: null },
        { level: 'group', scope: 'emergency_doctors_group', value: 'sip' },
        { level: 'user', scope: 'user123', value: null },
      ],
    });
  });

  it('resolve handles falsy overrides, group order, ad-hoc contexts and defaults', async () => {
    const [falsy, first, second, adhoc, dept, dflt, human] = await Promise.all([
      strata(['resolve', 'compliance.hipaa.enabled', '--user', 'mkt_anna', '--json', ...db()]),
      strata(['resolve', 'priority_processing', '--user', 'user123', '--json', ...db()]),
      strata(['resolve', 'priority_processing', '--user', 'dr_house', '--json', ...db()]),
      strata([
        'resolve',
        'notification_urgency',
        '--tenant',
        'mercy_hospital',
        '--group',
        'doctors',
        '--group',
        'emergency_doctors_group',
        '--json',
        ...db(),
      ]),
      strata([
        'resolve',
        'hipaa_mode',
        '--tenant',
        'mercy_hospital',
        '--department',
        'marketing',
        '--json',
        ...db(),
      ]),
      strata(['resolve', 'providers.sip.port', '--tenant', 'mercy_hospital', '--json', ...db()]),
      strata(['resolve', 'fax_backend', '--user', 'user123', ...db()]),
    ]);
    expect(json(falsy)).toMatchObject({
      value: 'false',
      level: 'department',
      scope: 'mercy_hospital/marketing',
    });
    expect(json(first)).toMatchObject({ value: 'true', scope: 'emergency_doctors_group' });
    expect(json(second)).toMatchObject({ value: 'false', scope: 'doctors' });
    const a = json<{ chain: Array<{ level: string; scope: string }> }>(adhoc);
    expect(a).toMatchObject({ value: 'normal', level: 'group', scope: 'doctors' });
    expect(a.chain.map((l) => l.level)).toEqual(['global', 'tenant', 'group', 'group']);
    expect(json(dept)).toMatchObject({
      value: 'false',
      value_type: 'boolean',
      level: 'department',
      scope: 'mercy_hospital/marketing',
    });
    expect(json(dflt)).toMatchObject({ value: '5060', level: 'default', scope: '' });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^fax_backend = sip {2}\(string, from group emergency_doctors_group\)/,
    );
    expect(human.stdout).toMatch(/emergency_doctors_group\s+sip\s+wins/);
  });

  it('effective prints values with their source, as JSON and as .env', async () => {
    const [j, envRun, human] = await Promise.all([
      strata(['effective', '--user', 'mkt_anna', '--json', ...db()]),
      strata(['effective', '--user', 'mkt_anna', '--format', 'env', ...db()]),
      strata(['effective', '--tenant', 'general_hospital', ...db()]),
    ]);
    const doc = json<{
      context: unknown;
      values: Record<string, string>;
      items: Array<Record<string, string>>;
    }>(j);
    expect(doc.context).toEqual({
      tenant: 'mercy_hospital',
      department: 'marketing',
      groups: ['marketing_team'],
      user: 'mkt_anna',
    });
    expect(doc.values['features.email_gateway.enabled']).toBe('false');
    expect(doc.values['uploads.max_size_mb']).toBe('50');
    expect(doc.items.find((i) => i.key === 'uploads.max_size_mb')).toEqual({
      key: 'uploads.max_size_mb',
      value: '50',
      value_type: 'number',
      level: 'group',
      scope: 'marketing_team',
    });
    expect(doc.values['providers.phaxio.api_key']).toBe('••••••••');
    expect(envRun.code, envRun.stderr).toBe(0);
    expect(envRun.stdout).toMatch(/^HIPAA_MODE=false$/m);
    expect(envRun.stdout).toMatch(/^ORGANIZATION_NAME='Mercy Hospital Network'$/m);
    expect(envRun.stdout).toMatch(/^FAX_BACKEND=phaxio$/m);
    expect(human.stdout).toMatch(/^fax\.backend\.provider\s+sip\s+tenant general_hospital$/m);
    const clash = await strata([
      'effective',
      '--user',
      'mkt_anna',
      '--json',
      '--format',
      'env',
      ...db(),
    ]);
    expectError(clash, 2, /^Give either --json or --format env, not both\.$/);
  });

  it('set and unset write (or stage) with audit records that history shows', async () => {
    const as = ['--as', 'mercy_admin'];
    const set = json(
      await strata([
        'set',
        'notification_urgency',
        'high',
        '--level',
        'group',
        '--scope',
        'nurses',
        '--reason',
        'night shift',
        '--json',
        ...as,
        ...db(),
      ]),
    );
    expect(set).toEqual({
      mode: kind === 'postgres' ? 'live' : 'staged',
      action: 'set',
      level: 'group',
      scope: 'nurses',
      key: 'notification_urgency',
      value: 'high',
      value_type: 'string',
      version: kind === 'postgres' ? 2 : null,
    });
    const seen = json(
      await strata(['resolve', 'notification_urgency', '--user', 'nurse_joy', '--json', ...db()]),
    );
    expect(seen).toMatchObject({ value: 'high', level: 'group', scope: 'nurses' });
    const unset = await strata([
      'unset',
      'notification_urgency',
      '--level',
      'group',
      '--scope',
      'nurses',
      '--reason',
      'day shift',
      ...as,
      ...db(),
    ]);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stdout).toMatch(
      kind === 'postgres'
        ? /^Removed notification_urgency at group nurses\.$/m
        : /^Staged removal of notification_urgency at group nurses/,
    );
    const h = json<{ key: string; items: Array<Record<string, unknown>> }>(
      await strata([
        'history',
        'notification_urgency',
        '--level',
        'group',
        '--scope',
        'nurses',
        '--json',
        ...db(),
      ]),
    );
    expect(h.key).toBe('notification_urgency');
    expect(h.items.slice(0, 2)).toMatchObject([
      {
        change_type: 'delete',
        changed_by: 'mercy_admin',
        old_value: 'high',
        new_value: null,
        reason: 'day shift',
      },
      {
        change_type: 'update',
        changed_by: 'mercy_admin',
        old_value: 'normal',
        new_value: 'high',
        reason: 'night shift',
      },
    ]);
    expect(Object.keys(h.items[0]!)).toEqual(
      expect.arrayContaining([
        'seq',
        'level',
        'scope',
        'key',
        'old_value',
        'new_value',
        'change_type',
        'changed_by',
        'changed_at',
        'reason',
        'push_id',
      ]),
    );
    const gone = await strata([
      'unset',
      'notification_urgency',
      '--level',
      'group',
      '--scope',
      'nurses',
      ...as,
      ...db(),
    ]);
    expectError(gone, 2, /^Nothing is set for notification_urgency at the group nurses\.$/);
    const human = await strata([
      'history',
      'notification_urgency',
      '--level',
      'group',
      '--scope',
      'nurses',
      ...db(),
    ]);
    expect(human.stdout).toMatch(/mercy_admin\s+group nurses\s+delete/);
  });

  it('set refuses bad values, bad targets and missing rights with exit 2, and a stale version with exit 3', async () => {
    const runs = await Promise.all([
      strata([
        'set',
        'max_file_size_mb',
        '500',
        '--level',
        'tenant',
        '--scope',
        'mercy_hospital',
        '--as',
        'mercy_admin',
        ...db(),
      ]),
      strata(['set', 'hipaa_mode', 'maybe', '--level', 'global', '--as', 'superadmin', ...db()]),
      strata(
        [
          'set',
          'providers.phaxio.api_key',
          'tiny',
          '--level',
          'tenant',
          '--scope',
          'mercy_hospital',
          '--as',
          'mercy_admin',
          ...db(),
        ],
        env,
      ),
      strata(['set', 'ui.theme', 'business', '--level', 'global', '--as', 'mercy_admin', ...db()]),
      strata([
        'set',
        'ui.theme',
        'business',
        '--level',
        'department',
        '--scope',
        'mercy_hospital/marketing',
        '--as',
        'medical_admin',
        ...db(),
      ]),
      strata(['set', 'ui.theme', 'business', '--level', 'tenant', ...db(), '--as', 'superadmin']),
      strata([
        'set',
        'ui.theme',
        'business',
        '--level',
        'galaxy',
        '--scope',
        'x',
        '--as',
        'superadmin',
        ...db(),
      ]),
      strata([
        'set',
        'ui.theme',
        'business',
        '--level',
        'global',
        '--type',
        'colour',
        '--as',
        'superadmin',
        ...db(),
      ]),
      strata(['set', 'ui.theme', 'business', '--level', 'global', '--as', 'ghost', ...db()]),
      strata([
        'set',
        'ui.theme',
        'business',
        '--level',
        'global',
        '--expect-version',
        '99',
        '--as',
        'superadmin',
        ...db(),
      ]),
    ]);
    expectError(
      runs[0]!,
      2,
      /^Key 'max_file_size_mb' rejects value "500" \(rule max\): must be at most 100\.$/,
    );
    expectError(runs[1]!, 2, /^Key 'hipaa_mode' rejects value "maybe" \(rule type\)/);
    expectError(
      runs[2]!,
      2,
      /^Key 'providers\.phaxio\.api_key' rejects value '••••••••' \(rule minLength\)/,
    );
    expect(runs[2]!.stderr).not.toContain('tiny');
    expectError(runs[3]!, 2, /^Changing global configuration requires super_admin\.$/);
    expectError(runs[4]!, 2, /^Changing department mercy_hospital\/marketing requires/);
    expectError(runs[5]!, 2, /^--scope is required for the tenant level\.$/);
    expectError(
      runs[6]!,
      2,
      /^Unknown level 'galaxy'; valid levels are global, tenant, department, group, user\.$/,
    );
    expectError(runs[7]!, 2, /^Unknown --type 'colour'; use string, number, boolean, json\.$/);
    expectError(runs[8]!, 2, /^Operator 'ghost' is not a user in the directory/);
    expectError(
      runs[9]!,
      3,
      /^Changed by someone else since you read it: ui\.theme \(global\); reload and try again\.$/,
    );
    const still = json(
      await strata([
        'resolve',
        'max_file_size_mb',
        '--tenant',
        'mercy_hospital',
        '--json',
        ...db(),
      ]),
    );
    expect(still).toMatchObject({ value: '10', level: 'global' });
  });

  it('stores secrets encrypted and prints them only with --reveal', async () => {
    const set = await strata(
      [
        'set',
        'providers.sip.password',
        'cli-canary-pass-42',
        '--level',
        'tenant',
        '--scope',
        'general_hospital',
        '--as',
        'general_admin',
        '--json',
        ...db(),
      ],
      env,
    );
    expect(json(set)).toMatchObject({ value: '••••••••' });
    expect(set.stdout).not.toContain('cli-canary');
    const [masked, revealed, history, noKey] = await Promise.all([
      strata(
        ['resolve', 'providers.sip.password', '--user', 'gh_nurse_lee', '--json', ...db()],
        env,
      ),
      strata(
        [
          'resolve',
          'providers.sip.password',
          '--user',
          'gh_nurse_lee',
          '--json',
          '--reveal',
          ...db(),
        ],
        env,
      ),
      strata(['history', 'providers.sip.password', '--json', ...db()], env),
      strata([
        'set',
        'providers.sip.password',
        'x-another-pass-1',
        '--level',
        'tenant',
        '--scope',
        'general_hospital',
        '--as',
        'general_admin',
        ...db(),
      ]),
    ]);
    expect(json(masked)).toMatchObject({ value: '••••••••', level: 'tenant' });
    expect(json(revealed)).toMatchObject({ value: 'cli-canary-pass-42' });
    expect(history.stdout).not.toContain('cli-canary');
    expect(json<{ items: Array<{ new_value: string }> }>(history).items[0]!.new_value).toMatch(
      /^secret:fp=/,
    );
    expectError(
      noKey,
      2,
      /^Secret providers\.sip\.password was not stored: CONFIG_ENCRYPTION_KEY is not set/,
    );
  });

  it('users lists the directory with groups in order and traits', async () => {
    const [all, dept, group, human] = await Promise.all([
      strata(['users', '--json', ...db()]),
      strata(['users', '--tenant', 'mercy_hospital', '--department', 'medical', '--json', ...db()]),
      strata(['users', '--group', 'emergency_doctors_group', '--json', ...db()]),
      strata(['users', '--tenant', 'general_hospital', ...db()]),
    ]);
    const items = json<{ items: Array<Record<string, unknown>> }>(all).items;
    expect(items).toHaveLength(20);
    expect(items.find((u) => u.id === 'dr_house')).toEqual({
      id: 'dr_house',
      tenant: 'mercy_hospital',
      department: 'medical',
      groups: ['doctors', 'emergency_doctors_group'],
      traits: [],
      display_name: 'Dr. Gregory House',
      email: 'dr_house@mercy.example.org',
    });
    expect(items.find((u) => u.id === 'superadmin')!.traits).toEqual([
      'admin_capable',
      'config_write',
      'super_admin',
    ]);
    expect(json<{ items: unknown[] }>(dept).items).toHaveLength(7);
    expect(json<{ items: Array<{ id: string }> }>(group).items.map((u) => u.id)).toEqual([
      'dr_grey',
      'dr_house',
      'user123',
    ]);
    expect(human.stdout).toMatch(
      /^gh_dr_osei\s+general_hospital\s+medical\s+gh_oncall, gh_doctors\s+-$/m,
    );
    expect(human.stdout).toMatch(/7 users\.\n$/);
  });

  it('history --directory lists directory changes on PostgreSQL and says a draft keeps none', async () => {
    const [mine, tenants, table, bad, mixed] = await Promise.all([
      strata(['history', '--directory', 'dr_house', '--json', ...db()]),
      strata(['history', '--directory', '--kind', 'tenant', '--json', ...db()]),
      strata(['history', '--directory', 'dr_house', '--kind', 'user', ...db()]),
      strata(['history', '--directory', '--kind', 'ward', ...db()]),
      strata(['history', '--directory', '--level', 'user', ...db()]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kind must be one of tenant, department, group, user, membership/);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/with --directory use <id> and --kind/);
    if (kind === 'draft') {
      expect(mine.code).toBe(2);
      expect(mine.stderr).toMatch(/A draft keeps no directory history/);
      return;
    }
    // The demo load created the user and their two memberships.
    const items = json<{ items: Array<Record<string, unknown>> }>(mine).items;
    expect(items.map((i) => [i.kind, i.field, i.new_value, i.change_type]).sort()).toEqual([
      ['membership', 'doctors', '0', 'create'],
      ['membership', 'emergency_doctors_group', '1', 'create'],
      ['user', '(row)', expect.stringContaining('"display_name": "Dr. Gregory House"'), 'create'],
    ]);
    const tenantIds = json<{ items: Array<{ id: string }> }>(tenants).items.map((i) => i.id);
    expect(tenantIds.sort()).toEqual(['general_hospital', 'mercy_hospital']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^when\s+who\s+what\s+field\s+change\s+old\s+new\s+reason/);
    expect(table.stdout).toMatch(/user dr_house\s+\(row\)\s+create/);
  });
});
