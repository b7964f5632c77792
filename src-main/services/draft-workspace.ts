/**
 * The SQLite side of the draft lifecycle: base lookups for plans, conflict resolutions, staged
 * directory changes, the push log, and replacing the base (pull, rebase, refresh after a push).
 * Every method that writes does so in ONE SQLite transaction that runs synchronously (no await
 * inside), so nothing else on the connection can interleave and a crash leaves either the old
 * or the new state (drafts run in WAL mode with synchronous=FULL).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { categoryOf } from '../core/keys.js';
import {
  DIRECTORY_KINDS,
  canonicalDirectoryRow,
  directoryRef,
  type DirectoryKind,
  type DirectoryRow,
  type PlanResolution,
  type PlanRow,
} from '../core/plan.js';
import { LEVELS, StrataError } from '../core/types.js';
import type {
  ConfigEntry,
  Department,
  Directory,
  DirectoryUser,
  Group,
  KeyMetadata,
  Level,
  Slot,
  Tenant,
} from '../core/types.js';
import { SqliteStore, writeMetadataRowsSync } from '../store/sqlite-store.js';
import {
  BatchInsert,
  brokenChecks,
  deleteRows,
  entryRow,
  entryShape,
  syncDirectorySync,
  syncEntriesSync,
  upsertDirectorySync,
  upsertRows,
  writeDirectoryFreshSync,
} from './draft-base-rows.js';
import type { StagedChangeRow } from '../store/sqlite-store.js';
import { LEVEL_TABLES, slotKey } from '../store/store.js';
import type { DirectoryUpsert, StoredTemplate, WriteContext } from '../store/store.js';

/** A progress report: which phase, how far (done of total units). */
export interface DraftProgress {
  phase: 'connect' | 'read' | 'write' | 'plan' | 'check' | 'push' | 'finalize' | 'refresh';
  done: number;
  total: number;
  message?: string;
}

/** Receives progress reports (the CLI prints them on stderr, the console shows a bar). */
export type ProgressListener = (p: DraftProgress) => void;

/** One active or past staged directory change. */
export interface StagedDirectoryRow {
  id: number;
  kind: DirectoryKind;
  ref: string;
  data: DirectoryRow;
  before: DirectoryRow | null;
  reason: string | null;
  author: string;
  createdAt: string;
  status: 'staged' | 'pushed' | 'discarded';
  pushId: string | null;
}

/** What a push settles in the draft once it is known to have landed. */
export interface PushSettles {
  written: number[];
  noop: number[];
  theirs: number[];
  dirWritten: number[];
  dirNoop: number[];
  dirTheirs: number[];
}

/** One row of draft_pushes. */
export interface DraftPushRecord {
  id: string;
  target: string;
  state: 'pending' | 'applied' | 'abandoned';
  settles: PushSettles;
  itemCount: number;
  fresh: boolean;
  operator: string;
  reason: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** Everything a base is made of. */
export interface BaseContent extends BaseExtraContent {
  entries: ConfigEntry[];
  directory: Directory;
}

/** The parts of a base the audit trail does not record. */
export interface BaseExtraContent {
  metadata: KeyMetadata[];
  templates: StoredTemplate[];
  /** Settings copied with the base (e.g. the policy rules); null values remove a setting. */
  settings?: Record<string, string | null>;
  /** Template applications of the source, upserted (the draft's own records are kept). */
  applications?: Array<{
    template: string;
    version: number;
    level: Level;
    scope: string;
    appliedAt: string | null;
    appliedBy: string | null;
  }>;
}

/** Where a base came from. */
export interface BaseSource {
  /** Connection target with the password removed. */
  source: string;
  environment: string | null;
  pulledAt: string;
  /** The source's audit head when the base was read (null: unknown). */
  auditHead?: AuditHead | null;
}

/** The newest link of a database's audit chain (strata_audit_head), as one role read it. */
export interface AuditHead {
  /** config_audit.seq, as text (a bigint). */
  seq: string;
  hash: string;
  /**
   * The database role that read the base (current_user): row-level security makes what a base
   * holds depend on it, so an unchanged chain vouches for the base only to the same role.
   * Null for a head recorded without it.
   */
  role: string | null;
}

/** What a draft's base holds, counted. */
export interface BaseCounts {
  entries: number;
  tenants: number;
  departments: number;
  groups: number;
  users: number;
}

/** Map key of a resolution. */
export function resolutionKey(
  kind: 'config' | 'directory',
  level: string,
  scope: string,
  key: string,
): string {
  return `${kind}\u0000${level}\u0000${scope}\u0000${key}`;
}

const EMPTY_SETTLES: PushSettles = {
  written: [],
  noop: [],
  theirs: [],
  dirWritten: [],
  dirNoop: [],
  dirTheirs: [],
};

function now(): string {
  return new Date().toISOString();
}

function rowOfEntry(e: ConfigEntry | null): PlanRow | null {
  return e
    ? {
        value: e.value,
        valueType: e.valueType,
        encrypted: e.encrypted,
        locked: e.locked,
        version: e.version,
      }
    : null;
}

/** Sorts directory upserts into the order foreign keys need. */
function directoryList(dir: DirectoryUpsert): Array<{ kind: DirectoryKind; row: DirectoryRow }> {
  const out: Array<{ kind: DirectoryKind; row: DirectoryRow }> = [];
  for (const t of dir.tenants ?? []) out.push({ kind: 'tenant', row: t });
  for (const d of dir.departments ?? []) out.push({ kind: 'department', row: d });
  for (const g of dir.groups ?? []) out.push({ kind: 'group', row: g });
  for (const u of dir.users ?? []) out.push({ kind: 'user', row: u });
  return out;
}

/** Normalises a directory row of a kind to exactly its fields. */
export function normaliseDirectoryRow(kind: DirectoryKind, row: DirectoryRow): DirectoryRow {
  switch (kind) {
    case 'tenant': {
      const t = row as Tenant;
      return { id: t.id, name: t.name, tenantType: t.tenantType ?? null };
    }
    case 'department': {
      const d = row as Department;
      return { tenantId: d.tenantId, id: d.id, name: d.name };
    }
    case 'group': {
      const g = row as Group;
      return {
        id: g.id,
        tenantId: g.tenantId ?? null,
        department: g.department ?? null,
        name: g.name,
      };
    }
    case 'user': {
      const u = row as DirectoryUser;
      return {
        id: u.id,
        tenantId: u.tenantId ?? null,
        department: u.department ?? null,
        groups: [...(u.groups ?? [])],
        traits: [...(u.traits ?? [])],
        displayName: u.displayName ?? null,
        email: u.email ?? null,
        dbRole: u.dbRole ?? null,
      };
    }
  }
}

/** Removes one directory row from the draft's tables. */
function deleteDirectoryRowSync(
  db: BetterSqlite3.Database,
  kind: DirectoryKind,
  ref: string,
): void {
  switch (kind) {
    case 'tenant':
      db.prepare('DELETE FROM tenants WHERE id = ?').run(ref);
      return;
    case 'department': {
      const slash = ref.indexOf('/');
      db.prepare('DELETE FROM departments WHERE tenant_id = ? AND id = ?').run(
        ref.slice(0, slash),
        ref.slice(slash + 1),
      );
      return;
    }
    case 'group':
      db.prepare('DELETE FROM groups WHERE id = ?').run(ref);
      return;
    case 'user':
      db.prepare('DELETE FROM users WHERE id = ?').run(ref);
      return;
  }
}

function upsertOf(kind: DirectoryKind, row: DirectoryRow): DirectoryUpsert {
  switch (kind) {
    case 'tenant':
      return { tenants: [row as Tenant] };
    case 'department':
      return { departments: [row as Department] };
    case 'group':
      return { groups: [row as Group] };
    case 'user':
      return { users: [row as DirectoryUser] };
  }
}

/** A draft workspace opened for its lifecycle operations. */
export class DraftWorkspace {
  readonly store: SqliteStore;
  private readonly owned: boolean;
  private readonly baseStatements = new Map<Level, BetterSqlite3.Statement>();

  private constructor(store: SqliteStore, owned: boolean) {
    this.store = store;
    this.owned = owned;
  }

  /** Opens a draft file (refusing anything that is not a Strata workspace, untouched). */
  static open(file: string): DraftWorkspace {
    return new DraftWorkspace(SqliteStore.open(file), true);
  }

  /** Wraps a store that someone else opened (and will close). */
  static wrap(store: SqliteStore): DraftWorkspace {
    return new DraftWorkspace(store, false);
  }

  /** The draft file's path. */
  get path(): string {
    return this.store.target;
  }

  get db(): BetterSqlite3.Database {
    return this.store.db;
  }

  /** Where the base was pulled from (password removed), or null for a fresh draft. */
  source(): string | null {
    return this.store.meta('source');
  }

  /** The source's environment label at the last pull. */
  environment(): string | null {
    return this.store.meta('environment');
  }

  /** When the base was last pulled or refreshed. */
  pulledAt(): string | null {
    return this.store.meta('pulled_at');
  }

  /** True for a draft with no source (its whole base is created by its first push). */
  isFresh(): boolean {
    return this.source() === null;
  }

  /** Active staged changes, oldest first. */
  stagedRows(): StagedChangeRow[] {
    return this.store.stagedChanges();
  }

  /** Staged-change rows by id (any status). */
  stagedRowsById(ids: readonly number[]): StagedChangeRow[] {
    if (ids.length === 0) return [];
    const wanted = new Set(ids);
    return this.store.stagedChanges({ all: true }).filter((r) => wanted.has(r.id));
  }

  /** The base-table row at a slot (what the draft holds under its staged changes). */
  baseTableRow(slot: Slot): ConfigEntry | null {
    let st = this.baseStatements.get(slot.level);
    if (!st) {
      const t = LEVEL_TABLES[slot.level];
      const where = [...t.scopeColumns, 'key'].map((c) => `${c} = ?`).join(' AND ');
      st = this.db.prepare(
        `SELECT value, value_type, encrypted, locked, version, updated_at, updated_by FROM ${t.table} WHERE ${where}`,
      );
      this.baseStatements.set(slot.level, st);
    }
    const r = st.get(...LEVEL_TABLES[slot.level].split(slot.scope), slot.key) as
      Record<string, unknown> | undefined;
    if (!r) return null;
    return {
      ...slot,
      value: String(r.value),
      valueType: r.value_type as ConfigEntry['valueType'],
      encrypted: r.encrypted === 1,
      locked: r.locked === 1,
      version: Number(r.version),
      updatedAt: String(r.updated_at),
      updatedBy: (r.updated_by as string | null) ?? null,
    };
  }

  /**
   * The base-table rows at many slots (null where the base has none), by slot key: per level,
   * ONE statement joining the slots (a JSON list) to the level's unique (scope, key) index. A
   * statement per slot cost about 8 µs each, which 30,000 slots of a large plan add up.
   */
  private baseRows(slots: Iterable<Slot>): Map<string, PlanRow | null> {
    const out = new Map<string, PlanRow | null>();
    const byLevel = new Map<Level, Slot[]>();
    for (const slot of slots) {
      const k = slotKey(slot);
      if (out.has(k)) continue;
      out.set(k, null);
      const list = byLevel.get(slot.level);
      if (list) list.push(slot);
      else byLevel.set(slot.level, [slot]);
    }
    for (const [level, list] of byLevel) {
      const t = LEVEL_TABLES[level];
      const on = [...t.scopeColumns, 'key'].map((c, i) => `c.${c} = j.value ->> ${i}`);
      const rows = this.db
        .prepare(
          `SELECT j.key, c.value, c.value_type, c.encrypted, c.locked, c.version
           FROM json_each(?) j JOIN ${t.table} c ON ${on.join(' AND ')}`,
        )
        .raw()
        .all(JSON.stringify(list.map((x) => [...t.split(x.scope), x.key]))) as Array<
        [number, string, string, number, number, number]
      >;
      for (const [i, value, valueType, encrypted, locked, version] of rows) {
        out.set(slotKey(list[i]!), {
          value,
          valueType: valueType as PlanRow['valueType'],
          encrypted: encrypted === 1,
          locked: locked === 1,
          version: Number(version),
        });
      }
    }
    return out;
  }

  /** Base rows kept for staged changes whose base a rebase moved, by slot key. */
  keptBases(): Map<string, PlanRow | null> {
    const rows = this.db
      .prepare(
        'SELECT level, scope, key, present, value, value_type, encrypted, locked, version FROM staged_base',
      )
      .all() as Array<Record<string, unknown>>;
    const out = new Map<string, PlanRow | null>();
    for (const r of rows) {
      const slot = { level: r.level as Level, scope: String(r.scope), key: String(r.key) };
      out.set(
        slotKey(slot),
        r.present === 1
          ? {
              value: String(r.value),
              valueType: r.value_type as PlanRow['valueType'],
              encrypted: r.encrypted === 1,
              locked: r.locked === 1,
              version: Number(r.version),
            }
          : null,
      );
    }
    return out;
  }

  /**
   * A base lookup for plans: the kept base of a rebased change, else the base table. The
   * `slots` a plan is going to ask for are read up front, in one statement per level; any
   * other slot is read when asked, once (a plan asks for the same parent slots over and over:
   * every user change for its groups', department's, tenant's and the global row of its key).
   */
  baseLookup(slots: Iterable<Slot> = []): (slot: Slot) => PlanRow | null {
    const kept = this.keptBases();
    const read = this.baseRows(slots);
    return (slot) => {
      const k = slotKey(slot);
      if (kept.has(k)) return kept.get(k) ?? null;
      let row = read.get(k);
      if (row === undefined) {
        row = rowOfEntry(this.baseTableRow(slot));
        read.set(k, row);
      }
      return row;
    };
  }

  /** Recorded conflict resolutions, by resolutionKey(). */
  resolutions(): Map<string, PlanResolution> {
    const rows = this.db
      .prepare('SELECT item_kind, level, scope, key, choice, live_token FROM draft_resolutions')
      .all() as Array<Record<string, string>>;
    const out = new Map<string, PlanResolution>();
    for (const r of rows) {
      out.set(resolutionKey(r.item_kind as 'config' | 'directory', r.level!, r.scope!, r.key!), {
        choice: r.choice as PlanResolution['choice'],
        liveToken: r.live_token!,
      });
    }
    return out;
  }

  /** Records (or replaces) how a conflict is settled, bound to the live state it was made against. */
  setResolution(
    kind: 'config' | 'directory',
    level: string,
    scope: string,
    key: string,
    r: PlanResolution,
    author: string,
  ): void {
    this.db
      .prepare(
        `INSERT INTO draft_resolutions (item_kind, level, scope, key, choice, live_token, author) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (item_kind, level, scope, key) DO UPDATE SET choice = excluded.choice, live_token = excluded.live_token,
           author = excluded.author, created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      )
      .run(kind, level, scope, key, r.choice, r.liveToken, author);
  }

  // -------------------------------------------------------------------------------------------
  // Staged directory changes

  /** Staged directory changes; by default only the active ones, oldest first. */
  stagedDirectory(opts: { all?: boolean } = {}): StagedDirectoryRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, kind, ref, data, before, reason, author, created_at, status, push_id FROM staged_directory
         ${opts.all ? '' : "WHERE status = 'staged'"} ORDER BY id`,
      )
      .all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind as DirectoryKind,
      ref: String(r.ref),
      data: JSON.parse(String(r.data)) as DirectoryRow,
      before: r.before === null ? null : (JSON.parse(String(r.before)) as DirectoryRow),
      reason: (r.reason as string | null) ?? null,
      author: String(r.author),
      createdAt: String(r.created_at),
      status: r.status as StagedDirectoryRow['status'],
      pushId: (r.push_id as string | null) ?? null,
    }));
  }

  /** The draft's directory row of a kind (base tables, which include staged rows). */
  directoryRow(kind: DirectoryKind, ref: string): DirectoryRow | null {
    const db = this.db;
    switch (kind) {
      case 'tenant': {
        const r = db.prepare('SELECT id, name, tenant_type FROM tenants WHERE id = ?').get(ref) as
          Record<string, unknown> | undefined;
        return r
          ? {
              id: String(r.id),
              name: String(r.name),
              tenantType: (r.tenant_type as string) ?? null,
            }
          : null;
      }
      case 'department': {
        const slash = ref.indexOf('/');
        const r = db
          .prepare('SELECT tenant_id, id, name FROM departments WHERE tenant_id = ? AND id = ?')
          .get(ref.slice(0, slash), ref.slice(slash + 1)) as Record<string, unknown> | undefined;
        return r ? { tenantId: String(r.tenant_id), id: String(r.id), name: String(r.name) } : null;
      }
      case 'group': {
        const r = db
          .prepare('SELECT id, tenant_id, department, name FROM groups WHERE id = ?')
          .get(ref) as Record<string, unknown> | undefined;
        return r
          ? {
              id: String(r.id),
              tenantId: (r.tenant_id as string | null) ?? null,
              department: (r.department as string | null) ?? null,
              name: String(r.name),
            }
          : null;
      }
      case 'user': {
        const r = db
          .prepare(
            'SELECT id, tenant_id, department, display_name, email, traits, db_role FROM users WHERE id = ?',
          )
          .get(ref) as Record<string, unknown> | undefined;
        if (!r) return null;
        const groups = db
          .prepare('SELECT group_id FROM group_members WHERE user_id = ? ORDER BY position')
          .pluck()
          .all(ref) as string[];
        return {
          id: String(r.id),
          tenantId: (r.tenant_id as string | null) ?? null,
          department: (r.department as string | null) ?? null,
          displayName: (r.display_name as string | null) ?? null,
          email: (r.email as string | null) ?? null,
          traits: JSON.parse(String(r.traits)) as string[],
          dbRole: (r.db_role as string | null) ?? null,
          groups,
        };
      }
    }
  }

  /**
   * Stages directory rows: each is recorded in staged_directory (with the base row it replaces)
   * and written into the draft's directory tables so reads of the draft see it. Restaging a row
   * keeps its original base; staging it back to exactly its base drops the staged row. Runs in
   * one transaction (a savepoint when the caller already holds one).
   */
  stageDirectorySync(dir: DirectoryUpsert, ctx: WriteContext): StagedDirectoryRow[] {
    const list = directoryList(dir).map(({ kind, row }) => ({
      kind,
      row: normaliseDirectoryRow(kind, row),
    }));
    const seen = new Set<string>();
    for (const { kind, row } of list) {
      const k = `${kind}\u0000${directoryRef(kind, row)}`;
      if (seen.has(k)) {
        throw new StrataError(
          'invalid',
          `The directory change names ${kind} ${directoryRef(kind, row)} more than once.`,
        );
      }
      seen.add(k);
    }
    const run = this.db.transaction((): number[] => {
      const at = now();
      const ids: number[] = [];
      const active = this.db.prepare(
        "SELECT id, before FROM staged_directory WHERE status = 'staged' AND kind = ? AND ref = ?",
      );
      const discard = this.db.prepare(
        "UPDATE staged_directory SET status = 'discarded' WHERE id = ?",
      );
      const insert = this.db.prepare(
        `INSERT INTO staged_directory (kind, ref, data, before, reason, author) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      );
      for (const { kind, row } of list) {
        const ref = directoryRef(kind, row);
        const prev = active.get(kind, ref) as { id: number; before: string | null } | undefined;
        const before = prev
          ? prev.before === null
            ? null
            : (JSON.parse(prev.before) as DirectoryRow)
          : this.directoryRow(kind, ref);
        if (prev) discard.run(prev.id);
        upsertDirectorySync(this.db, upsertOf(kind, row), at);
        if (canonicalDirectoryRow(kind, before) === canonicalDirectoryRow(kind, row)) continue;
        const r = insert.get(
          kind,
          ref,
          JSON.stringify(row),
          before === null ? null : JSON.stringify(before),
          ctx.reason,
          ctx.operator,
        ) as { id: number };
        ids.push(r.id);
      }
      return ids;
    });
    const ids = new Set(run.immediate());
    return this.stagedDirectory().filter((r) => ids.has(r.id));
  }

  /** Discards staged directory rows (all active ones when ids is null), restoring their base. */
  discardDirectorySync(ids: readonly number[] | null): number {
    const wanted = ids === null ? null : new Set(ids);
    const rows = this.stagedDirectory().filter((r) => wanted === null || wanted.has(r.id));
    if (rows.length === 0) return 0;
    this.db
      .transaction(() => {
        const at = now();
        // Most specific first, so a restored tenant is not removed by its department's undo.
        const order = [...rows].sort(
          (a, b) => DIRECTORY_KINDS.indexOf(b.kind) - DIRECTORY_KINDS.indexOf(a.kind),
        );
        const mark = this.db.prepare(
          "UPDATE staged_directory SET status = 'discarded' WHERE id = ?",
        );
        const resolution = this.db.prepare(
          "DELETE FROM draft_resolutions WHERE item_kind = 'directory' AND level = ? AND scope = ?",
        );
        for (const r of order) {
          if (r.before === null) deleteDirectoryRowSync(this.db, r.kind, r.ref);
          else upsertDirectorySync(this.db, upsertOf(r.kind, r.before), at);
          mark.run(r.id);
          resolution.run(r.kind, r.ref);
        }
      })
      .immediate();
    return rows.length;
  }

  /** Discards staged changes (all active ones when ids is null) with their plan bookkeeping. */
  discardSync(ids: readonly number[] | null): number {
    const wanted = ids === null ? null : new Set(ids);
    const rows = this.stagedRows().filter((r) => wanted === null || wanted.has(r.id));
    if (rows.length === 0) return 0;
    this.db
      .transaction(() => {
        const mark = this.db.prepare("UPDATE staged_changes SET status = 'discarded' WHERE id = ?");
        for (const r of rows) mark.run(r.id);
        this.forgetSlotsSync(rows);
      })
      .immediate();
    return rows.length;
  }

  /** Drops the kept base and the recorded resolution of each slot (statements prepared once). */
  private forgetSlotsSync(slots: readonly Slot[]): void {
    if (slots.length === 0) return;
    const base = this.db.prepare(
      'DELETE FROM staged_base WHERE level = ? AND scope = ? AND key = ?',
    );
    const resolution = this.db.prepare(
      "DELETE FROM draft_resolutions WHERE item_kind = 'config' AND level = ? AND scope = ? AND key = ?",
    );
    for (const slot of slots) {
      base.run(slot.level, slot.scope, slot.key);
      resolution.run(slot.level, slot.scope, slot.key);
    }
  }

  /** The directory the base holds: the tables with every active staged row undone. */
  async baseDirectory(): Promise<Directory> {
    const staged = this.stagedDirectory();
    return undoStagedDirectory(await this.store.readDirectory(), staged);
  }

  // -------------------------------------------------------------------------------------------
  // Pushes

  /** The pending push to a target, if a previous attempt did not record its outcome. */
  pendingPush(target: string): DraftPushRecord | null {
    const r = this.db
      .prepare(
        "SELECT * FROM draft_pushes WHERE state = 'pending' AND target = ? ORDER BY created_at DESC LIMIT 1",
      )
      .get(target) as Record<string, unknown> | undefined;
    return r ? pushRecordOf(r) : null;
  }

  /** Every pending push (any target). */
  pendingPushes(): DraftPushRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM draft_pushes WHERE state = 'pending' ORDER BY created_at")
        .all() as Array<Record<string, unknown>>
    ).map(pushRecordOf);
  }

  /** Makes a push durable in the draft before anything is sent to the target. */
  recordPendingPush(rec: Omit<DraftPushRecord, 'state' | 'createdAt' | 'finishedAt'>): void {
    this.db
      .transaction(() => {
        this.db
          .prepare(
            "UPDATE draft_pushes SET state = 'abandoned', finished_at = ? WHERE state = 'pending' AND target = ? AND id <> ?",
          )
          .run(now(), rec.target, rec.id);
        this.db
          .prepare(
            `INSERT INTO draft_pushes (id, target, state, settles, item_count, fresh, operator, reason)
             VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET settles = excluded.settles, item_count = excluded.item_count,
               operator = excluded.operator, reason = excluded.reason, state = 'pending'`,
          )
          .run(
            rec.id,
            rec.target,
            JSON.stringify(rec.settles),
            rec.itemCount,
            rec.fresh ? 1 : 0,
            rec.operator,
            rec.reason,
          );
      })
      .immediate();
  }

  /**
   * Records that a push landed: its staged rows become 'pushed' (no-ops too) or 'discarded'
   * (conflicts settled as theirs), the pushed slots' base rows take the target's new rows, the
   * plan bookkeeping of those slots is dropped, and a fresh draft takes the target as its source.
   * One transaction; running it twice changes nothing the second time.
   */
  finalizePushSync(
    rec: DraftPushRecord,
    after: { rows: ConfigEntry[]; deleted: Slot[] } | null,
    source: BaseSource | null,
    opts: { record?: boolean } = {},
  ): void {
    const s = rec.settles;
    // A push that sent nothing (only no-ops and "theirs") has no id in the target.
    const pushId = opts.record === false ? null : rec.id;
    this.db
      .transaction(() => {
        const mark = this.db.prepare(
          "UPDATE staged_changes SET status = ?, push_id = ? WHERE id = ? AND status = 'staged'",
        );
        const settled = this.stagedRowsById([...s.written, ...s.noop, ...s.theirs]);
        for (const id of [...s.written, ...s.noop]) mark.run('pushed', pushId, id);
        for (const id of s.theirs) mark.run('discarded', null, id);
        this.forgetSlotsSync(settled);
        const dmark = this.db.prepare(
          "UPDATE staged_directory SET status = ?, push_id = ? WHERE id = ? AND status = 'staged'",
        );
        for (const id of [...s.dirWritten, ...s.dirNoop]) dmark.run('pushed', pushId, id);
        for (const id of s.dirTheirs) dmark.run('discarded', null, id);
        this.db.prepare("DELETE FROM draft_resolutions WHERE item_kind = 'directory'").run();
        if (after) {
          this.upsertBaseEntriesSync(after.rows);
          this.deleteBaseEntriesSync(after.deleted);
        }
        if (pushId !== null) {
          this.db
            .prepare("UPDATE draft_pushes SET state = 'applied', finished_at = ? WHERE id = ?")
            .run(now(), pushId);
        }
        if (source) {
          this.store.setMeta('source', source.source);
          this.store.setMeta('environment', source.environment);
        }
      })
      .immediate();
  }

  private upsertBaseEntriesSync(rows: readonly ConfigEntry[]): void {
    const at = now();
    for (const level of LEVELS) {
      const mine = rows.filter((e) => e.level === level);
      upsertRows(this.db, entryShape(level), mine.map(entryRow), at);
    }
  }

  private deleteBaseEntriesSync(slots: readonly Slot[]): void {
    for (const level of LEVELS) {
      const t = LEVEL_TABLES[level];
      const mine = slots.filter((s) => s.level === level);
      deleteRows(
        this.db,
        entryShape(level),
        mine.map((s) => [...t.split(s.scope), s.key]),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // The base

  /** Records where and when the base was read (inside the caller's transaction). */
  recordSourceSync(from: BaseSource): void {
    this.store.setMeta('source', from.source);
    this.store.setMeta('environment', from.environment);
    this.store.setMeta('pulled_at', from.pulledAt);
    const head = from.auditHead ?? null;
    this.store.setMeta('audit_head', head === null ? null : `${head.seq}:${head.hash}`);
    this.store.setMeta('source_role', head?.role ?? null);
  }

  /** The source's audit head when the base was read, or null when not known. */
  auditHead(): AuditHead | null {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(this.store.meta('audit_head') ?? '');
    return m ? { seq: m[1]!, hash: m[2]!, role: this.store.meta('source_role') } : null;
  }

  /** How many entries and directory rows the base holds. */
  baseCounts(): BaseCounts {
    const count = (table: string): number =>
      this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return {
      entries: LEVELS.reduce((n, l) => n + count(LEVEL_TABLES[l].table), 0),
      tenants: count('tenants'),
      departments: count('departments'),
      groups: count('groups'),
      users: count('users'),
    };
  }

  /**
   * Replaces the parts of the base the audit trail does not record (metadata, templates,
   * settings, template applications) and records the source, in one transaction: the refresh
   * after a push that was the only change to the source (see refreshAfterPush).
   */
  replaceExtrasSync(extras: BaseExtraContent, from: BaseSource): void {
    const db = this.db;
    db.transaction(() => {
      writeBaseExtrasSync(db, extras);
      this.recordSourceSync(from);
    }).immediate();
  }

  /**
   * Replaces the base with `content` (a pull into a new draft, a rebase, the refresh after a
   * push) in ONE transaction, keeping every staged change: a staged change whose slot moved
   * keeps the base it was made against (staged_base), so the plan shows the conflict; staged
   * directory rows are written again over the new directory.
   */
  replaceBaseSync(content: BaseContent, from: BaseSource, onProgress?: ProgressListener): void {
    const db = this.db;
    const total = content.entries.length;
    const run = db.transaction(() => {
      const staged = this.stagedRows();
      if (staged.length > 0) {
        const incoming = new Map<string, ConfigEntry>();
        const wanted = new Set(staged.map((s) => slotKey(s)));
        for (const e of content.entries) {
          const k = slotKey(e);
          if (wanted.has(k)) incoming.set(k, e);
        }
        const kept = this.keptBases();
        const keep = db.prepare(
          `INSERT INTO staged_base (level, scope, key, present, value, value_type, encrypted, locked, version, updated_at, updated_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        const drop = db.prepare(
          'DELETE FROM staged_base WHERE level = ? AND scope = ? AND key = ?',
        );
        for (const s of staged) {
          const k = slotKey(s);
          const next = incoming.get(k) ?? null;
          if (kept.has(k)) {
            // Production came back to exactly the row the change was based on.
            const was = kept.get(k) ?? null;
            if ((was?.version ?? null) === (next?.version ?? null))
              drop.run(s.level, s.scope, s.key);
            continue;
          }
          const old = this.baseTableRow(s);
          if ((old?.version ?? null) === (next?.version ?? null)) continue;
          keep.run(
            s.level,
            s.scope,
            s.key,
            old ? 1 : 0,
            old?.value ?? null,
            old?.valueType ?? null,
            old?.encrypted ? 1 : 0,
            old?.locked ? 1 : 0,
            old?.version ?? null,
            old?.updatedAt ?? null,
            old?.updatedBy ?? null,
          );
        }
      }
      // Only what differs is written (see draft-base-rows.ts); metadata and templates, a few
      // hundred rows, are replaced whole.
      const at = now();
      syncEntriesSync(db, content.entries, at, (done) =>
        onProgress?.({ phase: 'write', done, total }),
      );
      syncDirectorySync(db, content.directory, at);
      writeBaseExtrasSync(db, content);
      const restage = this.stagedDirectory().sort(
        (a, b) => DIRECTORY_KINDS.indexOf(a.kind) - DIRECTORY_KINDS.indexOf(b.kind) || a.id - b.id,
      );
      for (const r of restage) upsertDirectorySync(db, upsertOf(r.kind, r.data), at);
      this.recordSourceSync(from);
    });
    onProgress?.({ phase: 'write', done: 0, total });
    run.immediate();
    onProgress?.({ phase: 'write', done: total, total });
  }

  /** Closes the draft when this workspace opened it. */
  async close(): Promise<void> {
    if (this.owned) await this.store.close();
  }
}

/** Undoes staged directory rows over a directory (their base rows back, new rows removed). */
export function undoStagedDirectory(
  dir: Directory,
  staged: readonly StagedDirectoryRow[],
): Directory {
  if (staged.length === 0) return dir;
  const out: Directory = {
    tenants: [...dir.tenants],
    departments: [...dir.departments],
    groups: [...dir.groups],
    users: [...dir.users],
  };
  const listOf = (kind: DirectoryKind): DirectoryRow[] =>
    kind === 'tenant'
      ? out.tenants
      : kind === 'department'
        ? out.departments
        : kind === 'group'
          ? out.groups
          : out.users;
  for (const r of staged) {
    const list = listOf(r.kind);
    const i = list.findIndex((x) => directoryRef(r.kind, x) === r.ref);
    if (i >= 0) list.splice(i, 1);
    if (r.before !== null) list.push(r.before);
  }
  return out;
}

function pushRecordOf(r: Record<string, unknown>): DraftPushRecord {
  let settles: PushSettles;
  try {
    settles = { ...EMPTY_SETTLES, ...(JSON.parse(String(r.settles)) as Partial<PushSettles>) };
  } catch {
    settles = EMPTY_SETTLES;
  }
  return {
    id: String(r.id),
    target: String(r.target),
    state: r.state as DraftPushRecord['state'],
    settles,
    itemCount: Number(r.item_count),
    fresh: r.fresh === 1,
    operator: String(r.operator),
    reason: (r.reason as string | null) ?? null,
    createdAt: String(r.created_at),
    finishedAt: (r.finished_at as string | null) ?? null,
  };
}

function writeTemplatesSync(
  db: BetterSqlite3.Database,
  templates: readonly StoredTemplate[],
): void {
  if (templates.length === 0) return;
  const st = db.prepare(
    `INSERT INTO config_templates (name, description, target_level, template_data, traits, version, provider_name, category, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), ?)`,
  );
  for (const t of templates) {
    st.run(
      t.name,
      t.description,
      t.targetLevel,
      JSON.stringify(t.templateData),
      JSON.stringify(t.traits),
      t.version,
      t.providerName,
      t.category,
      t.createdAt,
      t.createdBy,
    );
  }
}

/** The tables a base fills (directory, levels, metadata, templates). */
const BASE_TABLES: readonly string[] = [
  'group_members',
  'users',
  'groups',
  'departments',
  'tenants',
  ...LEVELS.map((l) => LEVEL_TABLES[l].table),
  'configuration_metadata',
  'config_templates',
];

/**
 * Replaces the metadata and templates of a base with `content`'s, and writes its settings and
 * template applications.
 */
function writeBaseExtrasSync(db: BetterSqlite3.Database, content: BaseExtraContent): void {
  for (const table of ['configuration_metadata', 'config_templates']) {
    db.prepare(`DELETE FROM ${table}`).run();
  }
  writeMetadataRowsSync(db, content.metadata, 'fail');
  writeTemplatesSync(db, content.templates);
  for (const [k, v] of Object.entries(content.settings ?? {})) {
    if (v === null) db.prepare('DELETE FROM strata_settings WHERE key = ?').run(k);
    else
      db.prepare(
        'INSERT INTO strata_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(k, v);
  }
  if (content.applications !== undefined) {
    // The rows a pull copied are replaced; the draft's own stay (its next push records them),
    // unless the target holds the same application at the same version: then it is the
    // target's (see migrations/sqlite/0004_application_origin.sql).
    db.prepare('DELETE FROM template_applications WHERE from_target = 1').run();
  }
  if (content.applications?.length) {
    const app = db.prepare(
      `INSERT INTO template_applications (template_name, version, level, scope, applied_at, applied_by, from_target)
       VALUES (?, ?, ?, ?, coalesce(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), ?, 1)
       ON CONFLICT (template_name, level, scope) DO UPDATE SET version = excluded.version,
         applied_at = excluded.applied_at, applied_by = excluded.applied_by, from_target = 1
       WHERE template_applications.version = excluded.version`,
    );
    for (const a of content.applications) {
      app.run(a.template, a.version, a.level, a.scope, a.appliedAt, a.appliedBy);
    }
  }
}

/**
 * Values of one entry in a flat row, after the level's scope columns (none for global, tenant
 * and department for a department): key, value, value_type, encrypted (0/1), locked (0/1),
 * version, updated_at, updated_by. A chunk of a level is its rows laid end to end in one array.
 */
const FLAT_ENTRY_FIELDS = 8;

/** Values per row of a level in a flat chunk. */
export function flatWidth(level: Level): number {
  return LEVEL_TABLES[level].scopeColumns.length + FLAT_ENTRY_FIELDS;
}

/** Inserts flat entry rows (see FLAT_ENTRY_FIELDS) into a draft's base tables. */
class EntryWriter {
  private readonly inserts = new Map<Level, BatchInsert>();
  written = 0;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly at: string,
  ) {}

  private insert(level: Level): BatchInsert {
    let ins = this.inserts.get(level);
    if (ins === undefined) {
      // The load time is the same for every row: a literal, not one more value per row.
      ins = BatchInsert.of(this.db, entryShape(level), this.at);
      this.inserts.set(level, ins);
    }
    return ins;
  }

  /** Writes the rows of one flat chunk; returns how many. */
  write(level: Level, flat: readonly unknown[]): number {
    let rows = flat;
    if (level === 'global') {
      // The category column is derived from the key; the global level is a few hundred rows.
      const w = flatWidth(level);
      const withCategory: unknown[] = [];
      for (let r = 0; r < flat.length; r += w) {
        for (let c = 0; c < w; c++) withCategory.push(flat[r + c]);
        withCategory.push(categoryOf(String(flat[r])));
      }
      rows = withCategory;
    }
    const n = this.insert(level).run(rows);
    this.written += n;
    return n;
  }
}

/**
 * Loads a base into a NEW, empty workspace chunk by chunk while the rows are still arriving:
 * the pull into a temporary file. The file is built without a journal and without syncs (one
 * transaction, a large page cache) because nobody can see it yet and a failed build is
 * deleted, never repaired; finish() puts the file back into WAL mode with synchronous=FULL, and
 * the caller must fsync it before renaming it into place. Never use it on a draft someone can
 * already open: a crash in the middle would leave that file damaged.
 */
export class FreshBaseLoader {
  private readonly writer: EntryWriter;
  private done = false;
  private restWritten = false;

  private constructor(
    private readonly ws: DraftWorkspace,
    private readonly at: string,
    private readonly indexes: readonly string[],
  ) {
    this.writer = new EntryWriter(ws.db, at);
  }

  /** Starts loading into an empty workspace (refuses one that holds a base or staged rows). */
  static begin(ws: DraftWorkspace): FreshBaseLoader {
    const db = ws.db;
    const used = db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM staged_changes) OR EXISTS (SELECT 1 FROM staged_directory) OR ${LEVELS.map(
          (l) => `EXISTS (SELECT 1 FROM ${LEVEL_TABLES[l].table})`,
        ).join(' OR ')}`,
      )
      .pluck()
      .get();
    if (used !== 0) {
      throw new StrataError(
        'internal',
        `Draft ${ws.path} is not empty; a fresh load needs an empty file.`,
      );
    }
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -131072');
    // The rows come from PostgreSQL, whose constraints these restate (plus a few of SQLite's
    // own); finish() tests every CHECK once per table instead of once per inserted row.
    db.pragma('ignore_check_constraints = ON');
    db.exec('BEGIN IMMEDIATE');
    // Secondary indexes of the base tables are built once, after the rows are in (a sort
    // instead of one random B-tree insert per row); finish() recreates them from their own SQL.
    const indexes = db
      .prepare(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
         AND tbl_name IN (${BASE_TABLES.map(() => '?').join(', ')})`,
      )
      .all(...BASE_TABLES) as Array<{ name: string; sql: string }>;
    for (const i of indexes) db.exec(`DROP INDEX "${i.name.replace(/"/g, '""')}"`);
    return new FreshBaseLoader(
      ws,
      now(),
      indexes.map((i) => i.sql),
    );
  }

  /** Writes one flat chunk of a level's entries (see FLAT_ENTRY_FIELDS). */
  addEntries(level: Level, flat: readonly unknown[]): void {
    this.writer.write(level, flat);
  }

  /**
   * Writes everything of the base but its entries (once; entries may still follow: a pull
   * writes the directory as soon as it has it, between chunks of entries).
   */
  addRest(rest: Omit<BaseContent, 'entries'>): void {
    if (this.done || this.restWritten) {
      throw new StrataError('internal', 'The rest of the base was written twice or too late.');
    }
    writeDirectoryFreshSync(this.ws.db, rest.directory, this.at);
    writeBaseExtrasSync(this.ws.db, rest);
    this.restWritten = true;
  }

  /** Records the source, builds the indexes, commits, and restores the durable settings. */
  finish(from: BaseSource): void {
    if (!this.restWritten) throw new StrataError('internal', 'The base has no directory yet.');
    const db = this.ws.db;
    const broken = brokenChecks(db, BASE_TABLES);
    if (broken.length > 0) {
      const list = broken.map((b) => `${b.rows} row(s) of ${b.table} break CHECK (${b.check})`);
      throw new StrataError(
        'invalid',
        `The source holds rows a draft cannot keep: ${list.join('; ')}. Nothing was written.`,
      );
    }
    for (const sql of this.indexes) db.exec(sql);
    this.ws.recordSourceSync(from);
    db.exec('COMMIT');
    this.done = true;
    this.restore();
  }

  /** Abandons the load (the caller deletes the file). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.ws.db.pragma('ignore_check_constraints = OFF');
    try {
      if (this.ws.db.inTransaction) this.ws.db.exec('ROLLBACK');
    } catch {
      // Without a journal a rollback may not undo anything; the file is deleted regardless.
    }
  }

  private restore(): void {
    const db = this.ws.db;
    db.pragma('cache_size = -2000');
    db.pragma('ignore_check_constraints = OFF');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
}
