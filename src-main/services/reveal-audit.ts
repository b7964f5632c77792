/**
 * The reveal log: one record per slot whose secret plaintext a read releases, written BEFORE the
 * value is handed back, so a reveal that cannot be recorded does not happen. On PostgreSQL the
 * records go to config_reveals through the SECURITY DEFINER function of
 * migrations/postgres/0130_reveal_audit.sql (the application role cannot insert, edit or delete
 * them, and the database, not the client, decides who the revealing user is); in a draft they go
 * to the local draft_reveals table (migrations/sqlite/0003_reveal_audit.sql).
 *
 * A record names the slot, the fingerprint of the envelope that was decrypted, who, when, why and
 * through which front door. It never holds the value or the ciphertext.
 */
import type pg from 'pg';
import type BetterSqlite3 from 'better-sqlite3';
import { StrataError, type SourceLevel } from '../core/types.js';
import type { Store } from '../store/store.js';
import { securityErrorFromPg } from './access.js';
import type { RevealVia } from './types.js';

export type { RevealVia };

/** The front doors a reveal can come through. */
export const REVEAL_VIA = ['console', 'cli', 'api'] as const satisfies readonly RevealVia[];

/** Longest reason recorded with a reveal (as for changes). */
export const MAX_REVEAL_REASON = 2_000;
/** Most slots one read may reveal (one record each, written in one statement). */
export const MAX_REVEAL_SLOTS = 1_000;

/** One slot whose plaintext a read is about to release. */
export interface RevealTarget {
  level: SourceLevel;
  scope: string;
  key: string;
  /** Fingerprint of the envelope decrypted (null: the value was not encrypted). */
  fingerprint: string | null;
}

/** Why, and for whom, a reveal is recorded. */
export interface RevealContext {
  /** The operator the service acts as (recorded as is only for roles that bypass RLS). */
  operator: string;
  reason: string | null;
  via: RevealVia;
}

/** A recorded reveal, as the log lists it. */
export interface RevealRecord {
  seq: number;
  level: SourceLevel;
  scope: string;
  key: string;
  fingerprint: string | null;
  /** Directory user who revealed (decided by the database on PostgreSQL). */
  revealedBy: string;
  /** The database login role (PostgreSQL) or the OS account (draft). */
  dbRole: string;
  revealedAt: string;
  reason: string | null;
  via: RevealVia;
}

/** Filter for listing reveals (newest first). */
export interface RevealFilter {
  key?: string;
  revealedBy?: string;
  limit?: number;
}

/** Where reveals are recorded for one store. */
export interface RevealLog {
  /** Records the reveal of these slots in one statement; throws when it cannot. */
  record(targets: readonly RevealTarget[], ctx: RevealContext): Promise<void>;
  /** Recorded reveals visible to the caller, newest first. */
  list(filter?: RevealFilter): Promise<RevealRecord[]>;
}

/** The fingerprint an envelope carries (`enc:v1:<keyId>:<fingerprint>:...`), or null. */
export function envelopeFingerprint(stored: string): string | null {
  if (!stored.startsWith('enc:v1:')) return null;
  const fp = stored.split(':')[3] ?? '';
  return /^[0-9a-f]{16}$/.test(fp) ? fp : null;
}

/** Checks a reveal reason and returns it trimmed (null when empty). */
export function checkRevealReason(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw new StrataError('invalid', 'The reason must be text.');
  if (reason.length > MAX_REVEAL_REASON) {
    throw new StrataError(
      'invalid',
      `The reason is ${reason.length} characters long; the limit is ${MAX_REVEAL_REASON}.`,
    );
  }
  const trimmed = reason.trim();
  return trimmed === '' ? null : trimmed;
}

/** Checks the front door a reveal names. */
export function checkRevealVia(via: unknown): RevealVia {
  if (via === undefined || via === null) return 'api';
  if (typeof via === 'string' && (REVEAL_VIA as readonly string[]).includes(via)) {
    return via as RevealVia;
  }
  throw new StrataError('invalid', `A reveal comes through ${REVEAL_VIA.join(', ')}.`);
}

function dedupe(targets: readonly RevealTarget[]): RevealTarget[] {
  const seen = new Map<string, RevealTarget>();
  for (const t of targets) seen.set(`${t.level}\u0000${t.scope}\u0000${t.key}`, t);
  return [...seen.values()];
}

function limitOf(filter: RevealFilter): number {
  const limit = filter.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StrataError('invalid', 'limit must be a whole number of at least 1.');
  }
  return Math.min(limit, 100_000);
}

function unrecorded(why: string): StrataError {
  return new StrataError(
    'internal',
    `The reveal was refused because it could not be recorded: ${why}.`,
  );
}

/** The reveal log of a PostgreSQL store (config_reveals, written by the definer function). */
export function postgresRevealLog(pool: pg.Pool): RevealLog {
  return {
    async record(targets, ctx) {
      const all = dedupe(targets);
      if (all.length === 0) return;
      for (let i = 0; i < all.length; i += MAX_REVEAL_SLOTS) {
        const part = all.slice(i, i + MAX_REVEAL_SLOTS);
        try {
          await pool.query(
            'SELECT out_seq FROM strata_reveal($1::text[], $2::text[], $3::text[], $4::text[], $5, $6, $7)',
            [
              part.map((t) => t.level),
              part.map((t) => t.scope),
              part.map((t) => t.key),
              part.map((t) => t.fingerprint),
              ctx.operator,
              ctx.reason,
              ctx.via,
            ],
          );
        } catch (err) {
          const refused = securityErrorFromPg(err);
          if (refused) throw refused;
          const e = err as { code?: string };
          if (e.code === '42883' || e.code === '42P01') {
            throw unrecorded('the database has no reveal log; run `strata db migrate`');
          }
          if (e.code === '22023') {
            throw new StrataError('invalid', (err as Error).message);
          }
          throw unrecorded('the database did not accept the record');
        }
      }
    },
    async list(filter = {}) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (filter.key !== undefined) {
        values.push(filter.key);
        where.push(`key = $${values.length}`);
      }
      if (filter.revealedBy !== undefined) {
        values.push(filter.revealedBy);
        where.push(`revealed_by = $${values.length}`);
      }
      const r = await pool.query<{
        seq: number | string;
        level: string;
        scope: string;
        key: string;
        fingerprint: string | null;
        revealed_by: string;
        db_role: string;
        revealed_at: string | Date;
        reason: string | null;
        via: string;
      }>(
        `SELECT seq, level::text, scope, key::text, fingerprint::text, revealed_by, db_role, revealed_at, reason, via::text
         FROM config_reveals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY seq DESC LIMIT ${limitOf(filter)}`,
        values,
      );
      return r.rows.map((row) => ({
        seq: Number(row.seq),
        level: row.level as SourceLevel,
        scope: row.scope,
        key: row.key,
        fingerprint: row.fingerprint,
        revealedBy: row.revealed_by,
        dbRole: row.db_role,
        revealedAt:
          row.revealed_at instanceof Date ? row.revealed_at.toISOString() : String(row.revealed_at),
        reason: row.reason,
        via: row.via as RevealVia,
      }));
    },
  };
}

/** The reveal log of a draft workspace (draft_reveals in the .sqlite file). */
export function draftRevealLog(
  db: BetterSqlite3.Database,
  account: () => Promise<string>,
): RevealLog {
  return {
    async record(targets, ctx) {
      const all = dedupe(targets);
      if (all.length === 0) return;
      const who = await account();
      try {
        // Prepared inside the try: a draft without the draft_reveals table (an old file) must
        // refuse with the clear message below, not a raw SQLite error.
        const insert = db.prepare(
          `INSERT INTO draft_reveals (level, scope, key, fingerprint, revealed_by, db_role, reason, via)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        db.transaction(() => {
          for (const t of all) {
            insert.run(
              t.level,
              t.scope,
              t.key,
              t.fingerprint,
              ctx.operator,
              who,
              ctx.reason,
              ctx.via,
            );
          }
        }).immediate();
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
          throw new StrataError(
            'conflict',
            'The reveal was refused because the draft is locked by another program and the reveal could not be recorded; try again.',
          );
        }
        throw unrecorded('the draft did not accept the record');
      }
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.key !== undefined) {
        where.push('key = ?');
        params.push(filter.key);
      }
      if (filter.revealedBy !== undefined) {
        where.push('revealed_by = ?');
        params.push(filter.revealedBy);
      }
      const rows = db
        .prepare(
          `SELECT seq, level, scope, key, fingerprint, revealed_by, db_role, revealed_at, reason, via
           FROM draft_reveals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY seq DESC LIMIT ${limitOf(filter)}`,
        )
        .all(...params) as Array<Record<string, unknown>>;
      return rows.map((row) => ({
        seq: Number(row.seq),
        level: String(row.level) as SourceLevel,
        scope: String(row.scope),
        key: String(row.key),
        fingerprint: (row.fingerprint as string | null) ?? null,
        revealedBy: String(row.revealed_by),
        dbRole: String(row.db_role),
        revealedAt: String(row.revealed_at),
        reason: (row.reason as string | null) ?? null,
        via: String(row.via) as RevealVia,
      }));
    },
  };
}

/**
 * The reveal log of a store: PostgreSQL and drafts have one; any other store gets a log that
 * refuses every reveal (plaintext never leaves without a record).
 */
export function revealLogFor(store: Store): RevealLog {
  const s = store as unknown as { pool?: pg.Pool; db?: BetterSqlite3.Database };
  if (store.kind === 'postgres' && s.pool) return postgresRevealLog(s.pool);
  if (store.kind === 'draft' && s.db) {
    return draftRevealLog(s.db, async () => (await store.identity()).role);
  }
  return {
    async record() {
      throw unrecorded('this workspace has no reveal log');
    },
    async list() {
      return [];
    },
  };
}
