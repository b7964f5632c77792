/**
 * Point in time: the effective configuration of any user, ad-hoc context or slot as it was at a
 * past moment, rebuilt from the history the database records with every change
 * (config_history, migration 0220), and diffed against now; and the revert of a whole past push
 * as one staged change set in a draft.
 *
 * The state at T is one query: per slot, the newest history row with changed_at <= T. For a
 * context only the slots on its chain are read (global, its tenant, department, groups, user),
 * then resolved with the same in-memory index as today's values, so "then" and "now" are
 * resolved by identical rules. The directory and metadata are today's: a user who changed
 * department since T is shown with today's memberships (the history records configuration,
 * not the directory). Secret values stay masked; whether a secret changed is judged by its
 * fingerprint.
 */
import { ConfigIndex } from '../core/config-index.js';
import type { RawEffective } from '../core/config-index.js';
import { assertNoLockViolations, sameResolution } from '../core/impact.js';
import type { SlotChange } from '../core/impact.js';
import { assertValidScope, parseLevel } from '../core/keys.js';
import { MASK } from '../core/masking.js';
import { isSecretKey } from '../core/secret-keys.js';
import { StrataError } from '../core/types.js';
import type {
  ConfigEntry,
  Level,
  Slot,
  SourceLevel,
  UserContext,
  ValueType,
} from '../core/types.js';
import { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { redactUrl } from '../store/store.js';
import type { StoredChange } from '../store/store.js';
import type { StrataConfigService } from './config-service.js';
import type { ContextInput } from './types.js';

/** One key then and now (values masked for secrets; null: nothing applies). */
export interface PointInTimeValue {
  value: string | null;
  valueType: ValueType;
  level: SourceLevel;
  scope: string;
  encrypted: boolean;
  locked: boolean;
}

/** One key of a point-in-time view. */
export interface PointInTimeItem {
  key: string;
  then: PointInTimeValue | null;
  now: PointInTimeValue | null;
  changed: boolean;
}

/** The effective configuration of a context (or the values of a slot) at a moment, against now. */
export interface PointInTimeView {
  /** The moment, as an ISO 8601 UTC timestamp. */
  at: string;
  /** From when the history is complete. */
  historySince: string | null;
  /** What was resolved: a context, or exactly one slot. */
  subject:
    { kind: 'context'; context: UserContext } | { kind: 'slot'; level: Level; scope: string };
  items: PointInTimeItem[];
  /** Keys whose value differs between then and now. */
  changed: number;
}

/** What to show at a moment. */
export interface PointInTimeRequest {
  at: string;
  /** A context (user id or ad-hoc); or give level + scope for one slot's own values. */
  context?: ContextInput;
  level?: Level;
  scope?: string;
  /** Only keys that differ between then and now. */
  changedOnly?: boolean;
}

/** The staged revert of a past push. */
export interface RevertPlan {
  pushId: string;
  /** Stored-form changes that restore each slot the push touched to its state before it. */
  changes: SlotChange[];
  /** Slots changed again after the push (the revert overwrites those later changes). */
  changedSince: Slot[];
  pushedAt: string;
  operator: string;
}

interface HistoryRow {
  level: Level;
  scope: string;
  key: string;
  present: boolean;
  value: string | null;
  value_type: ValueType;
  encrypted: boolean;
  locked: boolean;
  changed_at: string;
  changed_by: string;
  seq: string;
}

const ISO = `to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Parses a moment given by a person or a caller; throws a one-sentence StrataError. */
export function parseMoment(at: string): string {
  if (typeof at !== 'string' || at.trim() === '') {
    throw new StrataError(
      'invalid',
      'Give a moment as an ISO 8601 time such as 2025-01-31T12:00:00Z.',
    );
  }
  const text = at.trim();
  // A bare date or a time without a zone would silently depend on this machine's time zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    throw new StrataError(
      'invalid',
      `'${text.slice(0, 40)}' is not an ISO 8601 time with a zone, such as 2025-01-31T12:00:00Z.`,
    );
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new StrataError('invalid', `'${text.slice(0, 40)}' is not a valid time.`);
  }
  return text;
}

function entryFromHistory(r: HistoryRow): ConfigEntry {
  return {
    level: r.level,
    scope: r.scope,
    key: r.key,
    value: r.value ?? '',
    valueType: r.value_type,
    encrypted: r.encrypted,
    locked: r.locked,
    version: 0,
    updatedAt: r.changed_at,
    updatedBy: r.changed_by,
  };
}

/** The scopes a context's chain reads. */
function chainScopes(ctx: UserContext): Array<{ level: Level; scope: string }> {
  const out: Array<{ level: Level; scope: string }> = [{ level: 'global', scope: '' }];
  if (ctx.tenantId) {
    out.push({ level: 'tenant', scope: ctx.tenantId });
    if (ctx.department)
      out.push({ level: 'department', scope: `${ctx.tenantId}/${ctx.department}` });
  }
  for (const g of ctx.groups ?? []) out.push({ level: 'group', scope: g });
  if (ctx.userId) out.push({ level: 'user', scope: ctx.userId });
  return out;
}

/** Point-in-time reads over a PostgreSQL store. */
export class HistoryService {
  constructor(readonly store: PostgresStore) {}

  /** From when the history is complete (strata_settings history_since), or null if unknown. */
  async since(): Promise<string | null> {
    return this.store.getSetting('history_since');
  }

  /** Refuses moments before the history starts (their state is not recorded). */
  async assertCovered(at: string): Promise<string | null> {
    const since = await this.since();
    if (since !== null && Date.parse(at) < Date.parse(since)) {
      throw new StrataError(
        'invalid',
        `The configuration history starts at ${since}; choose a moment after that.`,
      );
    }
    return since;
  }

  /** Every entry stored at the moment (optionally only at the given scopes). */
  async entriesAt(
    at: string,
    scopes?: ReadonlyArray<{ level: Level; scope: string }>,
  ): Promise<ConfigEntry[]> {
    const moment = parseMoment(at);
    const where = ['changed_at <= $1::timestamptz'];
    const values: unknown[] = [moment];
    if (scopes !== undefined) {
      if (scopes.length === 0) return [];
      values.push(
        scopes.map((s) => s.level),
        scopes.map((s) => s.scope),
      );
      where.push('(level, scope) IN (SELECT * FROM unnest($2::text[], $3::text[]))');
    }
    const r = await this.store.pool.query<HistoryRow>(
      `SELECT DISTINCT ON (level, scope, key) level::text AS level, scope, key::text AS key, present, value,
              value_type::text AS value_type, encrypted, locked, ${ISO} AS changed_at, changed_by, seq::text AS seq
       FROM config_history WHERE ${where.join(' AND ')}
       ORDER BY level, scope, key, seq DESC`,
      values,
    );
    return r.rows.filter((row) => row.present).map(entryFromHistory);
  }

  /** The stored-form changes that undo a push, slot by slot. */
  async revertPlan(pushId: string): Promise<RevertPlan> {
    if (typeof pushId !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(pushId)) {
      throw new StrataError(
        'invalid',
        'A push id is 1 to 100 letters, digits, dots, dashes or colons.',
      );
    }
    const pushed = await this.store.pool.query<HistoryRow>(
      `SELECT level::text AS level, scope, key::text AS key, present, value, value_type::text AS value_type,
              encrypted, locked, ${ISO} AS changed_at, changed_by, seq::text AS seq
       FROM config_history WHERE push_id = $1 ORDER BY seq`,
      [pushId],
    );
    if (pushed.rows.length === 0) {
      const audited = await this.store.pool.query(
        'SELECT 1 FROM config_audit WHERE push_id = $1 LIMIT 1',
        [pushId],
      );
      throw new StrataError(
        'not_found',
        audited.rows.length > 0
          ? `Push ${pushId} predates the configuration history, so its previous values are not recorded.`
          : `No push ${pushId} is recorded in this database.`,
      );
    }
    const first = new Map<string, HistoryRow>();
    const last = new Map<string, HistoryRow>();
    for (const row of pushed.rows) {
      const id = `${row.level}\u0000${row.scope}\u0000${row.key}`;
      if (!first.has(id)) first.set(id, row);
      last.set(id, row);
    }
    const slots = [...first.values()];
    // The state right before the push's first row, and the newest state, for every slot.
    const r = await this.store.pool.query<HistoryRow & { which: string }>(
      `WITH s AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS s(level, scope, key, first_seq))
       SELECT 'before' AS which, b.* FROM s CROSS JOIN LATERAL (
         SELECT h.level::text AS level, h.scope, h.key::text AS key, h.present, h.value, h.value_type::text AS value_type,
                h.encrypted, h.locked, ${ISO.replace('changed_at', 'h.changed_at')} AS changed_at, h.changed_by, h.seq::text AS seq
         FROM config_history h WHERE h.level = s.level AND h.scope = s.scope AND h.key = s.key AND h.seq < s.first_seq
         ORDER BY h.seq DESC LIMIT 1) b
       UNION ALL
       SELECT 'now' AS which, n.* FROM s CROSS JOIN LATERAL (
         SELECT h.level::text AS level, h.scope, h.key::text AS key, h.present, h.value, h.value_type::text AS value_type,
                h.encrypted, h.locked, ${ISO.replace('changed_at', 'h.changed_at')} AS changed_at, h.changed_by, h.seq::text AS seq
         FROM config_history h WHERE h.level = s.level AND h.scope = s.scope AND h.key = s.key
         ORDER BY h.seq DESC LIMIT 1) n`,
      [
        slots.map((s) => s.level),
        slots.map((s) => s.scope),
        slots.map((s) => s.key),
        slots.map((s) => s.seq),
      ],
    );
    const before = new Map<string, HistoryRow>();
    const now = new Map<string, HistoryRow>();
    for (const row of r.rows) {
      const id = `${row.level}\u0000${row.scope}\u0000${row.key}`;
      (row.which === 'before' ? before : now).set(id, row);
    }
    const changes: SlotChange[] = [];
    const changedSince: Slot[] = [];
    for (const [id, row] of first) {
      const slot = { level: row.level, scope: row.scope, key: row.key };
      const prev = before.get(id);
      if (prev !== undefined && prev.present) {
        changes.push({
          ...slot,
          action: 'set',
          value: prev.value,
          valueType: prev.value_type,
          encrypted: prev.encrypted,
          locked: prev.locked,
        });
      } else {
        changes.push({
          ...slot,
          action: 'unset',
          value: null,
          valueType: 'string',
          encrypted: false,
          locked: false,
        });
      }
      const latest = now.get(id);
      if (latest !== undefined && latest.seq !== last.get(id)!.seq) changedSince.push(slot);
    }
    const head = pushed.rows[0]!;
    return { pushId, changes, changedSince, pushedAt: head.changed_at, operator: head.changed_by };
  }
}

function view(
  r: Pick<RawEffective, 'value' | 'valueType' | 'level' | 'scope' | 'encrypted' | 'locked' | 'key'>,
  index: ConfigIndex,
): PointInTimeValue {
  const secret = r.encrypted || isSecretKey(r.key, index.metadata(r.key));
  return {
    value: r.value === null ? null : secret ? MASK : r.value,
    valueType: r.valueType,
    level: r.level,
    scope: r.scope,
    encrypted: r.encrypted,
    locked: r.locked,
  };
}

function diffItems(
  thenItems: readonly RawEffective[],
  nowItems: readonly RawEffective[],
  thenIndex: ConfigIndex,
  nowIndex: ConfigIndex,
  changedOnly: boolean,
): PointInTimeItem[] {
  const then = new Map(thenItems.map((x) => [x.key, x]));
  const now = new Map(nowItems.map((x) => [x.key, x]));
  const keys = [...new Set([...then.keys(), ...now.keys()])].sort();
  const out: PointInTimeItem[] = [];
  for (const key of keys) {
    const a = then.get(key) ?? null;
    const b = now.get(key) ?? null;
    const changed =
      a === null || b === null ? (a?.value ?? null) !== (b?.value ?? null) : !sameResolution(a, b);
    if (changedOnly && !changed) continue;
    out.push({
      key,
      then: a === null ? null : view(a, thenIndex),
      now: b === null ? null : view(b, nowIndex),
      changed,
    });
  }
  return out;
}

/** The PostgreSQL store behind a config service, or a clear refusal for drafts. */
function pgStoreOf(config: StrataConfigService): PostgresStore {
  const store = config.store;
  if (!(store instanceof PostgresStore)) {
    throw new StrataError(
      'invalid',
      'Point-in-time views read the history of a PostgreSQL database; open the database, not a draft.',
    );
  }
  return store;
}

/** The effective configuration of a context, or one slot's values, at a moment and now. */
export async function pointInTime(
  config: StrataConfigService,
  req: PointInTimeRequest,
): Promise<PointInTimeView> {
  const at = parseMoment(req.at);
  const history = new HistoryService(pgStoreOf(config));
  const historySince = await history.assertCovered(at);
  const nowIndex = config.index;
  const changedOnly = req.changedOnly === true;
  if (req.context !== undefined) {
    if (req.level !== undefined || req.scope !== undefined) {
      throw new StrataError('invalid', 'Give either a context or a level and scope, not both.');
    }
    const ctx = await config.context(req.context);
    const entries = await history.entriesAt(at, chainScopes(ctx));
    const thenIndex = ConfigIndex.build({
      entries,
      directory: nowIndex.directory(),
      metadata: nowIndex.allMetadata(),
      legacy: nowIndex.legacyMap(),
    });
    const items = diffItems(
      thenIndex.effective(ctx),
      nowIndex.effective(ctx),
      thenIndex,
      nowIndex,
      changedOnly,
    );
    return {
      at,
      historySince,
      subject: { kind: 'context', context: ctx },
      items,
      changed: items.filter((i) => i.changed).length,
    };
  }
  if (req.level === undefined) {
    throw new StrataError('invalid', 'Give a context (a user or a tenant), or a level and scope.');
  }
  const level = parseLevel(req.level);
  const scope = req.scope ?? '';
  assertValidScope(level, scope);
  const entries = await history.entriesAt(at, [{ level, scope }]);
  const asItem = (e: ConfigEntry): RawEffective => ({
    key: e.key,
    level: e.level,
    scope: e.scope,
    value: e.value,
    valueType: e.valueType,
    encrypted: e.encrypted,
    locked: e.locked,
    entry: e,
  });
  const items = diffItems(
    entries.map(asItem),
    nowIndex.entriesAt(level, scope).map(asItem),
    nowIndex,
    nowIndex,
    changedOnly,
  );
  return {
    at,
    historySince,
    subject: { kind: 'slot', level, scope },
    items,
    changed: items.filter((i) => i.changed).length,
  };
}

/** Result of staging a push's revert into a draft. */
export interface RevertResult {
  pushId: string;
  draft: string;
  staged: number;
  /** Slots changed again after the push (the revert overwrites them; the plan shows it). */
  changedSince: Slot[];
}

/** The database a draft was pulled from (its recorded source, without password), or null. */
export async function draftSource(draftPath: string): Promise<string | null> {
  const draft = SqliteStore.open(draftPath);
  try {
    return draft.meta('source');
  } finally {
    await draft.close();
  }
}

/**
 * Stages the revert of a past push into a draft pulled from the same database, as one change
 * set with the reason "revert push <id>"; the admin reviews its plan and pushes it like any other.
 */
export async function revertPushInto(
  source: PostgresStore,
  pushId: string,
  draftPath: string,
  operator: string,
): Promise<RevertResult> {
  const plan = await new HistoryService(source).revertPlan(pushId);
  const draft = SqliteStore.open(draftPath);
  try {
    const pulledFrom = draft.meta('source');
    if (pulledFrom === null) {
      throw new StrataError(
        'invalid',
        'The draft was not pulled from a database; pull the database first, then revert into that draft.',
      );
    }
    if (redactUrl(pulledFrom) !== source.target) {
      throw new StrataError(
        'invalid',
        `The draft was pulled from ${redactUrl(pulledFrom)}, not ${source.target}; revert into a draft of the same database.`,
      );
    }
    // Locks bind a revert like any other staging: judged on the draft as it stands.
    const snap = await draft.snapshot();
    const index = ConfigIndex.build({
      entries: snap.entries,
      directory: snap.directory,
      metadata: snap.metadata,
    });
    assertNoLockViolations(index, plan.changes);
    const changes: StoredChange[] = plan.changes.map((c) => ({ ...c }));
    const applied = await draft.write(changes, { operator, reason: `revert push ${pushId}` });
    return {
      pushId,
      draft: draft.target,
      staged: applied.filter((a) => a.staged).length,
      changedSince: plan.changedSince,
    };
  } finally {
    await draft.close();
  }
}
