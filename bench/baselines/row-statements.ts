/**
 * Write baselines for a push of user-level values: one INSERT ... ON CONFLICT per row (what a
 * straightforward loop over staged changes does), and one INSERT over unnest() of the whole set
 * (the floor for a single set-based statement, with no conflict checks and no before-images).
 * Both run in one transaction with the same strata.operator / strata.reason / strata.push_id,
 * so the database's audit triggers write one audit row per change exactly as for Strata's push.
 */
import type pg from 'pg';

/** One user-level value to write. */
export interface RowWrite {
  userId: string;
  key: string;
  value: string;
  valueType: string;
}

/** Who writes, and why (recorded by the audit triggers). */
export interface RowWriteContext {
  operator: string;
  reason: string;
  pushId: string;
}

const UPSERT_ONE = `INSERT INTO config_user (user_id, key, value, value_type, encrypted, locked, created_by, updated_by)
  VALUES ($1, $2, $3, $4, false, false, $5, $5)
  ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value, value_type = EXCLUDED.value_type,
    updated_by = EXCLUDED.updated_by`;

const UPSERT_UNNEST = `INSERT INTO config_user (user_id, key, value, value_type, encrypted, locked, created_by, updated_by)
  SELECT u.user_id, u.key, u.value, u.value_type, false, false, $5, $5
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(user_id, key, value, value_type)
  ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value, value_type = EXCLUDED.value_type,
    updated_by = EXCLUDED.updated_by`;

async function inTransaction(
  client: pg.ClientBase,
  ctx: RowWriteContext,
  fn: () => Promise<void>,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(
      "SELECT set_config('strata.operator', $1, true), set_config('strata.reason', $2, true), set_config('strata.push_id', $3, true)",
      [ctx.operator, ctx.reason, ctx.pushId],
    );
    await fn();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** One prepared statement per row, in one transaction. */
export async function writePerRow(
  client: pg.ClientBase,
  rows: readonly RowWrite[],
  ctx: RowWriteContext,
): Promise<void> {
  await inTransaction(client, ctx, async () => {
    for (const r of rows) {
      await client.query({
        name: 'bench_upsert_one',
        text: UPSERT_ONE,
        values: [r.userId, r.key, r.value, r.valueType, ctx.operator],
      });
    }
  });
}

/** One statement over unnest() of every row, in one transaction. */
export async function writeUnnest(
  client: pg.ClientBase,
  rows: readonly RowWrite[],
  ctx: RowWriteContext,
): Promise<void> {
  await inTransaction(client, ctx, async () => {
    await client.query(UPSERT_UNNEST, [
      rows.map((r) => r.userId),
      rows.map((r) => r.key),
      rows.map((r) => r.value),
      rows.map((r) => r.valueType),
      ctx.operator,
    ]);
  });
}
