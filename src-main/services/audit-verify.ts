/**
 * Independent verification of the config_audit hash chain (migrations/postgres/0120_security_audit.sql).
 * The chain is recomputed here in JavaScript from the stored fields, so a database whose trigger
 * or canonical function was altered cannot vouch for itself.
 *
 * hash = hex(sha256(UTF-8 of prev_hash + '\n' + 'strata-audit-v1\n' + fields)), each field written
 * `<number of characters>:<text>;` or `~;` for NULL, in this order: seq, id, config_table,
 * config_id, key, old_value, new_value, value_type, encrypted (t/f), change_type, changed_by,
 * changed_at (integer epoch microseconds), ip_address (inet::text), user_agent, reason, push_id.
 * The first row's prev_hash is 64 zeros; strata_audit_head holds the newest (seq, hash).
 * Since migration 0240 the audit trigger chains a statement's rows set-based (a running aggregate
 * over seq) in exactly this shape, so one walk verifies rows from before and after it alike.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { StrataError } from '../core/types.js';

/** Outcome of a verification: the whole chain holds, or where it first breaks and why. */
export type AuditChainResult =
  | { ok: true; rows: number; lastSeq: number; lastHash: string }
  | { ok: false; firstBrokenSeq: number; reason: string };

/** Options for verifyAuditChain. */
export interface VerifyOptions {
  /** Rows read per query (default 5000). */
  batchSize?: number;
}

/** The chain's starting link. */
export const GENESIS_HASH = '0'.repeat(64);

interface AuditChainRow {
  seq: string;
  id: string | null;
  config_table: string | null;
  config_id: string | null;
  key: string | null;
  old_value: string | null;
  new_value: string | null;
  value_type: string | null;
  encrypted: boolean;
  change_type: string | null;
  changed_by: string | null;
  changed_us: string | null;
  ip: string | null;
  user_agent: string | null;
  reason: string | null;
  push_id: string | null;
  prev_hash: string;
  hash: string;
}

// PostgreSQL's char_length counts code points; so does iterating a JS string.
function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function field(v: string | null): string {
  return v === null ? '~;' : `${charLength(v)}:${v};`;
}

/** The hash a row must carry given the previous link (exported for tests and tools). */
export function auditRowHash(
  prevHash: string,
  row: Omit<AuditChainRow, 'prev_hash' | 'hash'>,
): string {
  const canonical =
    'strata-audit-v1\n' +
    field(row.seq) +
    field(row.id) +
    field(row.config_table) +
    field(row.config_id) +
    field(row.key) +
    field(row.old_value) +
    field(row.new_value) +
    field(row.value_type) +
    (row.encrypted ? '1:t;' : '1:f;') +
    field(row.change_type) +
    field(row.changed_by) +
    field(row.changed_us) +
    field(row.ip) +
    field(row.user_agent) +
    field(row.reason) +
    field(row.push_id);
  return createHash('sha256').update(`${prevHash}\n${canonical}`, 'utf8').digest('hex');
}

// Ordered by the table column a.seq: the output column `seq` is text and would sort as text.
const SELECT_BATCH = `
  SELECT seq::text AS seq, id::text AS id, config_table::text AS config_table, config_id::text AS config_id,
         key::text AS key, old_value, new_value, value_type::text AS value_type, encrypted,
         change_type::text AS change_type, changed_by,
         ((extract(epoch FROM changed_at) * 1000000)::bigint)::text AS changed_us,
         ip_address::text AS ip, user_agent, reason, push_id, prev_hash, hash
  FROM config_audit a WHERE a.seq > $1::bigint ORDER BY a.seq LIMIT $2`;

function isPool(c: pg.ClientBase | pg.Pool): c is pg.Pool {
  return typeof (c as pg.Pool).totalCount === 'number';
}

async function run(client: pg.ClientBase, batchSize: number): Promise<AuditChainResult> {
  const probe = await client.query<{ chained: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_name = 'config_audit' AND column_name = 'hash'
                      AND table_schema = current_schema()) AS chained`,
  );
  if (!probe.rows[0]?.chained) {
    throw new StrataError(
      'invalid',
      'This database has no audit hash chain; apply migration 0120_security_audit.sql first.',
    );
  }
  // Under row-level security a reader sees only part of the trail, which would look broken.
  const rights = await client.query<{ rls: boolean; reads_all: boolean }>(
    "SELECT row_security_active('config_audit') AS rls, strata_reads_all() AS reads_all",
  );
  if (rights.rows[0]!.rls && !rights.rows[0]!.reads_all) {
    throw new StrataError(
      'forbidden',
      'Verifying the audit chain needs a role that reads the whole audit trail (a super_admin, the owner or a BYPASSRLS role).',
    );
  }

  let expectedPrev = GENESIS_HASH;
  let lastSeq = '0';
  let rows = 0;
  for (;;) {
    const batch = await client.query<AuditChainRow>(SELECT_BATCH, [lastSeq, batchSize]);
    for (const row of batch.rows) {
      const seq = Number(row.seq);
      const recomputed = auditRowHash(row.prev_hash, row);
      if (recomputed !== row.hash) {
        return {
          ok: false,
          firstBrokenSeq: seq,
          reason: `Audit row ${seq} does not match its hash: the row was changed after it was written.`,
        };
      }
      if (row.prev_hash !== expectedPrev) {
        return {
          ok: false,
          firstBrokenSeq: seq,
          reason: `Audit row ${seq} does not follow the row before it: rows were removed, inserted or rewritten before it.`,
        };
      }
      expectedPrev = row.hash;
      lastSeq = row.seq;
      rows++;
    }
    if (batch.rows.length < batchSize) break;
  }

  const head = await client.query<{ last_seq: string; last_hash: string }>(
    'SELECT last_seq::text AS last_seq, last_hash FROM strata_audit_head',
  );
  const h = head.rows[0];
  if (h && (h.last_seq !== lastSeq || h.last_hash !== expectedPrev)) {
    const headSeq = Number(h.last_seq);
    return headSeq > Number(lastSeq)
      ? {
          ok: false,
          firstBrokenSeq: headSeq,
          reason: `The newest audit rows are missing: the chain head names row ${headSeq}, the trail ends at ${lastSeq}.`,
        }
      : {
          ok: false,
          firstBrokenSeq: Number(lastSeq),
          reason: `The audit chain head (row ${headSeq}) does not match the newest row ${lastSeq}.`,
        };
  }
  return { ok: true, rows, lastSeq: Number(lastSeq), lastHash: expectedPrev };
}

/**
 * Recomputes the config_audit hash chain in batches inside one REPEATABLE READ snapshot.
 * Pass a pool, or a client that is not inside a transaction. Throws StrataError when the
 * database has no chain or the role cannot read the whole trail.
 */
export async function verifyAuditChain(
  client: pg.ClientBase | pg.Pool,
  opts: VerifyOptions = {},
): Promise<AuditChainResult> {
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 5000, 100_000));
  const conn = isPool(client) ? await client.connect() : client;
  try {
    await conn.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const result = await run(conn, batchSize);
      await conn.query('COMMIT');
      return result;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    if (isPool(client)) (conn as pg.PoolClient).release();
  }
}
