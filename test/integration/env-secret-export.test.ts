/**
 * .env export with secrets and the import's handling of existing secrets, on real workspaces:
 * an export with includeSecrets records one reveal per exported secret slot (draft_reveals /
 * config_reveals) with the reason naming the context and the front door, before any plaintext
 * is returned; a record that cannot be written exports nothing; without the flag secrets are left
 * out and named. Previews and imports that touch secret keys compare them by fingerprint and
 * record no reveal.
 */
import Database from 'better-sqlite3';
import dotenv from 'dotenv';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canSerializeEnvValue, parseEnv, envEntriesToMap } from '../../src-main/core/env/index.js';
import { MASK } from '../../src-main/core/masking.js';
import { StrataError } from '../../src-main/core/types.js';
import { openService, type StrataConfigService } from '../../src-main/services/config-service.js';
import { EnvImportService } from '../../src-main/services/env-import-service.js';
import type { EnvFile } from '../../src-main/services/env-types.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';
import { demoTargets, testCodec } from './service-fixtures.js';

const MERCY_KEY = 'demo-mercy-phaxio-key-0002';
const SECRET_KEYS = [
  'providers.phaxio.api_key',
  'providers.phaxio.api_secret',
  'security.default_api_key',
];
const TRICKY = [
  `it's "quoted" # not a comment`,
  'line one\nline two $HOME ${PATH} `tick`',
  `pa$$w0rd#with'single`,
  '  padded with spaces  ',
  'back\\slash "and" quote',
];

function file(fileName: string, text: string): EnvFile {
  return { fileName, bytes: new TextEncoder().encode(text) };
}

function readBack(text: string): Record<string, string> {
  const parsed = parseEnv(new TextEncoder().encode(text));
  expect(parsed.ok).toBe(true);
  const ours = Object.fromEntries(envEntriesToMap(parsed.ok ? parsed.entries : []));
  const theirs = dotenv.parse(text);
  expect(ours).toEqual(theirs);
  return theirs;
}

const temp = tempDir('strata-env-secrets-');
const opened: StrataConfigService[] = [];

async function draft(): Promise<{
  service: StrataConfigService;
  db: string;
  env: Record<string, string | undefined>;
}> {
  const o = await openSqliteDemo(temp.dir, 'superadmin');
  const service = o.service as StrataConfigService;
  opened.push(service);
  return { service, db: o.db, env: o.env };
}

afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
  await dropTestDatabases();
  temp.cleanup();
});

describe('export with secrets in a draft', () => {
  it('leaves secrets out and names them without the flag, recording nothing', async () => {
    const { service } = await draft();
    const env = new EnvImportService(service);
    const out = await env.exportEnv({ context: { userId: 'dr_house' } });
    expect(out.secretsIncluded).toBe(0);
    expect(out.omittedSecrets).toEqual(expect.arrayContaining(SECRET_KEYS));
    expect(out.text).not.toContain(MERCY_KEY);
    expect(out.text).not.toContain(MASK);
    expect(Object.keys(readBack(out.text))).not.toContain('PHAXIO_API_KEY');
    expect(await service.reveals()).toEqual([]);
  });

  it('records one reveal per exported secret slot before returning the plaintext', async () => {
    const { service } = await draft();
    const env = new EnvImportService(service);
    const out = await env.exportEnv({
      context: { userId: 'dr_house' },
      includeSecrets: true,
      reason: '  fax server migration  ',
      via: 'cli',
    });
    const values = readBack(out.text);
    expect(values.PHAXIO_API_KEY).toBe(MERCY_KEY);
    expect(out.secretsIncluded).toBe(3);
    expect(out.omittedSecrets).toEqual([]);
    const reveals = await service.reveals();
    expect(reveals.map((r) => r.key).sort()).toEqual(SECRET_KEYS);
    for (const r of reveals) {
      expect(r.reason).toMatch(
        /^Export to \.env for user dr_house, tenant mercy_hospital.*: fax server migration$/,
      );
      expect(r.via).toBe('cli');
      expect(r.revealedBy).toBe('superadmin');
      const entry = service.index.get({ level: r.level as 'global', scope: r.scope, key: r.key });
      expect(entry?.encrypted).toBe(true);
      expect(r.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
    // The record never holds the value.
    expect(JSON.stringify(reveals)).not.toContain(MERCY_KEY);
    // Each reveal names the slot the value came from (the tenant's key wins for dr_house).
    expect(reveals.find((r) => r.key === 'providers.phaxio.api_key')).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
    });
  });

  it('reads back secrets with quotes, #, line breaks and $ exactly (dotenv and Strata)', async () => {
    const { service } = await draft();
    const env = new EnvImportService(service);
    const check = async (value: string): Promise<void> => {
      await service.set({
        level: 'user',
        scope: 'dr_house',
        key: 'providers.phaxio.api_secret',
        value,
      });
      const out = await env.exportEnv({ context: { userId: 'dr_house' }, includeSecrets: true });
      expect(readBack(out.text).PHAXIO_API_SECRET).toBe(value);
    };
    for (const value of TRICKY) await check(value);
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ minLength: 1, maxLength: 40, unit: 'binary' })
          .filter((v) => [...v.trim()].length >= 10 && canSerializeEnvValue(v)),
        check,
      ),
      { numRuns: 25 },
    );
  });

  it('exports nothing when the reveal cannot be recorded', async () => {
    const { service, db, env: processEnv } = await draft();
    await service.close();
    const raw = new Database(db);
    // The log refuses every record, as a full disk or a damaged file would.
    raw.exec(
      `CREATE TRIGGER refuse_reveals BEFORE INSERT ON draft_reveals BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    raw.close();
    const reopened = await openService({ db, operator: 'superadmin', env: processEnv });
    opened.push(reopened);
    const env = new EnvImportService(reopened);
    const err = await env.exportEnv({ context: { userId: 'dr_house' }, includeSecrets: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).message).toMatch(/could not be recorded/);
    expect((err as StrataError).message).not.toContain(MERCY_KEY);
    // Without secrets the export still works.
    const plain = await env.exportEnv({ context: { userId: 'dr_house' } });
    expect(plain.text).not.toContain(MERCY_KEY);
  });

  it('refuses a reason without secrets, and a bad reason, in one sentence', async () => {
    const { service } = await draft();
    const env = new EnvImportService(service);
    await expect(
      env.exportEnv({ context: { userId: 'dr_house' }, reason: 'why not' }),
    ).rejects.toThrow(/^A reason is recorded only when secrets are exported/);
    await expect(
      env.exportEnv({
        context: { userId: 'dr_house' },
        includeSecrets: true,
        reason: 'x'.repeat(1_001),
      }),
    ).rejects.toThrow(/limit is 1000/);
    expect(await service.reveals()).toEqual([]);
  });
});

describe('import of secret keys records no reveal', () => {
  it('previews and stages without revealing, comparing secrets by fingerprint', async () => {
    const { service } = await draft();
    const env = new EnvImportService(service);
    const text = [
      `PHAXIO_API_KEY=${MERCY_KEY}`,
      'PHAXIO_API_SECRET=a-brand-new-secret',
      'API_KEY=another-new-secret',
      'FAX_BACKEND=phaxio',
    ].join('\n');
    const opts = { tenant: 'mercy_hospital' };
    const p = await env.preview(file('secrets.env', text), opts);
    expect(p.errors).toEqual([]);
    const by = new Map(p.items.map((i) => [i.envKey, i]));
    // Same plaintext as stored (encrypted) at the tenant: unchanged, found without decrypting.
    expect(by.get('PHAXIO_API_KEY')).toMatchObject({
      action: 'unchanged',
      value: MASK,
      current: MASK,
      secret: true,
    });
    expect(by.get('PHAXIO_API_SECRET')).toMatchObject({ action: 'create', value: MASK });
    expect(by.get('PHAXIO_API_SECRET')!.inherited).toBe(MASK);
    expect(JSON.stringify(p)).not.toMatch(/demo-[a-z]+-phaxio|a-brand-new-secret|enc:v1:/);
    const result = await env.stage(file('secrets.env', text), opts);
    expect(result.written.map((w) => w.envKey).sort()).toEqual(['API_KEY', 'PHAXIO_API_SECRET']);
    expect(JSON.stringify(result)).not.toMatch(/demo-[a-z]+-phaxio|a-brand-new-secret|enc:v1:/);
    // A second preview of the same file finds every secret unchanged.
    const again = await env.preview(file('secrets.env', text), opts);
    for (const i of again.items) expect(i.action).toBe('unchanged');
    expect(await service.reveals()).toEqual([]);
  });
});

describe('export with secrets on PostgreSQL', () => {
  let service: StrataConfigService;
  let db: string;
  beforeAll(async () => {
    db = (await demoTargets()).postgres;
    service = await openService({ db, operator: 'superadmin', codec: testCodec() });
    opened.push(service);
  });

  it('writes config_reveals rows with the context, reason and front door', async () => {
    const env = new EnvImportService(service);
    const p = await env.preview(file('x.env', `PHAXIO_API_KEY=${MERCY_KEY}\n`), {
      tenant: 'mercy_hospital',
    });
    expect(p.items[0]).toMatchObject({ action: 'unchanged', value: MASK });
    expect(await service.reveals()).toEqual([]);
    const out = await env.exportEnv({
      context: { tenantId: 'mercy_hospital' },
      includeSecrets: true,
      reason: 'INC-7: gateway rebuild',
      via: 'console',
    });
    expect(readBack(out.text).PHAXIO_API_KEY).toBe(MERCY_KEY);
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      const rows = (
        await c.query<{ key: string; reason: string; via: string; revealed_by: string }>(
          'SELECT key::text, reason, via::text, revealed_by FROM config_reveals ORDER BY key',
        )
      ).rows;
      expect(rows.map((r) => r.key)).toEqual(
        out.rows
          .filter((r) => r.secret)
          .map((r) => r.key)
          .sort(),
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r).toMatchObject({
          reason: 'Export to .env for tenant mercy_hospital: INC-7: gateway rebuild',
          via: 'console',
          revealed_by: 'superadmin',
        });
      }
    } finally {
      await c.end();
    }
  });
});
