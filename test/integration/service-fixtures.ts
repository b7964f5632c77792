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
import { migratePostgres } from '../../src-main/store/migrations.js';
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
