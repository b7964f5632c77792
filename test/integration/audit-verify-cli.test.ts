/**
 * `strata audit verify` against a real PostgreSQL: intact after real writes, and an audit row
 * edited behind the triggers' back (as a superuser with triggers disabled) is reported by seq.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoTargets, json, pgQuery, strata } from './service-fixtures.js';

afterAll(dropTestDatabases);

describe('strata audit verify', () => {
  it('reports an intact chain, then the first edited row', async () => {
    const { postgres } = await demoTargets();
    const ok = await strata(['audit', 'verify', '--json', '--db', postgres]);
    expect(ok.code).toBe(0);
    const intact = json<{ ok: boolean; rows: number }>(ok);
    expect(intact.ok).toBe(true);
    expect(intact.rows).toBeGreaterThan(10);

    const [row] = await pgQuery<{ seq: string }>(
      postgres,
      'SELECT seq::text FROM config_audit ORDER BY seq OFFSET 5 LIMIT 1',
    );
    await pgQuery(
      postgres,
      `BEGIN; SET LOCAL session_replication_role = replica;
       UPDATE config_audit SET new_value = 'tampered' WHERE seq = ${Number(row!.seq)}; COMMIT;`,
    );
    const broken = await strata(['audit', 'verify', '--json', '--db', postgres]);
    expect(broken.code).toBe(3);
    expect(JSON.parse(broken.stdout) as unknown).toMatchObject({
      ok: false,
      first_broken_seq: Number(row!.seq),
    });
    const text = await strata(['audit', 'verify', '--db', postgres]);
    expect(text.stdout).toContain(`broken at row ${row!.seq}`);
  });

  it('refuses a draft with a clear sentence', async () => {
    const { draft } = await demoTargets();
    const run = await strata(['audit', 'verify', '--db', draft]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'strata audit verify needs a PostgreSQL database; a draft holds no audit chain.',
    );
  });
});
