import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';

afterAll(dropTestDatabases);

describe('test PostgreSQL', () => {
  it('is a real server with gen_random_uuid and transition-table triggers', async () => {
    const url = await createTestDatabase();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ v: number; u: string }>(
        "SELECT current_setting('server_version_num')::int AS v, gen_random_uuid()::text AS u",
      );
      expect(r.rows[0]!.v).toBeGreaterThanOrEqual(130000);
      expect(r.rows[0]!.u).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await c.end();
    }
  });
});
