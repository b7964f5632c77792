/**
 * The one PostgreSQL transaction of a push. In order: the write context (operator, reason, push
 * id) for the audit triggers; the push's row in config_pushes FIRST, so a retry of a push whose
 * COMMIT was lost (or that is still in flight on an orphaned connection) meets the primary key
 * and learns it already landed instead of applying twice; directory rows; metadata (fresh
 * drafts); then per level, most general first, multi-row DELETE / UPDATE / INSERT statements over
 * unnest(...) arrays; then the draft's template applications (one upsert). Every update and delete requires the row version the plan saw, every create
 * requires the slot to be empty (ON CONFLICT DO NOTHING); the affected rows are counted, and any
 * shortfall means production changed after the plan: the whole push rolls back and the slots are
 * reported as conflicts.
 */
import type pg from 'pg';
import { categoryOf } from '../core/keys.js';
import {
  canonicalDirectoryRow,
  type DirectoryKind,
  type DirectoryPlanItem,
  type DirectoryRow,
  type PlanItem,
} from '../core/plan.js';
import { LEVELS, StrataError } from '../core/types.js';
import type {
  ConfigEntry,
  Department,
  DirectoryUser,
  Group,
  KeyMetadata,
  Level,
  Slot,
  Tenant,
} from '../core/types.js';
import {
  writeMemberships,
  writeMetadataRows,
  type PostgresStore,
} from '../store/postgres-store.js';
import { entryFromRow } from '../store/sql-rows.js';
import type { EntryRow } from '../store/sql-rows.js';
import { describeSlot } from '../store/sqlite-store.js';
import { LEVEL_TABLES, slotKey } from '../store/store.js';
import { securityErrorFromPg } from './access.js';
import type { ProgressListener } from './draft-workspace.js';
import { writeApplications, type ApplicationRecord } from './template-store.js';

// Rows per statement: big enough to amortise round trips, small enough for modest parameters.
const CHUNK = 10_000;
// How long a push waits for a row another transaction holds before giving up (nothing written).
const LOCK_TIMEOUT = '30s';

/** Everything one push transaction writes. */
export interface PushTransaction {
  pushId: string;
  operator: string;
  reason: string | null;
  /** Recorded in config_pushes.source (the draft file). */
  source: string;
  /** Config items with a write (create, update, delete, or a settled conflict). */
  items: readonly PlanItem[];
  /** Directory items with a write. */
  directory: readonly DirectoryPlanItem[];
  /** Metadata rows to create where missing (fresh drafts). */
  metadata: readonly KeyMetadata[];
  /** Template applications the draft recorded since its pull (push-templates.ts pendingApplications). */
  applications?: readonly ApplicationRecord[];
  onProgress?: ProgressListener;
  /** Test seam: runs inside the transaction just before COMMIT. */
  beforeCommit?: () => Promise<void> | void;
}

/** What a landed push wrote: the config rows after it, and the slots it deleted. */
export interface PushWritten {
  rows: ConfigEntry[];
  deleted: Slot[];
}

/** The push id is already in config_pushes: it landed before (a retry after a lost COMMIT). */
export class PushAlreadyApplied extends Error {
  readonly pushId: string;
  constructor(pushId: string) {
    super(`Push ${pushId} was already applied.`);
    this.name = 'PushAlreadyApplied';
    this.pushId = pushId;
  }
}

/** One slot (or directory row) production changed after the plan. */
export interface PushConflictItem {
  kind: 'config' | 'directory';
  level: string;
  scope: string;
  key: string;
  /** Human name, e.g. `fax_backend (group emergency_doctors_group)`. */
  name: string;
}

/** The error for a push that met conflicts and wrote nothing. */
export function pushConflictError(
  conflicts: readonly PushConflictItem[],
  when: 'plan' | 'push',
  hint: string,
): StrataError {
  const shown = conflicts
    .slice(0, 5)
    .map((c) => c.name)
    .join(', ');
  const more = conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : '';
  const why =
    when === 'plan'
      ? 'production changed since the draft was pulled'
      : 'production changed after the plan; the whole push was rolled back';
  return new StrataError(
    'conflict',
    `Nothing was pushed: ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'} (${why}): ${shown}${more}; ${hint}`,
    { conflicts },
  );
}

/** True for errors that mean the connection itself is gone (outcome decided by the server). */
export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof StrataError || err instanceof PushAlreadyApplied) return false;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code.startsWith('57P')) return true;
  if (/^E[A-Z]+$/.test(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return (
    code === '' &&
    /Connection terminated|connection (is )?closed|not queryable|Client has encountered a connection error/i.test(
      msg,
    )
  );
}

function scopeSql(level: Level): string {
  switch (level) {
    case 'global':
      return "''::text";
    case 'department':
      return "(c.tenant_id || '/' || c.department)::text";
    default:
      return `c.${LEVEL_TABLES[level].scopeColumns[0]!}::text`;
  }
}

const RETURN_ROW = (level: Level): string =>
  `${scopeSql(level)}, c.key::text, c.value, c.value_type::text, c.encrypted, c.locked, c.version, c.updated_at, c.updated_by`;

/** A statement's parameter arrays, one per column. */
interface ItemColumns {
  /** One array per scope column of the level's table. */
  scopes: string[][];
  keys: string[];
  expected: Array<number | null>;
  values: string[];
  types: string[];
  encrypted: boolean[];
  locked: boolean[];
}

/**
 * The parameter arrays of a statement over `items`, filled in ONE pass: with 5,000 plan items
 * scattered over a large heap, every extra pass over them costs more than the arrays it builds.
 * Values are read only for writes that carry one (`withValues`; not for deletes).
 */
function columnsOf(level: Level, items: readonly PlanItem[], withValues: boolean): ItemColumns {
  const t = LEVEL_TABLES[level];
  const cols: ItemColumns = {
    scopes: t.scopeColumns.map(() => []),
    keys: [],
    expected: [],
    values: [],
    types: [],
    encrypted: [],
    locked: [],
  };
  const width = cols.scopes.length;
  for (const item of items) {
    if (width === 1) cols.scopes[0]!.push(item.scope);
    else if (width > 1) t.split(item.scope).forEach((part, i) => cols.scopes[i]!.push(part));
    cols.keys.push(item.key);
    cols.expected.push(item.expectedVersion);
    if (withValues) {
      const mine = item.mine!;
      cols.values.push(mine.value);
      cols.types.push(mine.valueType);
      cols.encrypted.push(mine.encrypted);
      cols.locked.push(mine.locked);
    }
  }
  return cols;
}

/**
 * The join of an UPDATE or DELETE to its level table: each unnest() row to its slot, plus the
 * first slot column (`$1`, the first parameter array) as an index condition of its own. That
 * second condition changes no result; it bounds the plan. As an application role the table's
 * row-level security policy is part of every index probe, and the planner prices a few thousand
 * probes above hashing the whole table, which then costs time in proportion to the table (at
 * x10: 300,000 rows read for a 5,000-row push) instead of the batch. With the condition the
 * table side is an index scan of the batch's scopes, whatever join the planner picks.
 */
function matchSql(level: Level): string {
  const cols = [...LEVEL_TABLES[level].scopeColumns, 'key'];
  const slot = cols.map((c) => `c.${c} = u.${c}`).join(' AND ');
  return `${slot} AND c.${cols[0]!} = ANY ($1::text[])`;
}

type WriteKind = 'delete' | 'update' | 'insert';
const WRITE_ORDER: readonly WriteKind[] = ['delete', 'update', 'insert'];

/** A push's config writes by level, each level's by kind: one pass over what may be 10,000s. */
function writesByLevel(items: readonly PlanItem[]): Map<Level, Record<WriteKind, PlanItem[]>> {
  const out = new Map<Level, Record<WriteKind, PlanItem[]>>();
  for (const item of items) {
    if (item.write === null) continue;
    let mine = out.get(item.level);
    if (mine === undefined) {
      mine = { delete: [], update: [], insert: [] };
      out.set(item.level, mine);
    }
    mine[item.write].push(item);
  }
  return out;
}

/**
 * The items a statement did not reach (production changed after the plan). Each slot is one row
 * and each row matches at most one item, so a full count means none is missing.
 */
function unmatched(items: readonly PlanItem[], reached: readonly Slot[]): PushConflictItem[] {
  if (reached.length === items.length) return [];
  const got = new Set(reached.map(slotKey));
  return items.filter((i) => !got.has(slotKey(i))).map(configConflict);
}

function configConflict(s: Slot): PushConflictItem {
  return { kind: 'config', level: s.level, scope: s.scope, key: s.key, name: describeSlot(s) };
}

function directoryConflict(kind: DirectoryKind, ref: string): PushConflictItem {
  return { kind: 'directory', level: kind, scope: ref, key: '', name: `${kind} ${ref}` };
}

async function deleteRows(
  c: pg.ClientBase,
  level: Level,
  items: readonly PlanItem[],
): Promise<Slot[]> {
  const t = LEVEL_TABLES[level];
  const cols = [...t.scopeColumns, 'key', 'expected'];
  const k = columnsOf(level, items, false);
  const arrays: unknown[] = [...k.scopes, k.keys, k.expected];
  const types = [...t.scopeColumns.map(() => 'text[]'), 'text[]', 'bigint[]'];
  const r = await c.query({
    text: `DELETE FROM ${t.table} AS c USING unnest(${types.map((ty, i) => `$${i + 1}::${ty}`).join(', ')}) AS u(${cols.join(', ')})
           WHERE ${matchSql(level)} AND c.version = u.expected
           RETURNING ${scopeSql(level)}, c.key::text`,
    values: arrays,
    rowMode: 'array',
  });
  return (r.rows as Array<[string, string]>).map(([scope, key]) => ({ level, scope, key }));
}

async function updateRows(
  c: pg.ClientBase,
  level: Level,
  items: readonly PlanItem[],
  operator: string,
): Promise<ConfigEntry[]> {
  const t = LEVEL_TABLES[level];
  const cols = [...t.scopeColumns, 'key', 'value', 'value_type', 'encrypted', 'locked', 'expected'];
  const types = [
    ...t.scopeColumns.map(() => 'text[]'),
    'text[]',
    'text[]',
    'text[]',
    'bool[]',
    'bool[]',
    'bigint[]',
  ];
  const v = columnsOf(level, items, true);
  const arrays: unknown[] = [
    ...v.scopes,
    v.keys,
    v.values,
    v.types,
    v.encrypted,
    v.locked,
    v.expected,
    operator,
  ];
  const r = await c.query({
    text: `UPDATE ${t.table} AS c SET value = u.value, value_type = u.value_type, encrypted = u.encrypted,
             locked = u.locked, updated_by = $${arrays.length},
             -- Bumped here, so the version trigger (0240) has nothing left to do per row.
             version = c.version + 1, updated_at = now()
           FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}`).join(', ')}) AS u(${cols.join(', ')})
           WHERE ${matchSql(level)} AND c.version = u.expected
           RETURNING ${RETURN_ROW(level)}`,
    values: arrays,
    rowMode: 'array',
  });
  return (r.rows as EntryRow[]).map((row) => entryFromRow(level, row));
}

async function insertRows(
  c: pg.ClientBase,
  level: Level,
  items: readonly PlanItem[],
  operator: string,
): Promise<ConfigEntry[]> {
  const t = LEVEL_TABLES[level];
  const cols = [...t.scopeColumns, 'key', 'value', 'value_type', 'encrypted', 'locked'];
  const types = [
    ...t.scopeColumns.map(() => 'text[]'),
    'text[]',
    'text[]',
    'text[]',
    'bool[]',
    'bool[]',
  ];
  const v = columnsOf(level, items, true);
  const arrays: unknown[] = [...v.scopes, v.keys, v.values, v.types, v.encrypted, v.locked];
  if (level === 'global') {
    // The seed's config_global.category column, kept filled for services that read it.
    cols.push('category');
    types.push('text[]');
    arrays.push(items.map((i) => categoryOf(i.key)));
  }
  arrays.push(operator);
  const op = `$${arrays.length}`;
  const r = await c.query({
    text: `INSERT INTO ${t.table} AS c (${cols.join(', ')}, created_by, updated_by)
           SELECT ${cols.map((n) => `u.${n}`).join(', ')}, ${op}, ${op}
           FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}`).join(', ')}) AS u(${cols.join(', ')})
           ON CONFLICT (${[...t.scopeColumns, 'key'].join(', ')}) DO NOTHING
           RETURNING ${RETURN_ROW(level)}`,
    values: arrays,
    rowMode: 'array',
  });
  return (r.rows as EntryRow[]).map((row) => entryFromRow(level, row));
}

// ---------------------------------------------------------------------------------------------
// Directory

const DIRECTORY_ORDER: readonly DirectoryKind[] = ['tenant', 'department', 'group', 'user'];

interface LiveDirectoryQuery {
  text: string;
  values: unknown[];
}

function lockQuery(kind: DirectoryKind, refs: readonly string[]): LiveDirectoryQuery {
  switch (kind) {
    case 'tenant':
      return {
        text: 'SELECT id, name, tenant_type FROM tenants WHERE id = ANY($1::text[]) FOR UPDATE',
        values: [refs],
      };
    case 'department':
      return {
        text: `SELECT d.tenant_id, d.id, d.name FROM departments d
               JOIN unnest($1::text[], $2::text[]) AS u(tenant_id, id) ON d.tenant_id = u.tenant_id AND d.id = u.id
               FOR UPDATE OF d`,
        values: [
          refs.map((r) => r.slice(0, r.indexOf('/'))),
          refs.map((r) => r.slice(r.indexOf('/') + 1)),
        ],
      };
    case 'group':
      return {
        text: 'SELECT id, tenant_id, department, name FROM groups WHERE id = ANY($1::text[]) FOR UPDATE',
        values: [refs],
      };
    case 'user':
      return {
        text: `SELECT u.id, u.tenant_id, u.department, u.display_name, u.email, u.traits, u.db_role,
                 ARRAY(SELECT m.group_id FROM group_members m WHERE m.user_id = u.id ORDER BY m.position) AS groups
               FROM users u WHERE u.id = ANY($1::text[]) FOR UPDATE OF u`,
        values: [refs],
      };
  }
}

function rowFromLive(kind: DirectoryKind, r: Record<string, unknown>): DirectoryRow {
  switch (kind) {
    case 'tenant':
      return {
        id: String(r.id),
        name: String(r.name),
        tenantType: (r.tenant_type as string | null) ?? null,
      };
    case 'department':
      return { tenantId: String(r.tenant_id), id: String(r.id), name: String(r.name) };
    case 'group':
      return {
        id: String(r.id),
        tenantId: (r.tenant_id as string | null) ?? null,
        department: (r.department as string | null) ?? null,
        name: String(r.name),
      };
    case 'user':
      return {
        id: String(r.id),
        tenantId: (r.tenant_id as string | null) ?? null,
        department: (r.department as string | null) ?? null,
        displayName: (r.display_name as string | null) ?? null,
        email: (r.email as string | null) ?? null,
        traits: (r.traits as string[]) ?? [],
        dbRole: (r.db_role as string | null) ?? null,
        groups: (r.groups as string[]) ?? [],
      };
  }
}

function refOfLive(kind: DirectoryKind, row: DirectoryRow): string {
  return kind === 'department' ? `${(row as Department).tenantId}/${row.id}` : row.id;
}

async function insertDirectory(
  c: pg.ClientBase,
  kind: DirectoryKind,
  rows: readonly DirectoryRow[],
): Promise<Set<string>> {
  let r: pg.QueryResult;
  switch (kind) {
    case 'tenant': {
      const t = rows as Tenant[];
      r = await c.query(
        `INSERT INTO tenants (id, name, tenant_type) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT DO NOTHING RETURNING id AS ref`,
        [t.map((x) => x.id), t.map((x) => x.name), t.map((x) => x.tenantType)],
      );
      break;
    }
    case 'department': {
      const d = rows as Department[];
      r = await c.query(
        `INSERT INTO departments (tenant_id, id, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT DO NOTHING RETURNING tenant_id || '/' || id AS ref`,
        [d.map((x) => x.tenantId), d.map((x) => x.id), d.map((x) => x.name)],
      );
      break;
    }
    case 'group': {
      const g = rows as Group[];
      r = await c.query(
        `INSERT INTO groups (id, tenant_id, department, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
         ON CONFLICT DO NOTHING RETURNING id AS ref`,
        [
          g.map((x) => x.id),
          g.map((x) => x.tenantId),
          g.map((x) => x.department),
          g.map((x) => x.name),
        ],
      );
      break;
    }
    case 'user': {
      const u = rows as DirectoryUser[];
      // Traits travel as JSON text per user: unnest would flatten a two-dimensional array.
      r = await c.query(
        `INSERT INTO users (id, tenant_id, department, display_name, email, traits, db_role)
         SELECT id, tenant_id, department, display_name, email, ARRAY(SELECT jsonb_array_elements_text(traits::jsonb)), db_role
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS x(id, tenant_id, department, display_name, email, traits, db_role)
         ON CONFLICT DO NOTHING RETURNING id AS ref`,
        [
          u.map((x) => x.id),
          u.map((x) => x.tenantId),
          u.map((x) => x.department),
          u.map((x) => x.displayName),
          u.map((x) => x.email),
          u.map((x) => JSON.stringify(x.traits)),
          u.map((x) => x.dbRole),
        ],
      );
      break;
    }
  }
  return new Set((r.rows as Array<{ ref: string }>).map((x) => x.ref));
}

async function updateDirectory(
  c: pg.ClientBase,
  kind: DirectoryKind,
  rows: readonly DirectoryRow[],
): Promise<void> {
  switch (kind) {
    case 'tenant': {
      const t = rows as Tenant[];
      await c.query(
        `UPDATE tenants AS c SET name = u.name, tenant_type = u.tenant_type
         FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, name, tenant_type) WHERE c.id = u.id`,
        [t.map((x) => x.id), t.map((x) => x.name), t.map((x) => x.tenantType)],
      );
      return;
    }
    case 'department': {
      const d = rows as Department[];
      await c.query(
        `UPDATE departments AS c SET name = u.name
         FROM unnest($1::text[], $2::text[], $3::text[]) AS u(tenant_id, id, name)
         WHERE c.tenant_id = u.tenant_id AND c.id = u.id`,
        [d.map((x) => x.tenantId), d.map((x) => x.id), d.map((x) => x.name)],
      );
      return;
    }
    case 'group': {
      const g = rows as Group[];
      await c.query(
        `UPDATE groups AS c SET tenant_id = u.tenant_id, department = u.department, name = u.name
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, tenant_id, department, name) WHERE c.id = u.id`,
        [
          g.map((x) => x.id),
          g.map((x) => x.tenantId),
          g.map((x) => x.department),
          g.map((x) => x.name),
        ],
      );
      return;
    }
    case 'user': {
      const u = rows as DirectoryUser[];
      await c.query(
        `UPDATE users AS c SET tenant_id = x.tenant_id, department = x.department, display_name = x.display_name,
           email = x.email, traits = ARRAY(SELECT jsonb_array_elements_text(x.traits::jsonb)), db_role = x.db_role
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS x(id, tenant_id, department, display_name, email, traits, db_role)
         WHERE c.id = x.id`,
        [
          u.map((x) => x.id),
          u.map((x) => x.tenantId),
          u.map((x) => x.department),
          u.map((x) => x.displayName),
          u.map((x) => x.email),
          u.map((x) => JSON.stringify(x.traits)),
          u.map((x) => x.dbRole),
        ],
      );
      return;
    }
  }
}

async function writeDirectory(
  c: pg.ClientBase,
  items: readonly DirectoryPlanItem[],
  conflicts: PushConflictItem[],
): Promise<void> {
  const users: DirectoryUser[] = [];
  for (const kind of DIRECTORY_ORDER) {
    const mine = items.filter((i) => i.kind === kind);
    if (mine.length === 0) continue;
    const creates = mine.filter((i) => i.live === null);
    const updates = mine.filter((i) => i.live !== null);
    if (updates.length > 0) {
      const q = lockQuery(
        kind,
        updates.map((i) => i.ref),
      );
      const found = new Map<string, DirectoryRow>();
      for (const r of (await c.query(q.text, q.values)).rows as Array<Record<string, unknown>>) {
        const row = rowFromLive(kind, r);
        found.set(refOfLive(kind, row), row);
      }
      for (const i of updates) {
        const now = found.get(i.ref) ?? null;
        if (canonicalDirectoryRow(kind, now) !== canonicalDirectoryRow(kind, i.live)) {
          conflicts.push(directoryConflict(kind, i.ref));
        }
      }
      await updateDirectory(
        c,
        kind,
        updates.map((i) => i.mine),
      );
    }
    if (creates.length > 0) {
      const made = await insertDirectory(
        c,
        kind,
        creates.map((i) => i.mine),
      );
      for (const i of creates) if (!made.has(i.ref)) conflicts.push(directoryConflict(kind, i.ref));
    }
    if (kind === 'user') users.push(...mine.map((i) => i.mine as DirectoryUser));
  }
  await writeMemberships(c, users);
}

/** Translates a database refusal raised inside the push into a StrataError. */
function refusal(err: unknown): unknown {
  if (err instanceof StrataError || err instanceof PushAlreadyApplied) return err;
  const security = securityErrorFromPg(err);
  if (security) return security;
  const e = err as { code?: string; message?: string };
  const msg = (e.message ?? 'unknown error').replace(/\.$/, '');
  if (e.code === '55P03') {
    return new StrataError(
      'conflict',
      'Nothing was pushed: rows the push needs stayed locked by another transaction; try again shortly.',
    );
  }
  if (e.code === '40001' || e.code === '40P01') {
    return new StrataError(
      'conflict',
      `Nothing was pushed: a concurrent change to the same rows won (${msg}); plan again and push.`,
    );
  }
  if (e.code === '23503') {
    return new StrataError(
      'invalid',
      `The database refused the push (a directory reference does not exist): ${msg}.`,
    );
  }
  if (e.code && /^(22|23|P0)/.test(e.code)) {
    return new StrataError('invalid', `The database refused the push: ${msg}.`);
  }
  return err;
}

/** The outcome of a transaction attempt whose connection failed. */
export class PushConnectionLost extends StrataError {
  /** 'rolled-back' when COMMIT was never sent; 'unknown' when it was. */
  readonly outcome: 'rolled-back' | 'unknown';
  constructor(target: string, pushId: string, outcome: 'rolled-back' | 'unknown') {
    super(
      'internal',
      outcome === 'rolled-back'
        ? `The connection to ${target} was lost during push ${pushId} before it committed, so nothing was applied; run the push again.`
        : `The connection to ${target} was lost while push ${pushId} was committing, so it may or may not have landed; run the push again: it checks push ${pushId} and never applies it twice.`,
      { pushId, outcome },
    );
    this.outcome = outcome;
  }
}

/**
 * Runs the push transaction. Resolves with the rows written; rejects with PushAlreadyApplied,
 * a conflict StrataError (nothing written), a refusal (forbidden / invalid; nothing written), or
 * PushConnectionLost.
 */
export async function applyPush(store: PostgresStore, tx: PushTransaction): Promise<PushWritten> {
  const client = await store.pool.connect();
  let broken = false;
  let commitSent = false;
  const total = tx.items.length + tx.directory.length;
  let done = 0;
  const step = (n: number): void => {
    done += n;
    tx.onProgress?.({ phase: 'push', done, total });
  };
  try {
    await client.query('BEGIN');
    // A push waits for rows another transaction holds, but not forever.
    await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    // The UPDATE and DELETE statements join their unnest() arrays to the level table on its
    // unique (scope, key) index (see matchSql). With the default random_page_cost (4, a spinning
    // disk) the planner prefers hashing the whole table (hundreds of thousands of rows) over a few
    // thousand index lookups into pages that are in memory; 1.1 prices them as they are.
    await client.query('SET LOCAL random_page_cost = 1.1');
    await client.query(
      "SELECT set_config('strata.operator', $1, true), set_config('strata.reason', $2, true), set_config('strata.push_id', $3, true)",
      [tx.operator, tx.reason ?? '', tx.pushId],
    );
    try {
      await client.query(
        'INSERT INTO config_pushes (id, operator, reason, item_count, source) VALUES ($1, $2, $3, $4, $5)',
        [tx.pushId, tx.operator, tx.reason, total, tx.source],
      );
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505') throw new PushAlreadyApplied(tx.pushId);
      throw err;
    }
    tx.onProgress?.({ phase: 'push', done: 0, total });
    const conflicts: PushConflictItem[] = [];
    if (tx.directory.length > 0) {
      await writeDirectory(client, tx.directory, conflicts);
      step(tx.directory.length);
    }
    await writeMetadataRows(client, tx.metadata, 'keep');
    const rows: ConfigEntry[] = [];
    const deleted: Slot[] = [];
    const writes = writesByLevel(tx.items);
    for (const level of LEVELS) {
      const mine = writes.get(level);
      if (mine === undefined) continue;
      // Deletes first, then updates, then creates, each in statements of up to CHUNK rows.
      for (const kind of WRITE_ORDER) {
        for (let i = 0; i < mine[kind].length; i += CHUNK) {
          const batch = mine[kind].slice(i, i + CHUNK);
          if (kind === 'delete') {
            conflicts.push(...unmatched(batch, await deleteRows(client, level, batch)));
            for (const d of batch) deleted.push({ level: d.level, scope: d.scope, key: d.key });
          } else {
            const write = kind === 'update' ? updateRows : insertRows;
            const after = await write(client, level, batch, tx.operator);
            conflicts.push(...unmatched(batch, after));
            for (const r of after) rows.push(r);
          }
          step(batch.length);
        }
      }
    }
    // After the rows they describe, in the same transaction: they land together or not at all.
    await writeApplications(client, tx.applications ?? [], tx.operator);
    if (conflicts.length > 0) {
      await client.query('ROLLBACK');
      throw pushConflictError(
        conflicts,
        'push',
        'plan again, resolve the conflicts and push again.',
      );
    }
    await tx.beforeCommit?.();
    commitSent = true;
    await client.query('COMMIT');
    return { rows, deleted };
  } catch (err) {
    if (isConnectionLoss(err)) {
      broken = true;
      throw new PushConnectionLost(store.target, tx.pushId, commitSent ? 'unknown' : 'rolled-back');
    }
    if (!commitSent) await client.query('ROLLBACK').catch(() => undefined);
    throw refusal(err);
  } finally {
    client.release(broken);
  }
}
