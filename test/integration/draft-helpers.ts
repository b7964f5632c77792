/**
 * Fixtures for the draft lifecycle tests: a migrated PostgreSQL database holding the demo
 * hospital network, drafts pulled from it, staging and live writes through the real config
 * service, and readers for rows, audit rows and pushes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { StrataError, type Level } from '../../src-main/core/types.js';
import { openService } from '../../src-main/services/config-service.js';
import type { BatchChange } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { pgAdminUrl } from '../helpers/pg.js';
import { ROOT, TEST_KEY, migratedPg, pgQuery, tempDir, testCodec } from './service-fixtures.js';

/**
 * Lets in-process pulls, plans and pushes reach the test server the way an admin's shell does:
 * a draft records its source without the password, which then comes from PGPASSWORD.
 */
export function usePgPassword(): void {
  process.env.PGPASSWORD = decodeURIComponent(new URL(pgAdminUrl()).password);
}

/** Environment for spawned `strata` runs: the test key and the server's password. */
export function cliEnv(): Record<string, string> {
  return {
    CONFIG_ENCRYPTION_KEY: TEST_KEY,
    PGPASSWORD: decodeURIComponent(new URL(pgAdminUrl()).password),
  };
}

/** A migrated database holding the demo hospital network (secrets under the test key). */
export async function demoPg(): Promise<string> {
  usePgPassword();
  const url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()), operator: 'demo-loader' });
  return url;
}

/** A new draft pulled from `url`, in a fresh temporary folder. */
export async function pulled(url: string, name = 'draft.sqlite'): Promise<string> {
  const file = join(tempDir('strata-draft-'), name);
  await pullDraft(url, file);
  return file;
}

/** Writes a change set through the real config service (live on PostgreSQL, staged in a draft). */
export async function write(
  db: string,
  changes: BatchChange[],
  opts: { as?: string; reason?: string | null } = {},
): Promise<void> {
  const service = await openService({
    db,
    operator: opts.as ?? 'superadmin',
    codec: testCodec(),
  });
  try {
    await service.writeBatch(changes, { reason: opts.reason ?? 'test' });
  } finally {
    await service.close();
  }
}

/** A set change. */
export function set(
  level: Level,
  scope: string,
  key: string,
  value: string,
  extra: Partial<BatchChange> = {},
): BatchChange {
  return { level, scope, key, value, ...extra } as BatchChange;
}

/** An unset change. */
export function unset(level: Level, scope: string, key: string): BatchChange {
  return { level, scope, key, action: 'unset' };
}

const TABLE: Record<Level, { table: string; where: string }> = {
  global: { table: 'config_global', where: "'' = $1" },
  tenant: { table: 'config_tenant', where: 'tenant_id = $1' },
  department: { table: 'config_department', where: "tenant_id || '/' || department = $1" },
  group: { table: 'config_group', where: 'group_id = $1' },
  user: { table: 'config_user', where: 'user_id = $1' },
};

/** The live row at a slot (value and version), or null. */
export async function liveRow(
  url: string,
  level: Level,
  scope: string,
  key: string,
): Promise<{ value: string; version: number; encrypted: boolean } | null> {
  const t = TABLE[level];
  const rows = await pgQuery<{ value: string; version: string; encrypted: boolean }>(
    url,
    `SELECT value, version::text AS version, encrypted FROM ${t.table} WHERE ${t.where} AND key = $2`,
    [scope, key],
  );
  const r = rows[0];
  return r ? { value: r.value, version: Number(r.version), encrypted: r.encrypted } : null;
}

/** Number of audit rows (optionally of one push). */
export async function auditCount(url: string, pushId?: string): Promise<number> {
  const rows = await pgQuery<{ n: string }>(
    url,
    pushId === undefined
      ? 'SELECT count(*)::text AS n FROM config_audit'
      : 'SELECT count(*)::text AS n FROM config_audit WHERE push_id = $1',
    pushId === undefined ? [] : [pushId],
  );
  return Number(rows[0]!.n);
}

/** Every row of config_pushes. */
export async function pushes(
  url: string,
): Promise<Array<{ id: string; reason: string | null; item_count: number; operator: string }>> {
  return pgQuery(
    url,
    'SELECT id, reason, item_count, operator FROM config_pushes ORDER BY pushed_at',
  );
}

/** A fingerprint of every config row of a database (to prove nothing changed). */
export async function liveFingerprint(url: string): Promise<string> {
  const parts: string[] = [];
  for (const level of Object.keys(TABLE) as Level[]) {
    const rows = await pgQuery<{ s: string }>(
      url,
      `SELECT string_agg(key || '=' || value || '@' || version, '|' ORDER BY key, value) AS s FROM ${TABLE[level].table}`,
    );
    parts.push(`${level}:${rows[0]?.s ?? ''}`);
  }
  const dir = await pgQuery<{ s: string }>(
    url,
    "SELECT (SELECT string_agg(id, ',' ORDER BY id) FROM tenants) || '/' || (SELECT string_agg(id, ',' ORDER BY id) FROM users) AS s",
  );
  parts.push(dir[0]?.s ?? '');
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** sha256 of a file's bytes. */
export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The draft's staged rows and base, as text (to prove a draft is intact). */
export async function draftState(file: string): Promise<string> {
  const store = SqliteStore.open(file);
  try {
    const staged = store
      .stagedChanges({ all: true })
      .map((r) => `${r.id}:${r.status}:${r.level}:${r.scope}:${r.key}:${r.value}:${r.baseVersion}`);
    const base = store
      .baseEntries()
      .map((e) => `${e.level}:${e.scope}:${e.key}:${e.value}:${e.version}`)
      .sort();
    return JSON.stringify({ staged, base });
  } finally {
    await store.close();
  }
}

/** Active staged-change count of a draft. */
export async function stagedCount(file: string): Promise<number> {
  const store = SqliteStore.open(file);
  try {
    return store.stagedCount();
  } finally {
    await store.close();
  }
}

/** Sets the target's environment label (as the DBA would). */
export async function label(url: string, environment: string | null): Promise<void> {
  if (environment === null)
    await pgQuery(url, "DELETE FROM strata_settings WHERE key = 'environment'");
  else
    await pgQuery(
      url,
      "INSERT INTO strata_settings (key, value) VALUES ('environment', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
      [environment],
    );
}

/** Polls until `check` returns a value (no wall-clock assertions: a bounded number of tries). */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  what: string,
  tries = 400,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}.`);
}

/** Starts `node bin/strata.js ...args` as a child process (to kill it mid-run). */
export function spawnStrata(args: string[], env: Record<string, string>): ChildProcess {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('STRATA_') && k !== 'CONFIG_ENCRYPTION_KEY') base[k] = v;
  }
  return spawn(process.execPath, [join(ROOT, 'bin/strata.js'), ...args], {
    env: { ...base, ...env },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves when a child process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once('exit', (code) => done(code)));
}

/** The StrataError a promise is rejected with (a push refused, say); fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<StrataError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StrataError) return err;
    throw err;
  }
  throw new Error('expected the push to be refused');
}
