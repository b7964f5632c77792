/**
 * The seed-style resolver (PostgreSQLConfigProvider from the design notes, without its Redis
 * cache): get_effective_config lists every key available to the context, then resolves each key
 * with _resolve_hierarchy, one point query per level until a value is found: user, then each
 * group in order, department, tenant, global. Statements are prepared once per connection, as
 * an ORM would; queries run one after another, as the seed's awaits do.
 */
import type pg from 'pg';
import type { UserContext } from '../../src-main/core/types.js';

const ALL_KEYS = `
  SELECT key::text FROM config_global
  UNION SELECT key::text FROM config_tenant WHERE tenant_id = $1
  UNION SELECT key::text FROM config_department WHERE tenant_id = $1 AND department = $2
  UNION SELECT key::text FROM config_group WHERE group_id = ANY($3::text[])
  UNION SELECT key::text FROM config_user WHERE user_id = $4`;

async function first(
  client: pg.ClientBase,
  name: string,
  text: string,
  values: unknown[],
): Promise<string | null> {
  const r = await client.query({ name, text, values, rowMode: 'array' });
  return r.rows.length > 0 ? (r.rows[0] as [string])[0] : null;
}

/** Resolves one key the seed's way; returns the value, or null when no level sets it. */
export async function seedResolve(
  client: pg.ClientBase,
  key: string,
  ctx: UserContext,
): Promise<string | null> {
  if (ctx.userId !== null) {
    const v = await first(
      client,
      'seed_user',
      'SELECT value FROM config_user WHERE user_id = $1 AND key = $2 LIMIT 1',
      [ctx.userId, key],
    );
    if (v !== null) return v;
  }
  for (const g of ctx.groups) {
    const v = await first(
      client,
      'seed_group',
      'SELECT value FROM config_group WHERE group_id = $1 AND key = $2 LIMIT 1',
      [g, key],
    );
    if (v !== null) return v;
  }
  if (ctx.department !== null && ctx.tenantId !== null) {
    const v = await first(
      client,
      'seed_department',
      'SELECT value FROM config_department WHERE tenant_id = $1 AND department = $2 AND key = $3 LIMIT 1',
      [ctx.tenantId, ctx.department, key],
    );
    if (v !== null) return v;
  }
  if (ctx.tenantId !== null) {
    const v = await first(
      client,
      'seed_tenant',
      'SELECT value FROM config_tenant WHERE tenant_id = $1 AND key = $2 LIMIT 1',
      [ctx.tenantId, key],
    );
    if (v !== null) return v;
  }
  return first(client, 'seed_global', 'SELECT value FROM config_global WHERE key = $1 LIMIT 1', [
    key,
  ]);
}

/** The seed's get_effective_config: every available key, each resolved through the hierarchy. */
export async function seedEffective(
  client: pg.ClientBase,
  ctx: UserContext,
): Promise<Map<string, string | null>> {
  const keys = await client.query({
    name: 'seed_all_keys',
    text: ALL_KEYS,
    values: [ctx.tenantId, ctx.department, ctx.groups, ctx.userId],
    rowMode: 'array',
  });
  const out = new Map<string, string | null>();
  for (const [key] of keys.rows as Array<[string]>)
    out.set(key, await seedResolve(client, key, ctx));
  return out;
}
