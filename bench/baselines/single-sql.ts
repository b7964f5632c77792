/**
 * The best single SQL query baselines: one round trip per user for the whole effective
 * configuration (UNION ALL of the five levels and the metadata defaults, one winner per key by
 * DISTINCT ON (PostgreSQL) or ROW_NUMBER (SQLite)), and one round trip per key for one key with
 * its whole chain. Both honour locks exactly as the engine does: walking general -> specific,
 * the first locked link wins; otherwise the most specific link wins, and among groups the first
 * in the user's priority order. The context comes from the directory tables inside the query, so
 * the only input is the user id.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

/** One effective row: key, value, level rank (0 default .. 5 user), scope. */
export type EffectiveRow = [string, string | null, number, string];

// spec = level rank * 1000 - group position: larger is more specific. The winner is the first
// locked link by ascending spec, else the unlocked link with the largest spec.
const LINKS_PG = `
  WITH u AS (SELECT tenant_id, department FROM users WHERE id = $1),
  g AS (SELECT group_id, position FROM group_members WHERE user_id = $1),
  links AS (
    SELECT c.key::text AS key, c.value, c.locked, 5000 AS spec, c.user_id::text AS scope
      FROM config_user c WHERE c.user_id = $1
    UNION ALL
    SELECT c.key::text, c.value, c.locked, 4000 - g.position, c.group_id::text
      FROM config_group c JOIN g ON c.group_id = g.group_id
    UNION ALL
    SELECT c.key::text, c.value, c.locked, 3000, (c.tenant_id || '/' || c.department)::text
      FROM config_department c JOIN u ON c.tenant_id = u.tenant_id AND c.department = u.department
    UNION ALL
    SELECT c.key::text, c.value, c.locked, 2000, c.tenant_id::text
      FROM config_tenant c JOIN u ON c.tenant_id = u.tenant_id
    UNION ALL
    SELECT c.key::text, c.value, c.locked, 1000, '' FROM config_global c
    UNION ALL
    SELECT m.key::text, m.default_value, false, 0, '' FROM configuration_metadata m
      WHERE m.default_value IS NOT NULL
  )`;

/** PostgreSQL: the effective configuration of one user in one statement. */
export const EFFECTIVE_PG = `${LINKS_PG}
  SELECT DISTINCT ON (key) key, value, (spec + 999) / 1000, scope FROM links
  ORDER BY key, locked DESC, CASE WHEN locked THEN spec ELSE -spec END`;

/** PostgreSQL: one key's chain for one user (every link, general first; winner computed by the caller). */
export const CHAIN_PG = `
  WITH u AS (SELECT tenant_id, department FROM users WHERE id = $1),
  g AS (SELECT group_id, position FROM group_members WHERE user_id = $1)
  SELECT value, locked, spec, scope FROM (
    SELECT c.value, c.locked, 5000 AS spec, c.user_id::text AS scope
      FROM config_user c WHERE c.user_id = $1 AND c.key = $2
    UNION ALL
    SELECT c.value, c.locked, 4000 - g.position, c.group_id::text
      FROM config_group c JOIN g ON c.group_id = g.group_id WHERE c.key = $2
    UNION ALL
    SELECT c.value, c.locked, 3000, (c.tenant_id || '/' || c.department)::text
      FROM config_department c JOIN u ON c.tenant_id = u.tenant_id AND c.department = u.department
      WHERE c.key = $2
    UNION ALL
    SELECT c.value, c.locked, 2000, c.tenant_id::text
      FROM config_tenant c JOIN u ON c.tenant_id = u.tenant_id WHERE c.key = $2
    UNION ALL
    SELECT c.value, c.locked, 1000, '' FROM config_global c WHERE c.key = $2
  ) links ORDER BY spec`;

/** SQLite: the same effective query (no DISTINCT ON: a window picks each key's winner). */
export const EFFECTIVE_SQLITE = `
  WITH u AS (SELECT tenant_id, department FROM users WHERE id = @user),
  g AS (SELECT group_id, position FROM group_members WHERE user_id = @user),
  links AS (
    SELECT c.key AS key, c.value AS value, c.locked AS locked, 5000 AS spec, c.user_id AS scope
      FROM config_user c WHERE c.user_id = @user
    UNION ALL
    SELECT c.key, c.value, c.locked, 4000 - g.position, c.group_id
      FROM config_group c JOIN g ON c.group_id = g.group_id
    UNION ALL
    SELECT c.key, c.value, c.locked, 3000, c.tenant_id || '/' || c.department
      FROM config_department c JOIN u ON c.tenant_id = u.tenant_id AND c.department = u.department
    UNION ALL
    SELECT c.key, c.value, c.locked, 2000, c.tenant_id
      FROM config_tenant c JOIN u ON c.tenant_id = u.tenant_id
    UNION ALL
    SELECT c.key, c.value, c.locked, 1000, '' FROM config_global c
    UNION ALL
    SELECT m.key, m.default_value, 0, 0, '' FROM configuration_metadata m
      WHERE m.default_value IS NOT NULL
  ),
  ranked AS (
    SELECT key, value, spec, scope, ROW_NUMBER() OVER (
      PARTITION BY key ORDER BY locked DESC, CASE WHEN locked THEN spec ELSE -spec END) AS rn
    FROM links
  )
  SELECT key, value, (spec + 999) / 1000, scope FROM ranked WHERE rn = 1 ORDER BY key`;

/** Runs the PostgreSQL effective query (a named, prepared statement) for one user. */
export async function effectivePg(client: pg.ClientBase, userId: string): Promise<EffectiveRow[]> {
  const r = await client.query({
    name: 'bench_effective',
    text: EFFECTIVE_PG,
    values: [userId],
    rowMode: 'array',
  });
  return r.rows as EffectiveRow[];
}

/** One chain link as the SQL baseline returns it. */
export type ChainRow = [string, boolean, number, string];

/** Runs the PostgreSQL chain query for one user and key; returns the links and the winner. */
export async function chainPg(
  client: pg.ClientBase,
  userId: string,
  key: string,
): Promise<{ links: ChainRow[]; winner: ChainRow | null }> {
  const r = await client.query({
    name: 'bench_chain',
    text: CHAIN_PG,
    values: [userId, key],
    rowMode: 'array',
  });
  const links = r.rows as ChainRow[];
  let winner: ChainRow | null = null;
  for (const l of links) {
    winner = l;
    if (l[1]) break;
  }
  return { links, winner };
}

/** A prepared SQLite effective query. */
export function effectiveSqlite(db: BetterSqlite3.Database): (userId: string) => EffectiveRow[] {
  const stmt = db.prepare(EFFECTIVE_SQLITE).raw(true);
  return (userId) => stmt.all({ user: userId }) as EffectiveRow[];
}
