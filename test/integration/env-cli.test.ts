/**
 * `strata import-env` and `strata export-env` as a user runs them (the real bin/strata.js
 * against a draft and a live PostgreSQL database).
 */
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoTargets, json, pgQuery, ROOT, strata, tempDir, TEST_KEY } from './service-fixtures.js';

const LEGACY = join(ROOT, 'test/fixtures/env/valid/faxbot-legacy.env');
const ENV = { CONFIG_ENCRYPTION_KEY: TEST_KEY };

interface ImportDoc {
  mode: string;
  file: string;
  reason: string | null;
  written: number;
  items: Array<Record<string, unknown>>;
  errors: Array<{ line: number; message: string }>;
}

let targets: { postgres: string; draft: string };
let dir: string;

function draftCopy(): string {
  const path = join(dir, `d-${Math.random().toString(36).slice(2)}.sqlite`);
  copyFileSync(targets.draft, path);
  return path;
}

beforeAll(async () => {
  targets = await demoTargets();
  dir = tempDir('strata-env-cli-');
});

afterAll(async () => {
  await dropTestDatabases();
});

describe('strata import-env', () => {
  it('prints the plan as JSON on a dry run and exits 2 for a row it cannot write', async () => {
    const db = draftCopy();
    const run = await strata(
      [
        'import-env',
        LEGACY,
        '--scope',
        'mercy_hospital',
        '--dry-run',
        '--json',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      ENV,
    );
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout) as ImportDoc;
    expect(doc.mode).toBe('refused');
    expect(Object.keys(doc.items[0]!)).toEqual([
      'line',
      'env_key',
      'key',
      'level',
      'scope',
      'value',
      'action',
    ]);
    expect(doc.items[0]).toEqual({
      line: 2,
      env_key: 'FAX_BACKEND',
      key: 'fax.backend.provider',
      level: 'global',
      scope: '',
      value: 'phaxio',
      action: 'unchanged',
    });
    expect(doc.items.find((i) => i.env_key === 'PHAXIO_API_KEY')).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      value: '••••••••',
      action: 'update',
    });
    expect(doc.errors).toEqual([
      { line: 8, message: expect.stringMatching(/^Line 8: .*security\.default_api_key/) },
    ]);
    expect(run.stdout + run.stderr).not.toContain('pk_live_0123456789abcdef');
    expect(run.stdout + run.stderr).not.toContain('fbk_abcdef');
  });

  it('stages a file with --map and --level, the file named in the reason', async () => {
    const db = draftCopy();
    const f = join(dir, 'ops.env');
    writeFileSync(f, 'FAX_TIMEOUT=30\nPHAXIO_API_SECRET="s3cr3t with spaces"\n');
    const run = await strata(
      [
        'import-env',
        f,
        '--level',
        'department',
        '--scope',
        'mercy_hospital/medical',
        '--map',
        'FAX_TIMEOUT=fax.timeout_seconds',
        '--save-map',
        '--reason',
        'cut-over',
        '--json',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      ENV,
    );
    const doc = json<ImportDoc>(run);
    expect(doc).toMatchObject({
      mode: 'staged',
      file: 'ops.env',
      reason: 'Imported from ops.env: cut-over',
      written: 2,
    });
    expect(doc.items.map((i) => [i.key, i.level, i.scope, i.action])).toEqual([
      ['fax.timeout_seconds', 'department', 'mercy_hospital/medical', 'create'],
      ['providers.phaxio.api_secret', 'department', 'mercy_hospital/medical', 'create'],
    ]);
    const res = json<{ value: string; level: string }>(
      await strata(
        [
          'resolve',
          'providers.phaxio.api_secret',
          '--user',
          'dr_house',
          '--reveal',
          '--json',
          '--db',
          db,
        ],
        ENV,
      ),
    );
    expect(res).toMatchObject({ value: 's3cr3t with spaces', level: 'department' });
    const history = await strata(['history', 'fax.timeout_seconds', '--json', '--db', db], ENV);
    expect(history.stdout).toContain('Imported from ops.env: cut-over');
    // --save-map kept the pair for later imports.
    const later = json<ImportDoc>(
      await strata(['import-env', f, '--dry-run', '--json', '--db', db, '--as', 'superadmin'], ENV),
    );
    expect(later.items[0]).toMatchObject({ env_key: 'FAX_TIMEOUT', key: 'fax.timeout_seconds' });
  });

  it('refuses usage mistakes with exit 2', async () => {
    const db = draftCopy();
    const noScope = await strata(['import-env', LEGACY, '--level', 'tenant', '--db', db], ENV);
    expect(noScope).toMatchObject({
      code: 2,
      stderr: '--scope is required for the tenant level.\n',
    });
    const badMap = await strata(['import-env', LEGACY, '--map', 'NOEQUALS', '--db', db], ENV);
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toMatch(/^--map takes ENV_NAME=config\.key/);
    const badLevel = await strata(['import-env', LEGACY, '--level', 'planet', '--db', db], ENV);
    expect(badLevel.stderr).toMatch(/^Unknown level 'planet'/);
  });

  it('applies live on PostgreSQL in one transaction', async () => {
    const f = join(dir, 'live.env');
    writeFileSync(f, 'FAX_TIMEOUT=45\nUPLOADS_MAX_SIZE_MB=30\n');
    const run = await strata(
      ['import-env', f, '--db', targets.postgres, '--as', 'superadmin'],
      ENV,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Applied 2 change\(s\) live from live\.env in one transaction/);
    const audit = await pgQuery<{ key: string }>(
      targets.postgres,
      "SELECT key FROM config_audit WHERE reason = 'Imported from live.env' ORDER BY key",
    );
    expect(audit.map((a) => a.key)).toEqual(['fax_timeout', 'uploads.max_size_mb']);
  });
});

describe('strata export-env', () => {
  it('writes a private .env file that dotenv reads as the effective values', async () => {
    const db = draftCopy();
    const out = join(dir, 'dr_house.env');
    const run = await strata(
      ['export-env', '--user', 'dr_house', '--out', out, '--json', '--db', db],
      ENV,
    );
    const doc = json<{
      file: string;
      items: Array<{ env_key: string; key: string }>;
      omitted_secrets: string[];
    }>(run);
    expect(doc.file).toBe(out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const parsed = dotenv.parse(readFileSync(out, 'utf8'));
    const effective = json<{ values: Record<string, string> }>(
      await strata(['effective', '--user', 'dr_house', '--json', '--db', db], ENV),
    );
    expect(doc.items.length).toBeGreaterThan(10);
    for (const item of doc.items) expect(parsed[item.env_key]).toBe(effective.values[item.key]);
    expect(doc.omitted_secrets).toContain('providers.phaxio.api_key');
    expect(Object.keys(parsed)).not.toContain('PHAXIO_API_KEY');
    // The export imports back as nothing new.
    const back = json<ImportDoc>(
      await strata(
        [
          'import-env',
          out,
          '--level',
          'user',
          '--scope',
          'dr_house',
          '--dry-run',
          '--json',
          '--db',
          db,
          '--as',
          'superadmin',
        ],
        ENV,
      ),
    );
    for (const i of back.items) expect(['unchanged', 'redundant']).toContain(i.action);
  });

  it('exports secrets only with --include-secrets, after recording each reveal', async () => {
    const db = draftCopy();
    const CANARY = 'demo-mercy-phaxio-key-0002';
    const plain = await strata(['export-env', '--user', 'dr_house', '--db', db], ENV);
    expect(plain.code).toBe(0);
    expect(plain.stdout + plain.stderr).not.toContain(CANARY);
    expect(plain.stderr).toMatch(/secret key\(s\) left out \(.*providers\.phaxio\.api_key/);
    const misuse = await strata(
      ['export-env', '--user', 'dr_house', '--reason', 'why', '--db', db],
      ENV,
    );
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toMatch(/--reason is recorded with exported secrets/);
    const run = await strata(
      [
        'export-env',
        '--user',
        'dr_house',
        '--include-secrets',
        '--reason',
        'fax migration',
        '--json',
        '--db',
        db,
      ],
      ENV,
    );
    expect(run.code).toBe(0);
    const doc = json<{ text: string; items: Array<{ key: string; secret: boolean }> }>(run);
    expect(dotenv.parse(doc.text).PHAXIO_API_KEY).toBe(CANARY);
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(db, { readonly: true });
    try {
      const rows = raw
        .prepare('SELECT key, reason, via FROM draft_reveals ORDER BY key')
        .all() as Array<{ key: string; reason: string; via: string }>;
      expect(rows.map((r) => r.key)).toEqual(
        doc.items
          .filter((i) => i.secret)
          .map((i) => i.key)
          .sort(),
      );
      for (const r of rows) {
        expect(r.via).toBe('cli');
        expect(r.reason).toMatch(/^Export to \.env for user dr_house.*: fax migration$/);
      }
      expect(JSON.stringify(rows)).not.toContain(CANARY);
    } finally {
      raw.close();
    }
    // Without the key the secrets cannot be revealed: exit 2, nothing printed.
    const nokey = await strata(
      ['export-env', '--user', 'dr_house', '--include-secrets', '--db', db],
      {},
    );
    expect(nokey.code).toBe(2);
    expect(nokey.stdout).toBe('');
    expect(nokey.stderr).not.toContain(CANARY);
  });
});
