/**
 * key_with_chain: one key for one user with its full provenance chain (every level that applies,
 * which one wins, which are shadowed) from the engine, against the single SQL query that returns
 * the same links for the key in one round trip.
 */
import pg from 'pg';
import { chainPg } from './baselines/single-sql.js';
import type { BenchContext } from './lib/context.js';
import { makeResult } from './lib/result.js';
import type { BenchResult } from './lib/result.js';
import { prng, timeAsync, timeSync } from './lib/stats.js';

/** Runs the benchmark. */
export async function keyWithChain(ctx: BenchContext): Promise<BenchResult> {
  const index = ctx.service.index;
  const users = index.directory().users;
  const keys = index.keys();
  const rand = prng(23);
  const pairs: Array<{ userId: string; key: string }> = [];
  for (let i = 0; i < 4096; i++) {
    pairs.push({
      userId: users[Math.floor(rand() * users.length)]!.id,
      key: keys[Math.floor(rand() * keys.length)]!,
    });
  }
  // userContext() is called every time, as the service does for each request; the index keeps
  // one context per user (with the scope maps its levels read from), so the service shares it.
  const strata = timeSync(
    (i) => {
      const p = pairs[i % pairs.length]!;
      return index.resolve(p.key, index.userContext(p.userId));
    },
    { iterations: ctx.iterations(50_000, 1_000), warmup: ctx.iterations(10_000, 200) },
    'µs',
  );

  // One user, random keys: the user's data stays in the CPU caches.
  const hotUser = pairs[0]!.userId;
  const hot = timeSync(
    (i) => index.resolve(pairs[i % pairs.length]!.key, index.userContext(hotUser)),
    { iterations: ctx.iterations(20_000, 500), warmup: ctx.iterations(2_000, 100) },
    'µs',
  );

  const client = new pg.Client({ connectionString: ctx.db.url });
  await client.connect();
  let sql: number[];
  try {
    for (const p of pairs.slice(0, 20)) {
      const mine = index.resolve(p.key, index.userContext(p.userId));
      const theirs = await chainPg(client, p.userId, p.key);
      const setLinks = mine.chain.filter((l) => l.entry !== null).length;
      if (theirs.links.length !== setLinks || (theirs.winner?.[0] ?? null) !== mine.value) {
        throw new Error(`The chain query disagrees with the engine for ${p.userId} / ${p.key}.`);
      }
    }
    sql = await timeAsync(
      (i) => {
        const p = pairs[i % pairs.length]!;
        return chainPg(client, p.userId, p.key);
      },
      { iterations: ctx.iterations(2_000, 50), warmup: ctx.iterations(200, 10) },
      'µs',
    );
  } finally {
    await client.end();
  }
  return makeResult(
    'key_with_chain',
    {
      subject: 'ConfigIndex.resolve(key, userContext(id)) with its chain',
      values: strata,
      unit: 'µs',
    },
    [
      {
        name: 'single SQL query (PostgreSQL)',
        values: sql,
        note: 'UNION ALL of the five levels for one key; prepared',
      },
      {
        name: 'Strata engine, one user with random keys (hot CPU caches)',
        values: hot,
        variant: true,
        note: 'the headline figure samples 4,096 (user, key) pairs at random',
      },
    ],
    ctx.scale === 10 ? { median_max: 3 } : null,
  );
}
