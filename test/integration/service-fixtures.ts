/**
 * Shared fixtures for the store, service and CLI integration tests: fresh migrated PostgreSQL
 * databases, temporary draft paths, demo-loaded targets of both kinds, and a CLI runner that
 * spawns the real `bin/strata.js`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { createCodec } from '../../src-main/secrets/cipher.js';
import type { SecretCodec } from '../../src-main/secrets/cipher.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import { migratePostgres } from '../../src-main/store/migrations.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import type { StoredChange } from '../../src-main/store/store.js';
import { createTestDatabase } from '../helpers/pg.js';

/** Repository root (where bin/strata.js lives). */
export const ROOT = resolve(import.meta.dirname, '../..');

/** A fixed master key for tests, so envelopes can be checked across processes. */
export const TEST_KEY = Buffer.alloc(32, 7).toString('base64');

/** The codec for TEST_KEY. */
export function testCodec(): SecretCodec {
  return createCodec(new Uint8Array(Buffer.from(TEST_KEY, 'base64')));
}

/** A new empty temporary folder. */
export function tempDir(prefix = 'strata-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh PostgreSQL database with every migration applied. */
export async function migratedPg(): Promise<string> {
  const url = await createTestDatabase();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await migratePostgres(c);
  } finally {
    await c.end();
  }
  return url;
}

/** Both kinds of target holding the demo hospital network (secrets encrypted with TEST_KEY). */
export async function demoTargets(): Promise<{ postgres: string; draft: string }> {
  const postgres = await migratedPg();
  const draft = join(tempDir(), 'demo.sqlite');
  const codec = codecChoiceOf(testCodec());
  await loadDemo(postgres, { codec });
  await loadDemo(draft, { codec });
  return { postgres, draft };
}

/** Runs a SQL statement against a PostgreSQL URL and returns the rows. */
export async function pgQuery<T = Record<string, unknown>>(
  url: string,
  sql: string,
  values?: unknown[],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, values)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * A draft pulled from `url` with 2n staged changes at tenant `tenant`: `n` keys
 * `<prefix>.00001`... are first set to 'v0' in the database, then the draft sets each to 'v1'
 * (n updates) and adds `<key>.new` = 'n1' (n creates). Returns the draft file.
 */
export async function draftWithBulkChanges(
  url: string,
  opts: { tenant: string; prefix: string; n: number; dir: string },
): Promise<string> {
  const { tenant, prefix, n } = opts;
  await pgQuery(
    url,
    `INSERT INTO config_tenant (tenant_id, key, value)
     SELECT $1, $2 || '.' || lpad(i::text, 5, '0'), 'v0' FROM generate_series(1, $3::int) i`,
    [tenant, prefix, n],
  );
  const file = join(opts.dir, 'draft.sqlite');
  await pullDraft(url, file);
  const draft = SqliteStore.open(file);
  try {
    const staged: StoredChange[] = [];
    for (let i = 1; i <= n; i++) {
      const key = `${prefix}.${String(i).padStart(5, '0')}`;
      for (const [k, v] of [
        [key, 'v1'],
        [`${key}.new`, 'n1'],
      ] as const) {
        staged.push({
          level: 'tenant',
          scope: tenant,
          key: k,
          action: 'set',
          value: v,
          valueType: 'string',
          encrypted: false,
          locked: false,
        });
      }
    }
    await draft.write(staged, { operator: 'root', reason: 'bulk' });
  } finally {
    await draft.close();
  }
  return file;
}

/** Result of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns `node bin/strata.js ...args` with a clean Strata environment plus `env`. */
export function strata(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('STRATA_') && k !== 'CONFIG_ENCRYPTION_KEY') base[k] = v;
  }
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/strata.js'), ...args],
      { env: { ...base, ...env }, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Parses the single JSON document a --json run printed. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`strata exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
