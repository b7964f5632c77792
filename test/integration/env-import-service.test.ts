/**
 * The .env import/export service on real workspaces: previews that show current, inherited and
 * new values without writing; staging into a draft and one live transaction on PostgreSQL with
 * the file name in the reason; all-or-nothing on any bad row; export that reads back identically
 * with dotenv; hybrid mode (env_legacy) that survives reopening a draft.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, envEntriesToMap } from '../../src-main/core/env/index.js';
import { MASK } from '../../src-main/core/masking.js';
import { StrataError } from '../../src-main/core/types.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { EnvImportService } from '../../src-main/services/env-import-service.js';
import type { EnvFile } from '../../src-main/services/env-types.js';
import type { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoTargets, pgQuery, ROOT, testCodec } from './service-fixtures.js';

const VALID = join(ROOT, 'test/fixtures/env/valid');

function file(fileName: string, text: string): EnvFile {
  return { fileName, bytes: new TextEncoder().encode(text) };
}

function fixture(name: string): EnvFile {
  return { fileName: name, bytes: new Uint8Array(readFileSync(join(VALID, name))) };
}

async function open(db: string, operator = 'superadmin'): Promise<StrataConfigService> {
  return openService({ db, operator, codec: testCodec() });
}

function staged(service: StrataConfigService): number {
  return (service.store as SqliteStore).stagedCount();
}

/** The caught error of a promise that must reject. */
async function refusal(p: Promise<unknown>): Promise<StrataError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return err as StrataError;
  }
  throw new Error('expected a refusal');
}

let targets: { postgres: string; draft: string };
const opened: StrataConfigService[] = [];

async function draft(operator = 'superadmin'): Promise<StrataConfigService> {
  // Every test gets its own copy of the demo draft, so staged rows never leak between tests.
  const { copyFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = join(mkdtempSync(join(tmpdir(), 'strata-env-')), 'demo.sqlite');
  copyFileSync(targets.draft, path);
  const s = await open(path, operator);
  opened.push(s);
  return s;
}

beforeAll(async () => {
  targets = await demoTargets();
});

afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
  await dropTestDatabases();
});

describe('preview', () => {
  it('maps, places and types the legacy file and shows current, inherited and new values', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const p = await env.preview(fixture('faxbot-legacy.env'), { tenant: 'mercy_hospital' });
    expect(p.accepted).toBe(true);
    const by = new Map(p.items.map((i) => [i.envKey, i]));
    expect(by.get('FAX_BACKEND')).toMatchObject({
      key: 'fax.backend.provider',
      level: 'global',
      scope: '',
      action: 'unchanged',
      current: 'phaxio',
    });
    expect(by.get('HIPAA_MODE')).toMatchObject({
      key: 'compliance.hipaa.enabled',
      level: 'tenant',
      scope: 'mercy_hospital',
      valueType: 'boolean',
      current: 'true',
      inherited: 'false',
      inheritedLevel: 'global',
    });
    expect(by.get('MAX_FILE_SIZE_MB')).toMatchObject({
      key: 'uploads.max_size_mb',
      level: 'global',
      valueType: 'number',
      action: 'update',
      current: '10',
      value: '25',
    });
    expect(by.get('FAX_TIMEOUT')).toMatchObject({ key: 'fax_timeout', action: 'create' });
    // Secrets are masked everywhere in the preview, and their rows say so.
    const key = by.get('PHAXIO_API_KEY')!;
    expect(key).toMatchObject({ secret: true, value: MASK, current: MASK, level: 'tenant' });
    expect(JSON.stringify(p)).not.toContain('pk_live_0123456789abcdef');
    expect(JSON.stringify(p)).not.toContain('demo-mercy-phaxio-key-0002');
    // API_KEY='fbk_abcdef' breaks the metadata rule (minLength 16) and is listed with its line.
    expect(by.get('API_KEY')!.action).toBe('invalid');
    expect(p.errors).toEqual([{ line: 8, message: expect.stringMatching(/^Line 8: .*minLength/) }]);
    expect(p.errors[0]!.message).not.toContain('fbk_abcdef');
    expect(staged(service)).toBe(0);
  });

  it('flags an override equal to the inherited value as redundant and skips it by default', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const f = file('same.env', 'UI_THEME=medical\nNOTIFICATION_URGENCY=high\n');
    const opts = { placement: { level: 'department' as const, scope: 'mercy_hospital/medical' } };
    const p = await env.preview(f, opts);
    expect(p.items.map((i) => [i.key, i.action, i.inherited, i.inheritedLevel])).toEqual([
      ['ui.theme', 'redundant', 'medical', 'tenant'],
      ['notification_urgency', 'create', 'normal', 'global'],
    ]);
    const r = await env.stage(f, opts);
    expect(r.written.map((w) => w.key)).toEqual(['notification_urgency']);
    expect(r.skipped).toEqual([{ line: 1, envKey: 'UI_THEME', action: 'redundant' }]);
    expect(staged(service)).toBe(1);
    const again = await env.stage(f, { ...opts, includeRedundant: true });
    expect(again.written.map((w) => [w.key, w.action])).toEqual([['ui.theme', 'redundant']]);
    expect(staged(service)).toBe(2);
  });

  it('applies mapping edits, per-row overrides and a saved mapping', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const f = file('x.env', 'FAX_TIMEOUT=30\nHIPAA_MODE=true\n');
    const p = await env.preview(f, {
      tenant: 'general_hospital',
      mapping: [{ envKey: 'FAX_TIMEOUT', key: 'fax.timeout_seconds' }],
      overrides: [{ envKey: 'HIPAA_MODE', level: 'department', scope: 'general_hospital/medical' }],
    });
    expect(p.items.map((i) => [i.key, i.keySource, i.level, i.scope])).toEqual([
      ['fax.timeout_seconds', 'custom', 'global', ''],
      ['compliance.hipaa.enabled', 'default', 'department', 'general_hospital/medical'],
    ]);
    expect(p.items[1]!.action).toBe('redundant');

    expect(await env.saveMappings([{ envKey: 'FAX_TIMEOUT', key: 'fax.timeout_ms' }])).toEqual([
      { envKey: 'FAX_TIMEOUT', key: 'fax.timeout_ms' },
    ]);
    const reopened = new EnvImportService(service, { codec: testCodec() });
    expect(await reopened.mappings()).toEqual([{ envKey: 'FAX_TIMEOUT', key: 'fax.timeout_ms' }]);
    const q = await reopened.preview(f, {});
    expect(q.items[0]!.key).toBe('fax.timeout_ms');
    await expect(env.saveMappings([{ envKey: '__proto__', key: 'x' }])).rejects.toThrow(
      /not a valid \.env name/,
    );
    await expect(env.saveMappings([{ envKey: 'A', key: 'bad key' }])).rejects.toThrow(
      /not a valid configuration key/,
    );
  });

  it('lists rows the operator may not write, and a tenant admin can re-place them', async () => {
    const service = await draft('mercy_admin');
    const env = new EnvImportService(service, { codec: testCodec() });
    const f = file('tenant.env', 'HIPAA_MODE=false\nMAX_FILE_SIZE_MB=50\n');
    const p = await env.preview(f, { tenant: 'mercy_hospital' });
    expect(p.items.map((i) => i.action)).toEqual(['update', 'invalid']);
    expect(p.errors[0]!.message).toBe(
      'Line 2: Changing global configuration requires super_admin.',
    );
    await expect(env.stage(f, { tenant: 'mercy_hospital' })).rejects.toThrow(/was not imported/);
    expect(staged(service)).toBe(0);
    const r = await env.stage(f, { placement: { level: 'tenant', scope: 'mercy_hospital' } });
    expect(r.written.map((w) => [w.key, w.level, w.scope])).toEqual([
      ['compliance.hipaa.enabled', 'tenant', 'mercy_hospital'],
      ['uploads.max_size_mb', 'tenant', 'mercy_hospital'],
    ]);
    expect(staged(service)).toBe(2);
  });

  it('shows both lines of a duplicated name and a lock above the target slot', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const f = file('dup.env', 'FAX_BACKEND=phaxio\nFAX_BACKEND=test\n');
    const p = await env.preview(f, {
      placement: { level: 'department', scope: 'general_hospital/medical' },
    });
    expect(p.duplicates).toEqual([{ key: 'FAX_BACKEND', lines: [1, 2] }]);
    expect(p.warnings[0]!.message).toMatch(/^Line 2: FAX_BACKEND is also set on line 1/);
    expect(p.items).toHaveLength(1);
    expect(p.items[0]).toMatchObject({
      line: 2,
      value: 'test',
      lockedAbove: true,
      inherited: 'sip',
      inheritedLevel: 'tenant',
      inheritedScope: 'general_hospital',
    });
    expect(p.items[0]!.note).toMatch(/locks fax\.backend\.provider/);
  });
});

describe('staging into a draft', () => {
  it('stages every accepted row in one write, encrypted secrets, the file in the reason', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const f = file(
      '/home/ops/faxbot.env',
      'PHAXIO_API_SECRET="s3cr3t with spaces"\nFAX_TIMEOUT=30\nPUBLIC_URL=https://fax.example.org/\n',
    );
    const r = await env.stage(f, { tenant: 'mercy_hospital', reason: 'phase 1 migration' });
    expect(r.mode).toBe('staged');
    expect(r.fileName).toBe('faxbot.env');
    expect(r.reason).toBe('Imported from faxbot.env: phase 1 migration');
    expect(r.written.map((w) => [w.key, w.value])).toEqual([
      ['providers.phaxio.api_secret', MASK],
      ['fax_timeout', '30'],
      ['public_url', 'https://fax.example.org/'],
    ]);
    const rows = (service.store as SqliteStore).stagedChanges();
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((x) => x.reason))).toEqual(
      new Set(['Imported from faxbot.env: phase 1 migration']),
    );
    const secretRow = rows.find((x) => x.key === 'providers.phaxio.api_secret')!;
    expect(secretRow.encrypted).toBe(true);
    expect(secretRow.value).toMatch(/^enc:v1:/);
    // The service's index was refreshed: reads see the staged values, staged flags included.
    const res = await service.resolve(
      'providers.phaxio.api_secret',
      { tenantId: 'mercy_hospital' },
      { reveal: true },
    );
    expect(res.value).toBe('s3cr3t with spaces');
    const entries = await service.entries('global', '');
    expect(entries.find((e) => e.key === 'fax_timeout')).toMatchObject({
      value: '30',
      staged: true,
    });
    const history = await service.history({ key: 'fax_timeout' });
    expect(history[0]!.reason).toBe('Imported from faxbot.env: phase 1 migration');
  });

  it('writes nothing when the file is refused or a selected row is invalid', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const refused = await refusal(env.stage(file('bad.env', 'A=1\nB="open\n'), {}));
    expect(refused.message).toMatch(/^bad\.env was not imported: Line 2: /);
    expect((refused.details as { errors: unknown[] }).errors).toEqual([
      { line: 2, message: expect.stringMatching(/^Line 2: /), code: 'unterminated_quote' },
    ]);
    const f = file('mixed.env', 'FAX_TIMEOUT=30\nUPLOADS_MAX_SIZE_MB=5000\nPUBLIC_URL=x\n');
    const bad = await refusal(env.stage(f, {}));
    expect(bad.message).toMatch(/one row cannot be written \(Line 2: /);
    expect((bad.details as { errors: Array<{ line: number }> }).errors.map((e) => e.line)).toEqual([
      2,
    ]);
    expect(staged(service)).toBe(0);
    // Leaving the bad row out imports the rest.
    const r = await env.stage(f, { select: ['FAX_TIMEOUT', 'PUBLIC_URL'] });
    expect(r.written.map((w) => w.key)).toEqual(['fax_timeout', 'public_url']);
    expect(r.skipped).toEqual([{ line: 2, envKey: 'UPLOADS_MAX_SIZE_MB', action: 'invalid' }]);
    expect(staged(service)).toBe(2);
    await expect(env.stage(f, { select: ['NOPE'] })).rejects.toThrow(/does not set/);
  });

  it('refuses secrets when no encryption key is configured, writing nothing', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: null });
    const f = file('s.env', 'FAX_TIMEOUT=30\nDB_PASSWORD=hunter2hunter2\n');
    const p = await env.preview(f, {});
    expect(p.errors[0]!.message).toMatch(/^Line 2: db_password is a secret and cannot be stored/);
    await expect(env.stage(f, {})).rejects.toThrow(/was not imported/);
    expect(staged(service)).toBe(0);
  });

  it('keeps a value that smuggles an assignment inside quotes as one value', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const r = await env.stage(file('q.env', 'ORGANIZATION_NAME="Mercy\nADMIN=true"\n'), {
      placement: { level: 'tenant', scope: 'general_hospital' },
    });
    expect(r.written).toHaveLength(1);
    const entries = await service.entries('tenant', 'general_hospital');
    expect(entries.find((e) => e.key === 'organization_name')!.value).toBe('Mercy\nADMIN=true');
    expect(entries.find((e) => e.key === 'admin')).toBeUndefined();
  });
});

describe('applying live on PostgreSQL', () => {
  it('writes one transaction with audit rows that name the file', async () => {
    const service = await open(targets.postgres);
    opened.push(service);
    const env = new EnvImportService(service, { codec: testCodec() });
    const f = file('live.env', 'FAX_TIMEOUT=45\nPROVIDERS_SIP_HOST=sip.mercy.example\n');
    const r = await env.stage(f, { tenant: 'mercy_hospital', reason: 'cut-over' });
    expect(r.mode).toBe('live');
    const audit = await pgQuery<{ key: string; reason: string; changed_by: string; txid: string }>(
      targets.postgres,
      "SELECT key, reason, changed_by FROM config_audit WHERE reason LIKE 'Imported from live.env%' ORDER BY key",
    );
    expect(audit.map((a) => [a.key, a.reason, a.changed_by])).toEqual([
      ['fax_timeout', 'Imported from live.env: cut-over', 'superadmin'],
      ['providers.sip.host', 'Imported from live.env: cut-over', 'superadmin'],
    ]);
    const rows = await pgQuery<{ n: number }>(
      targets.postgres,
      "SELECT count(*)::int AS n FROM config_tenant WHERE tenant_id = 'mercy_hospital' AND key = 'providers.sip.host'",
    );
    expect(rows[0]!.n).toBe(1);
    expect((await service.resolve('fax_timeout', { userId: 'dr_house' })).value).toBe('45');
  });

  it('rolls the whole import back when the database refuses one row', async () => {
    const service = await open(targets.postgres);
    opened.push(service);
    const env = new EnvImportService(service, { codec: testCodec() });
    // The database's own validation now refuses 60, which the service's (older) metadata allows.
    await pgQuery(
      targets.postgres,
      `UPDATE configuration_metadata SET validation_rules = '{"min": 1, "max": 50}' WHERE key = 'uploads.max_size_mb'`,
    );
    const f = file('atomic.env', 'ATOMIC_MARKER=yes\nMAX_FILE_SIZE_MB=60\nZZ_MARKER=yes\n');
    const p = await env.preview(f, {});
    expect(p.errors).toEqual([]);
    await expect(env.stage(f, {})).rejects.toThrow(/uploads\.max_size_mb/);
    const rows = await pgQuery<{ key: string }>(
      targets.postgres,
      "SELECT key FROM config_global WHERE key IN ('atomic_marker', 'zz_marker')",
    );
    expect(rows).toEqual([]);
    const audit = await pgQuery(
      targets.postgres,
      "SELECT 1 FROM config_audit WHERE reason LIKE 'Imported from atomic.env%'",
    );
    expect(audit).toEqual([]);
    await pgQuery(
      targets.postgres,
      `UPDATE configuration_metadata SET validation_rules = '{"min": 1, "max": 100}' WHERE key = 'uploads.max_size_mb'`,
    );
  });
});

describe('export', () => {
  it('writes the effective configuration so dotenv and Strata read it back identically', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    await service.set({
      level: 'user',
      scope: 'dr_house',
      key: 'organization_name',
      value: 'He said "hi" # not a comment\nsecond line \\n',
    });
    const out = await env.exportEnv({ context: { userId: 'dr_house' } });
    expect(out.fileName).toBe('dr_house.env');
    expect(out.omittedSecrets).toEqual(
      expect.arrayContaining(['providers.phaxio.api_key', 'security.default_api_key']),
    );
    expect(out.text).not.toMatch(/PHAXIO_API_KEY|demo-mercy-phaxio-key/);
    const effective = await service.effective({ userId: 'dr_house' });
    const byKey = new Map(effective.map((i) => [i.key, i.value]));
    const parsed = parseEnv(new TextEncoder().encode(out.text));
    expect(parsed.ok).toBe(true);
    const ours = envEntriesToMap(parsed.ok ? parsed.entries : []);
    const theirs = dotenv.parse(out.text);
    expect(Object.fromEntries(ours)).toEqual(theirs);
    for (const row of out.rows) expect(theirs[row.envKey]).toBe(byKey.get(row.key));
    expect(theirs.ORGANIZATION_NAME).toBe('He said "hi" # not a comment\nsecond line \\n');
    // A collision (hipaa_mode and compliance.hipaa.enabled both export as HIPAA_MODE) keeps
    // the key an import maps the name back to.
    expect(out.rows.find((r) => r.envKey === 'HIPAA_MODE')!.key).toBe('compliance.hipaa.enabled');
    expect(out.notes.some((n) => n.startsWith('hipaa_mode not exported'))).toBe(true);
  });

  it('re-importing an export at the user level changes nothing', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const out = await env.exportEnv({ context: { userId: 'dr_house' } });
    const p = await env.preview(file('dr_house.env', out.text), {
      placement: { level: 'user', scope: 'dr_house' },
    });
    expect(p.errors).toEqual([]);
    expect(p.items.length).toBeGreaterThan(10);
    for (const i of p.items) expect(['redundant', 'unchanged']).toContain(i.action);
  });

  it('releases secrets only with the flag and after their reveals are recorded', async () => {
    const service = await draft();
    const env = new EnvImportService(service);
    const without = await env.exportEnv({ context: { userId: 'dr_house' } });
    expect(without.text).not.toContain('demo-mercy-phaxio-key-0002');
    expect(await service.reveals()).toEqual([]);
    const out = await env.exportEnv({ context: { userId: 'dr_house' }, includeSecrets: true });
    expect(dotenv.parse(out.text).PHAXIO_API_KEY).toBe('demo-mercy-phaxio-key-0002');
    expect(out.secretsIncluded).toBe(3);
    const reveals = await service.reveals();
    expect(reveals.map((r) => r.key).sort()).toEqual([
      'providers.phaxio.api_key',
      'providers.phaxio.api_secret',
      'security.default_api_key',
    ]);
    expect(reveals.every((r) => r.revealedBy === 'superadmin' && r.via === 'api')).toBe(true);
  });
});

describe('hybrid mode (env_legacy)', () => {
  it('resolves keys the database does not set from the attached file, across a reopen', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    const status = await env.attachLegacy(
      file('legacy.env', 'FAX_TIMEOUT=30\nFAX_BACKEND=test\nSMTP_PASSWORD=legacy-pass-123\n'),
    );
    expect(status).toMatchObject({
      attached: true,
      fileName: 'legacy.env',
      onlyInFile: 2,
      persisted: true,
    });
    expect(status.keys.map((k) => [k.key, k.inDatabase, k.value])).toEqual([
      ['fax_timeout', false, '30'],
      ['fax.backend.provider', true, 'test'],
      ['smtp_password', false, MASK],
    ]);
    const r = await service.resolve('fax_timeout', { userId: 'dr_house' });
    expect(r).toMatchObject({ value: '30', level: 'env_legacy' });
    expect(r.chain[0]).toMatchObject({ level: 'env_legacy', value: '30', winner: true });
    // The database still wins where it sets the key; the file's link is shadowed.
    const fb = await service.resolve('fax.backend.provider', { userId: 'nurse_joy' });
    expect(fb.level).not.toBe('env_legacy');
    expect(fb.chain[0]).toMatchObject({ level: 'env_legacy', value: 'test', shadowed: true });
    // Importing a legacy key moves it into the database.
    await env.stage(file('legacy.env', 'FAX_TIMEOUT=30\n'), { includeRedundant: true });
    expect((await env.legacyStatus()).onlyInFile).toBe(1);
    expect((await service.resolve('fax_timeout', { userId: 'dr_house' })).level).toBe('global');

    // The draft keeps the attachment, with the secret encrypted, not in plaintext.
    const meta = (service.store as SqliteStore).meta('env_legacy')!;
    expect(meta).not.toContain('legacy-pass-123');
    const path = service.store.target;
    const reopened = await open(path);
    opened.push(reopened);
    const env2 = new EnvImportService(reopened, { codec: testCodec() });
    expect((await env2.legacyStatus()).keys.map((k) => k.key)).toEqual([
      'fax_timeout',
      'fax.backend.provider',
      'smtp_password',
    ]);
    expect(
      (await reopened.resolve('smtp_password', { userId: 'dr_house' }, { reveal: true })).value,
    ).toBe('legacy-pass-123');
    expect((await env2.detachLegacy()).attached).toBe(false);
    expect((await reopened.resolve('smtp_password', { userId: 'dr_house' })).value).toBeNull();
  });

  it('shows what a global value would inherit from the attached file', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    await env.attachLegacy(file('legacy.env', 'FAX_TIMEOUT=30\nFAX_BACKEND=test\n'));
    // Below global sits only the file: a global value inherits from it, set or not.
    const p = await env.preview(file('next.env', 'FAX_TIMEOUT=45\nFAX_BACKEND=sinch\n'), {
      placement: { level: 'global', scope: '' },
    });
    expect(p.items.map((i) => [i.key, i.action, i.inherited, i.inheritedLevel])).toEqual([
      ['fax_timeout', 'create', '30', 'env_legacy'],
      ['fax.backend.provider', 'update', 'test', 'env_legacy'],
    ]);
  });

  it('refuses a hostile file as a legacy attachment and keeps names that collide out', async () => {
    const service = await draft();
    const env = new EnvImportService(service, { codec: testCodec() });
    await expect(env.attachLegacy(file('x.env', 'A=1\n\u0000'))).rejects.toThrow(
      /was not attached/,
    );
    const s = await env.attachLegacy(file('c.env', 'FAX_TIMEOUT=1\nfax_timeout=2\nOTHER=3\n'));
    expect(s.keys.map((k) => k.key)).toEqual(['other']);
    expect(s.warnings.map((w) => w.line)).toEqual([1, 2]);
  });
});
