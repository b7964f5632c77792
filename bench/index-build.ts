/**
 * index_build: a cold start from PostgreSQL: open a store (fresh connections), read the bulk
 * snapshot (every entry, the directory, the metadata) and build the in-memory index, as the
 * config service does when it opens a database. Heap is the index's retained size after a full
 * collection. The baseline reads the same rows with node-postgres's defaults (row objects,
 * default type parsing) and builds nothing. The incremental path is shown too: one upsert
 * (what the service applies after a write, instead of reloading) followed by a resolve.
 */
import pg from 'pg';
import { ConfigIndex } from '../src-main/core/config-index.js';
import type { ConfigEntry } from '../src-main/core/types.js';
import { PostgresStore } from '../src-main/store/postgres-store.js';
import { SqliteStore } from '../src-main/store/sqlite-store.js';
import type { BenchContext } from './lib/context.js';
import { collectGarbage, settledHeapMiB } from './lib/heap.js';
import { makeResult } from './lib/result.js';
import type { BaselineSample, BenchResult } from './lib/result.js';
import { timeAsync, timeSync } from './lib/stats.js';

const PLAIN_QUERIES = [
  'SELECT * FROM config_global',
  'SELECT * FROM config_tenant',
  'SELECT * FROM config_department',
  'SELECT * FROM config_group',
  'SELECT * FROM config_user',
  'SELECT * FROM tenants',
  'SELECT * FROM departments',
  'SELECT * FROM groups',
  'SELECT * FROM users',
  'SELECT * FROM group_members',
  'SELECT * FROM configuration_metadata',
];

async function coldLoad(url: string): Promise<ConfigIndex> {
  const store = await PostgresStore.open(url);
  try {
    const snap = await store.snapshot();
    return ConfigIndex.build({
      entries: snap.entries,
      directory: snap.directory,
      metadata: snap.metadata,
    });
  } finally {
    await store.close();
  }
}

/** Runs the benchmark. */
export async function indexBuild(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.iterations(ctx.scale >= 10 ? 5 : 10, 2);
  const baselineRuns = Math.min(runs, 3);
  // Heap first, in a settled process: the retained size of one index (held while measured).
  const retained = async (): Promise<{ heap: number; entries: number }> => {
    const before = settledHeapMiB();
    const held = await coldLoad(ctx.db.url);
    return { heap: settledHeapMiB() - before, entries: held.entryCount() };
  };
  const { heap, entries } = await retained();
  collectGarbage();

  const strata = await timeAsync(() => coldLoad(ctx.db.url), { iterations: runs, warmup: 1 }, 'ms');

  const baselines: BaselineSample[] = [];
  baselines.push({
    name: 'plain node-postgres read of the same tables (no index)',
    values: await timeAsync(
      async () => {
        const pool = new pg.Pool({ connectionString: ctx.db.url, max: 4 });
        try {
          await Promise.all(PLAIN_QUERIES.map((q) => pool.query(q)));
        } finally {
          await pool.end();
        }
      },
      { iterations: baselineRuns, warmup: 1 },
      'ms',
    ),
    note: 'default row objects and type parsing, 4 connections',
  });
  if (ctx.draftFile !== null) {
    const file = ctx.draftFile;
    baselines.push({
      name: 'Strata cold load from the pulled SQLite draft',
      values: await timeAsync(
        async () => {
          const store = SqliteStore.open(file);
          try {
            const snap = await store.snapshot();
            ConfigIndex.build(snap);
          } finally {
            await store.close();
          }
        },
        { iterations: baselineRuns, warmup: 1 },
        'ms',
      ),
      variant: true,
      note: 'the same load from a draft workspace',
    });
  }

  // Incremental update: the service upserts the stored row after a write instead of reloading.
  const index = ctx.service.index;
  const u = index.directory().users[0]!;
  const key = index.keys()[0]!;
  const incremental = timeSync(
    (i) => {
      const e: ConfigEntry = {
        level: 'user',
        scope: u.id,
        key,
        value: `inc${i}`,
        valueType: index.metadata(key)?.valueType ?? 'string',
        encrypted: false,
        locked: false,
        version: i + 1,
        updatedAt: '2025-01-01T00:00:00.000Z',
        updatedBy: 'strata-bench',
      };
      index.upsert(e);
      return index.resolve(key, index.userContext(u.id));
    },
    { iterations: ctx.iterations(2_000, 50), warmup: 50 },
    'ms',
  );
  // Leave the index as the database has it.
  const stored = (await ctx.service.store.readEntries([{ level: 'user', scope: u.id, key }]))[0];
  if (stored) index.upsert(stored);
  else index.remove({ level: 'user', scope: u.id, key });
  baselines.push({
    name: 'incremental update after a write (upsert + resolve)',
    values: incremental,
    variant: true,
    note: 'what a write costs the index instead of a reload',
  });

  return makeResult(
    'index_build',
    {
      subject: 'open PostgresStore + snapshot() + ConfigIndex.build()',
      values: strata,
      unit: 'ms',
    },
    baselines,
    ctx.scale === 10 ? { median_max: 1500, heap_mib_max: 200 } : null,
    { heap_mib: Math.round(heap * 10) / 10, entries },
  );
}
