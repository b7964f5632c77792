/**
 * pull: the whole database into a new draft file with the draft service's pull (`strata pull`:
 * snapshot, templates, policy rules and settings read from PostgreSQL, written into a temporary
 * draft that is renamed into place when complete). The baseline is a plain table copy: SELECT *
 * of each table with node-postgres defaults and one prepared INSERT per row into the same draft
 * schema, in one SQLite transaction. A new draft is written while it is read, so read_ms is the
 * time spent waiting for rows and write_ms the time spent writing them (they add up to the
 * pull's time after connect_ms, without overlapping). A variant pulls again into the pulled
 * draft with nothing written since, which the audit trail lets skip the values and directory.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pullDraft } from '../src-main/services/draft-service.js';
import { SqliteStore } from '../src-main/store/sqlite-store.js';
import type { BenchContext } from './lib/context.js';
import { PhaseClock } from './lib/phases.js';
import { makeResult } from './lib/result.js';
import type { BenchResult } from './lib/result.js';
import { summarize, timeAsync } from './lib/stats.js';

const COPIED = [
  'tenants',
  'departments',
  'groups',
  'users',
  'group_members',
  'configuration_metadata',
  'config_global',
  'config_tenant',
  'config_department',
  'config_group',
  'config_user',
  'config_templates',
];

function removeDraft(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

function sqliteValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** The baseline: a plain table-by-table, row-by-row copy into the same schema. */
async function plainCopy(url: string, file: string): Promise<void> {
  removeDraft(file);
  const draft = SqliteStore.open(file, { create: true });
  await draft.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const copy = db.transaction((table: string, rows: Array<Record<string, unknown>>) => {
      const columns = new Set(
        (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map(
          (c) => c.name,
        ),
      );
      const names = Object.keys(rows[0] ?? {}).filter((n) => columns.has(n));
      const insert = db.prepare(
        `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
      );
      for (const r of rows) insert.run(...names.map((n) => sqliteValue(r[n])));
    });
    for (const table of COPIED) {
      const r = await client.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
      if (r.rows.length > 0) copy(table, r.rows);
    }
  } finally {
    db.close();
    await client.end();
  }
}

/** Runs the benchmark; leaves the last pulled draft in ctx.draftFile for later benchmarks. */
export async function pull(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.iterations(ctx.scale >= 10 ? 3 : 5, 1);
  const file = join(ctx.tmp, 'pulled.sqlite');
  const copyFile = join(ctx.tmp, 'plain-copy.sqlite');
  const phases = new Map<string, number[]>();
  const strata = await timeAsync(
    async () => {
      removeDraft(file);
      const clock = new PhaseClock();
      await pullDraft(ctx.db.url, file, { onProgress: clock.listener });
      clock.stop();
      for (const [phase, ms] of clock.durations()) {
        const list = phases.get(phase) ?? [];
        list.push(ms);
        phases.set(phase, list);
      }
    },
    { iterations: runs },
    'ms',
  );
  const baseline = await timeAsync(
    () => plainCopy(ctx.db.url, copyFile),
    { iterations: runs },
    'ms',
  );
  removeDraft(copyFile);
  // Pulling again into that draft with nothing written since: the audit trail check.
  const again = await timeAsync(
    async () => {
      const r = await pullDraft(ctx.db.url, file);
      if (r.mode !== 'current') throw new Error(`Pulling again gave mode ${r.mode}, not current.`);
    },
    { iterations: runs },
    'ms',
  );

  // The pulled file must hold what the database holds.
  const check = SqliteStore.open(file);
  let entries: number;
  try {
    entries = (await check.snapshot()).entries.length;
  } finally {
    await check.close();
  }
  if (entries !== ctx.service.index.entryCount()) {
    throw new Error(
      `The pulled draft holds ${entries} entries, the database ${ctx.service.index.entryCount()}.`,
    );
  }
  ctx.draftFile = file;
  const extra: Record<string, number | string> = { entries };
  for (const [phase, list] of phases) extra[`${phase}_ms`] = Math.round(summarize(list).median);
  return makeResult(
    'pull',
    {
      subject: 'pullDraft() of the whole database into a new draft file',
      values: strata,
      unit: 'ms',
    },
    [
      {
        name: 'plain table copy (SELECT *, one INSERT per row)',
        values: baseline,
        note: 'same tables, same draft schema, one SQLite transaction',
      },
      {
        name: 'pull again into that draft, nothing written since',
        values: again,
        variant: true,
        note: 'the audit trail shows the base is current: only metadata, templates and policy rules are read',
      },
    ],
    ctx.scale === 10 ? { median_max: 3000 } : null,
    extra,
  );
}
