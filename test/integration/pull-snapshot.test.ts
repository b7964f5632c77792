/**
 * What a pull reads: every table as of ONE instant, although the tables (and ranges of a large
 * one) are read over several connections while the draft is being written. A writer that
 * commits changes to two tables while a pull is under way shows up in the draft completely or
 * not at all, and the draft holds exactly the rows, versions and timestamps the database holds.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigEntry } from '../../src-main/core/types.js';
import { pullDraft } from '../../src-main/services/draft-service.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { slotKey } from '../../src-main/store/store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoPg, waitFor } from './draft-helpers.js';
import { tempDir } from './service-fixtures.js';

afterAll(dropTestDatabases);

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function sorted(entries: readonly ConfigEntry[]): ConfigEntry[] {
  return [...entries].sort((a, b) => (slotKey(a) < slotKey(b) ? -1 : 1));
}

async function liveEntries(url: string): Promise<ConfigEntry[]> {
  const live = await PostgresStore.open(url);
  try {
    return sorted((await live.snapshot()).entries);
  } finally {
    await live.close();
  }
}

async function draftEntries(file: string): Promise<ConfigEntry[]> {
  const store = SqliteStore.open(file);
  try {
    return sorted(store.baseEntries());
  } finally {
    await store.close();
  }
}

async function draftTenants(file: string): Promise<string[]> {
  const store = SqliteStore.open(file);
  try {
    return (await store.readDirectory()).tenants.map((t) => t.id);
  } finally {
    await store.close();
  }
}

interface Probe {
  userId: string;
  userKey: string;
  globalKey: string;
}

async function versions(
  read: (level: 'global' | 'user', scope: string, key: string) => number | undefined,
  p: Probe,
): Promise<[number | undefined, number | undefined]> {
  return [read('global', '', p.globalKey), read('user', p.userId, p.userKey)];
}

/**
 * Runs `pull` while a writer holds config_user locked; once the pull is waiting for that
 * table, the writer changes a global row, a user row and the tenant list in one transaction
 * and commits. The pull's snapshot was taken before that commit, so it must see none of it.
 */
async function pullAcrossACommit(url: string, p: Probe, pull: () => Promise<unknown>) {
  const writer = new pg.Client({ connectionString: url });
  await writer.connect();
  try {
    await writer.query('BEGIN');
    await writer.query("SELECT set_config('strata.operator', 'concurrent-writer', true)");
    await writer.query("SELECT set_config('strata.reason', 'snapshot test', true)");
    await writer.query('LOCK TABLE config_user IN ACCESS EXCLUSIVE MODE');
    const running = pull();
    running.catch(() => undefined);
    await waitFor(
      async () =>
        withClient(url, async (c) => {
          const r = await c.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks
             WHERE NOT granted AND relation = 'config_user'::regclass`,
          );
          return r.rows[0]!.n > 0 ? true : null;
        }),
      'the pull to wait for config_user',
    );
    await writer.query("UPDATE config_global SET updated_by = 'concurrent-writer' WHERE key = $1", [
      p.globalKey,
    ]);
    await writer.query(
      "UPDATE config_user SET updated_by = 'concurrent-writer' WHERE user_id = $1 AND key = $2",
      [p.userId, p.userKey],
    );
    await writer.query("INSERT INTO tenants (id, name) VALUES ('tenant_concurrent', 'Concurrent')");
    await writer.query('COMMIT');
    await running;
  } catch (err) {
    await writer.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await writer.end();
  }
}

describe('pull snapshot', () => {
  let url = '';
  let probe: Probe;
  beforeAll(async () => {
    url = await demoPg();
    probe = await withClient(url, async (c) => {
      const u = await c.query<{ user_id: string; key: string }>(
        'SELECT user_id, key FROM config_user ORDER BY user_id, key LIMIT 1',
      );
      const g = await c.query<{ key: string }>(
        'SELECT key FROM config_global ORDER BY key LIMIT 1',
      );
      return { userId: u.rows[0]!.user_id, userKey: u.rows[0]!.key, globalKey: g.rows[0]!.key };
    });
  });

  it('holds exactly the rows, versions and timestamps the database holds', async () => {
    const file = join(tempDir('strata-pull-'), 'exact.sqlite');
    const r = await pullDraft(url, file);
    const live = await liveEntries(url);
    expect(r.entries).toBe(live.length);
    expect(await draftEntries(file)).toEqual(live);
  });

  it('sees a concurrent commit to two tables completely or not at all (new draft and rebase)', async () => {
    const before = await liveEntries(url);
    const version = (list: ConfigEntry[]) => (level: string, scope: string, key: string) =>
      list.find((e) => e.level === level && e.scope === scope && e.key === key)?.version;
    const [g0, u0] = await versions(version(before), probe);
    expect(g0).toBeGreaterThan(0);
    expect(u0).toBeGreaterThan(0);

    // A new draft: the commit landed while the pull was reading; the draft shows the instant before.
    const file = join(tempDir('strata-pull-'), 'concurrent.sqlite');
    await pullAcrossACommit(url, probe, () => pullDraft(url, file));
    const pulled = await draftEntries(file);
    expect(await versions(version(pulled), probe)).toEqual([g0, u0]);
    expect(await draftTenants(file)).not.toContain('tenant_concurrent');
    expect(pulled).toEqual(before);

    // Both changes are there now (and the versions moved together).
    const after = await liveEntries(url);
    expect(await versions(version(after), probe)).toEqual([g0! + 1, u0! + 1]);

    // A rebase of that draft across another such commit: again the instant before it.
    await withClient(url, (c) => c.query("DELETE FROM tenants WHERE id = 'tenant_concurrent'"));
    await pullAcrossACommit(url, probe, () => pullDraft(url, file));
    const rebased = await draftEntries(file);
    expect(await versions(version(rebased), probe)).toEqual([g0! + 1, u0! + 1]);
    expect(await draftTenants(file)).not.toContain('tenant_concurrent');

    const last = join(tempDir('strata-pull-'), 'after.sqlite');
    await pullDraft(url, last);
    expect(await versions(version(await draftEntries(last)), probe)).toEqual([g0! + 2, u0! + 2]);
    expect(await draftTenants(last)).toContain('tenant_concurrent');
  });

  it('reads a large table in ranges over several connections without losing a row', async () => {
    // Enough user rows for config_user to span several ranges of pages.
    await withClient(url, async (c) => {
      await c.query('BEGIN');
      await c.query("SELECT set_config('strata.operator', 'bulk-loader', true)");
      await c.query(
        `INSERT INTO config_user (user_id, key, value, value_type)
         SELECT 'bulk_' || lpad(g::text, 6, '0'), k.key, k.value, k.value_type
         FROM (SELECT key, value, value_type FROM config_user
               WHERE NOT encrypted ORDER BY user_id, key LIMIT 1) k, generate_series(1, 40000) g`,
      );
      await c.query('COMMIT');
      await c.query('ANALYZE config_user');
      const pages = await c.query<{ n: number }>(
        "SELECT (pg_relation_size('config_user') / current_setting('block_size')::int)::int AS n",
      );
      expect(pages.rows[0]!.n).toBeGreaterThan(512);
    });
    const file = join(tempDir('strata-pull-'), 'large.sqlite');
    const phases: string[] = [];
    const r = await pullDraft(url, file, {
      onProgress: (p) => {
        if (phases[phases.length - 1] !== p.phase) phases.push(p.phase);
      },
    });
    const live = await liveEntries(url);
    expect(r.entries).toBe(live.length);
    expect(await draftEntries(file)).toEqual(live);
    // Reading and writing took turns: chunks were written while later ones were still read.
    expect(phases.filter((p) => p === 'write').length).toBeGreaterThan(2);
  });
});
