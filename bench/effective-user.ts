/**
 * effective_user: the effective configuration of one user (every key, each with its provenance:
 * level, scope and the winning entry) from Strata's in-memory engine, against the best single
 * SQL query (PostgreSQL, and SQLite on the pulled draft), the seed-style resolver (one point
 * query per level per key; a few sampled users), nconf and the `config` package merging the six
 * layers, and a bare merge of in-memory maps. Every baseline is checked against the engine's
 * values for a few users before it is timed.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { seedEffective } from './baselines/seed-resolver.js';
import { effectivePg, effectiveSqlite } from './baselines/single-sql.js';
import type { EffectiveRow } from './baselines/single-sql.js';
import {
  Layers,
  bareMapMerge,
  configPackageEffective,
  nconfEffective,
} from './baselines/layered-merge.js';
import type { BenchContext } from './lib/context.js';
import { makeResult } from './lib/result.js';
import type { BaselineSample, BenchResult } from './lib/result.js';
import { sample, timeAsync, timeSync } from './lib/stats.js';

function sameValues(
  what: string,
  userId: string,
  expected: ReadonlyMap<string, string | null>,
  got: ReadonlyMap<string, string | null>,
): void {
  const bad =
    expected.size !== got.size || [...expected].some(([k, v]) => !got.has(k) || got.get(k) !== v);
  if (bad) {
    throw new Error(
      `${what} disagrees with the engine for ${userId} (${got.size} keys vs ${expected.size}).`,
    );
  }
}

/** Runs the benchmark. */
export async function effectiveUser(ctx: BenchContext): Promise<BenchResult> {
  const index = ctx.service.index;
  const users = index.directory().users;
  const picks = sample(users, 4096, 11);
  const engineOf = (userId: string): Map<string, string | null> =>
    new Map(index.effective(index.userContext(userId)).map((r) => [r.key, r.value]));

  const strata = timeSync(
    (i) => index.effective(index.userContext(picks[i % picks.length]!.id)),
    { iterations: ctx.iterations(20_000, 500), warmup: ctx.iterations(5_000, 200) },
    'µs',
  );
  // The same user again and again: everything it touches stays in the CPU caches.
  const hotUser = picks[0]!.id;
  const hot = timeSync(
    () => index.effective(index.userContext(hotUser)),
    { iterations: ctx.iterations(5_000, 200), warmup: ctx.iterations(1_000, 50) },
    'µs',
  );
  const service = await timeAsync(
    (i) => ctx.service.effective({ userId: picks[i % picks.length]!.id }),
    { iterations: ctx.iterations(5_000, 200), warmup: ctx.iterations(1_000, 50) },
    'µs',
  );

  const baselines: BaselineSample[] = [];
  const client = new pg.Client({ connectionString: ctx.db.url });
  await client.connect();
  try {
    const rowsToMap = (rows: EffectiveRow[]): Map<string, string | null> =>
      new Map(rows.map((r) => [r[0], r[1]]));
    for (const u of picks.slice(0, 3)) {
      sameValues(
        'single SQL query',
        u.id,
        engineOf(u.id),
        rowsToMap(await effectivePg(client, u.id)),
      );
    }
    baselines.push({
      name: 'single SQL query (PostgreSQL)',
      values: await timeAsync(
        (i) => effectivePg(client, picks[i % picks.length]!.id),
        { iterations: ctx.iterations(400, 20), warmup: ctx.iterations(40, 5) },
        'µs',
      ),
      note: 'UNION ALL of five levels + defaults, DISTINCT ON key, locks honoured; prepared',
    });

    const seedUsers = picks.slice(0, ctx.quick ? 2 : ctx.scale >= 10 ? 5 : 8);
    const first = seedUsers[0]!;
    sameValues(
      'seed-style resolver',
      first.id,
      engineOf(first.id),
      await seedEffective(client, index.userContext(first.id)),
    );
    baselines.push({
      name: 'seed-style resolver',
      values: await timeAsync(
        (i) => seedEffective(client, index.userContext(seedUsers[i % seedUsers.length]!.id)),
        { iterations: seedUsers.length, warmup: 1 },
        'µs',
      ),
      note: `one point query per level per key; ${seedUsers.length} sampled users`,
    });
  } finally {
    await client.end();
  }

  if (ctx.draftFile !== null) {
    const db = new Database(ctx.draftFile, { readonly: true });
    try {
      const run = effectiveSqlite(db);
      for (const u of picks.slice(0, 3)) {
        sameValues(
          'single SQL query (SQLite)',
          u.id,
          engineOf(u.id),
          new Map(run(u.id).map((r) => [r[0], r[1]])),
        );
      }
      baselines.push({
        name: 'single SQL query (SQLite draft)',
        values: timeSync(
          (i) => run(picks[i % picks.length]!.id),
          { iterations: ctx.iterations(400, 20), warmup: ctx.iterations(40, 5) },
          'µs',
        ),
        note: 'same query with ROW_NUMBER() on the pulled draft file',
      });
    } finally {
      db.close();
    }
  }

  const layers = new Layers(ctx.dataset);
  const check = picks[0]!;
  const asMap = (o: Record<string, string>): Map<string, string | null> =>
    new Map(Object.entries(o));
  sameValues(
    'nconf',
    check.id,
    engineOf(check.id),
    asMap(nconfEffective(layers.objectsFor(check))),
  );
  sameValues(
    'config package',
    check.id,
    engineOf(check.id),
    asMap(configPackageEffective(layers.objectsFor(check))),
  );
  sameValues('bare merge', check.id, engineOf(check.id), bareMapMerge(layers.mapsFor(check)));
  baselines.push({
    name: 'nconf (six literal stores)',
    values: timeSync(
      (i) => nconfEffective(layers.objectsFor(picks[i % picks.length]!)),
      { iterations: ctx.iterations(2_000, 50), warmup: ctx.iterations(200, 10) },
      'µs',
    ),
    note: 'no provenance, no locks',
  });
  baselines.push({
    name: 'config package (extendDeep of six layers)',
    values: timeSync(
      (i) => configPackageEffective(layers.objectsFor(picks[i % picks.length]!)),
      { iterations: ctx.iterations(2_000, 50), warmup: ctx.iterations(200, 10) },
      'µs',
    ),
    note: 'no provenance, no locks',
  });
  baselines.push({
    name: 'bare merge of in-memory maps',
    values: timeSync(
      (i) => bareMapMerge(layers.mapsFor(picks[i % picks.length]!)),
      { iterations: ctx.iterations(5_000, 100), warmup: ctx.iterations(500, 10) },
      'µs',
    ),
    note: 'no provenance, no locks',
  });
  baselines.push({
    name: 'Strata engine, one user repeated (hot CPU caches)',
    values: hot,
    variant: true,
    note: 'the headline figure samples 4,096 users at random, so most lookups miss the caches',
  });
  baselines.push({
    name: 'Strata ConfigService.effective() (context checks, masking)',
    values: service,
    variant: true,
    note: 'the service call every front door makes',
  });

  const keys = index.effective(index.userContext(check.id)).length;
  return makeResult(
    'effective_user',
    {
      subject: 'ConfigIndex.effective(userContext(id)), all keys with provenance',
      values: strata,
      unit: 'µs',
    },
    baselines,
    ctx.scale === 10
      ? { median_max: 30, ratio_min: 30, ratio_min_vs: { 'seed-style resolver': 10_000 } }
      : null,
    { keys_per_user: keys, users: users.length },
  );
}
