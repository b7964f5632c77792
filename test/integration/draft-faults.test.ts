/**
 * Push and pull under faults, against a real PostgreSQL server and real files: the connection
 * killed mid-push (pg_terminate_backend), the pushing process killed (SIGKILL), two drafts
 * pushed at once against the same keys, damaged / foreign / newer / locked draft files, and
 * pulls from unmigrated or unreachable databases. The guarantees: nothing half-applied, no
 * audit rows for a push that did not land, the draft intact, and a retry that applies exactly
 * once.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StrataError } from '../../src-main/core/types.js';
import { DraftWorkspace, pushDraft } from '../../src-main/services/draft-service.js';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import {
  auditCount,
  cliEnv,
  demoPg,
  draftState,
  exited,
  fileHash,
  liveFingerprint,
  liveRow,
  pulled,
  pushes,
  set,
  spawnStrata,
  waitFor,
  write,
} from './draft-helpers.js';
import { json, strata, tempDir } from './service-fixtures.js';

afterAll(dropTestDatabases);

async function lockRow(url: string, sql: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  await c.query('BEGIN');
  const r = await c.query(sql);
  expect(r.rowCount).toBe(1);
  return c;
}

/** The backend of this database that waits on a lock (the push blocked behind our row lock). */
async function blockedBackend(holder: pg.Client): Promise<number> {
  return waitFor(async () => {
    // Inside a transaction the statistics views keep their first snapshot unless cleared.
    await holder.query('SELECT pg_stat_clear_snapshot()');
    const r = await holder.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
    );
    return r.rows[0]?.pid ?? null;
  }, 'the push to wait on the row lock');
}

const STAGED = [
  set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
  set('group', 'doctors', 'notification_urgency', 'low'),
  set('user', 'dr_house', 'notification_urgency', 'high'),
];
const LOCKED_ROW =
  "SELECT 1 FROM config_group WHERE group_id = 'doctors' AND key = 'notification_urgency' FOR UPDATE";

describe('a push interrupted', () => {
  it('survives its connection being terminated mid-push, and the retry applies exactly once', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, STAGED);
    const fp = await liveFingerprint(url);
    const audit = await auditCount(url);
    const state = await draftState(file);
    const holder = await lockRow(url, LOCKED_ROW);
    const push = pushDraft(file, { operator: 'superadmin', reason: 'r' }).then(
      () => null,
      (err: unknown) => err,
    );
    try {
      // The tenant row is already updated inside the push's transaction; the group row waits.
      const pid = await blockedBackend(holder);
      await holder.query('SELECT pg_terminate_backend($1)', [pid]);
      const err = await push;
      expect(err).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe('internal');
      expect((err as StrataError).message).toMatch(
        /^The connection to .* was lost during push .* before it committed, so nothing was applied; run the push again\.$/,
      );
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await liveFingerprint(url)).toBe(fp);
    expect(await auditCount(url)).toBe(audit);
    expect(await pushes(url)).toEqual([]);
    expect(await draftState(file)).toBe(state);

    const out = await pushDraft(file, { operator: 'superadmin', reason: 'r' });
    expect(out.status).toBe('applied');
    expect(await pushes(url)).toHaveLength(1);
    expect(await auditCount(url)).toBe(audit + 3);
    expect(await auditCount(url, out.pushId!)).toBe(3);
    expect(await liveRow(url, 'group', 'doctors', 'notification_urgency')).toMatchObject({
      value: 'low',
      version: 2,
    });
  });

  it('survives the pushing process being killed (SIGKILL), and the retry applies exactly once', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, STAGED);
    const fp = await liveFingerprint(url);
    const audit = await auditCount(url);
    const state = await draftState(file);
    const holder = await lockRow(url, LOCKED_ROW);
    let pendingId: string;
    try {
      const child = spawnStrata(['push', file, '--as', 'superadmin', '--reason', 'r'], cliEnv());
      await blockedBackend(holder);
      child.kill('SIGKILL');
      await exited(child);
      const ws = DraftWorkspace.open(file);
      try {
        const pending = ws.pendingPushes();
        expect(pending).toHaveLength(1);
        pendingId = pending[0]!.id;
      } finally {
        await ws.close();
      }
    } finally {
      await holder.query('ROLLBACK');
    }
    // The orphaned backend rolls back once it finds its client gone.
    await waitFor(async () => {
      await holder.query('SELECT pg_stat_clear_snapshot()');
      const r = await holder.query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata'",
      );
      return r.rowCount === 0;
    }, 'the killed push to be rolled back');
    await holder.end();
    expect(await liveFingerprint(url)).toBe(fp);
    expect(await auditCount(url)).toBe(audit);
    expect(await pushes(url)).toEqual([]);
    expect(await draftState(file)).toBe(state);

    const retry = await strata(
      ['push', file, '--as', 'superadmin', '--reason', 'r', '--json'],
      cliEnv(),
    );
    expect(json(retry)).toMatchObject({ status: 'applied', push_id: pendingId, applied: 3 });
    expect(await pushes(url)).toEqual([expect.objectContaining({ id: pendingId })]);
    expect(await auditCount(url)).toBe(audit + 3);
    expect(await auditCount(url, pendingId)).toBe(3);
  });
});

describe('concurrent pushes', () => {
  it('lets exactly one of two drafts pushed at once against the same keys win', async () => {
    const url = await demoPg();
    const a = await pulled(url, 'a.sqlite');
    const b = await pulled(url, 'b.sqlite');
    await write(a, [
      set('tenant', 'general_hospital', 'ui.theme', 'dark'),
      set('group', 'gh_nurses', 'notification_urgency', 'low'),
    ]);
    await write(b, [
      set('tenant', 'general_hospital', 'ui.theme', 'business'),
      set('group', 'gh_nurses', 'notification_urgency', 'high'),
    ]);
    // Both plans are made before either push writes: a real race for the same rows.
    let arrived = 0;
    let release!: () => void;
    const bothPlanned = new Promise<void>((r) => (release = r));
    const barrier = async (): Promise<void> => {
      if (++arrived === 2) release();
      await bothPlanned;
    };
    const results = await Promise.allSettled([
      pushDraft(a, { operator: 'superadmin', reason: 'a', guardrails: barrier }),
      pushDraft(b, { operator: 'superadmin', reason: 'b', guardrails: barrier }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(StrataError);
    expect((lost[0]!.reason as StrataError).code).toBe('conflict');
    const winner = won[0]!.status === 'fulfilled' ? won[0]!.value : null;
    const theme = winner!.draft.endsWith('a.sqlite') ? 'dark' : 'business';
    expect(await liveRow(url, 'tenant', 'general_hospital', 'ui.theme')).toMatchObject({
      value: theme,
      version: 2,
    });
    expect(await pushes(url)).toHaveLength(1);
    expect(await auditCount(url, winner!.pushId!)).toBe(2);
    const loser = winner!.draft.endsWith('a.sqlite') ? b : a;
    const run = await strata(['plan', loser, '--json'], cliEnv());
    expect(json<{ conflicts: number }>(run).conflicts).toBe(2);
  });
});

describe('bad draft files', () => {
  it('refuses foreign, newer, truncated and locked files with one clear sentence, leaving them untouched', async () => {
    const url = await demoPg();
    const good = await pulled(url);
    const dir = tempDir();
    const text = join(dir, 'notes.sqlite');
    writeFileSync(text, 'these are my notes, not a database\n');
    const foreign = join(dir, 'other.sqlite');
    const other = new Database(foreign);
    other.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
    other.close();
    const newer = join(dir, 'newer.sqlite');
    copyFileSync(good, newer);
    const db = new Database(newer);
    db.prepare(
      "INSERT INTO strata_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')",
    ).run();
    db.pragma('journal_mode = DELETE');
    db.close();
    const truncated = join(dir, 'truncated.sqlite');
    copyFileSync(good, truncated);
    truncateSync(truncated, 8192);

    const cases: Array<[string, RegExp]> = [
      [text, /is not a Strata draft workspace \(it is not a SQLite database\)\.$/],
      [foreign, /is a SQLite database but not a Strata draft workspace\.$/],
      [
        newer,
        /was written by a newer Strata \(schema 9999, this one knows \d+\); open it with a newer version\.$/,
      ],
      [truncated, /is damaged \(truncated or corrupt\) and was not opened\.$/],
    ];
    for (const [file, message] of cases) {
      const before = fileHash(file);
      const runs = await Promise.all([
        strata(['plan', file, '--to', url], cliEnv()),
        strata(['push', file, '--to', url, '--as', 'superadmin'], cliEnv()),
        strata(['pull', url, file], cliEnv()),
      ]);
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(run.stderr.trimEnd()).toMatch(message);
      }
      expect(fileHash(file)).toBe(before);
      expect(existsSync(`${file}-wal`)).toBe(false);
    }

    // Locked: another process holds an exclusive lock on a good draft.
    const locked = join(dir, 'locked.sqlite');
    copyFileSync(good, locked);
    const before = fileHash(locked);
    const locker = spawn(
      process.execPath,
      [
        '-e',
        `const D=require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});const d=new D(${JSON.stringify(locked)});d.pragma('locking_mode = EXCLUSIVE');d.exec('BEGIN EXCLUSIVE');console.log('locked');setInterval(()=>{},1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((done) => locker.stdout!.once('data', () => done()));
      const runs = await Promise.all([
        strata(['plan', locked], cliEnv()),
        strata(['push', locked, '--as', 'superadmin'], cliEnv()),
        strata(['pull', url, locked], cliEnv()),
      ]);
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(3);
        expect(run.stderr).toMatch(
          /^Draft .*locked\.sqlite is locked by another program; close it and try again\.\n$/,
        );
      }
      expect(fileHash(locked)).toBe(before);
    } finally {
      locker.kill('SIGKILL');
      await exited(locker);
    }
  });
});

describe('pulls that cannot complete', () => {
  it('refuses an unmigrated or unreachable database and leaves no draft behind', async () => {
    const bare = await createTestDatabase();
    const dir = tempDir();
    const file = join(dir, 'new.sqlite');
    const unmigrated = await strata(['pull', bare, file], cliEnv());
    expect(unmigrated.code).toBe(2);
    expect(unmigrated.stderr).toMatch(
      /is not migrated \(pending: 0001_core\.sql.*\); run `strata db migrate` first\.\n$/,
    );
    const unreachable = await strata(
      ['pull', 'postgres://strata:secret-pw@127.0.0.1:1/strata', file],
      cliEnv(),
    );
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(
      /^Cannot connect to postgres:\/\/strata@127\.0\.0\.1:1\/strata: /,
    );
    expect(unreachable.stderr).not.toContain('secret-pw');
    const notUrl = await strata(['pull', 'mysql://x/y', file], cliEnv());
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/^The source must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
