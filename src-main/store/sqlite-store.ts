/**
 * SQLite draft workspace store. The config_* tables hold the BASE snapshot; set/unset STAGE
 * changes in staged_changes (one active row per slot) and reads see base + staged. Files are
 * inspected read-only before anything is written, so a file that is not a Strata workspace, was
 * written by a newer Strata, or is damaged is refused untouched. Drafts run in WAL mode with
 * synchronous=FULL: a laptop that loses power keeps every staged change it acknowledged.
 */
import { closeSync, existsSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { categoryOf } from '../core/keys.js';
import { LEVELS, StrataError } from '../core/types.js';
import type { ConfigEntry, Directory, KeyMetadata, Level, Slot } from '../core/types.js';
import type { AuditRecord, DirectoryAuditRecord, HistoryFilter } from '../services/types.js';
import { appliedSqlite, migrateSqlite, readMigrations, renderPendingSql } from './migrations.js';
import type { MigrateResult } from './migrations.js';
import {
  asLevel,
  asValueType,
  auditFromRow,
  directoryFromRows,
  entryFromRow,
  metadataColumns,
  metadataFromRow,
} from './sql-rows.js';
import type { AuditRow, DirectoryRows, EntryRow, MetadataRow } from './sql-rows.js';
import { LEVEL_TABLES, auditValue, slotKey } from './store.js';
import type {
  AppliedChange,
  BaseData,
  DirectoryUpsert,
  Snapshot,
  Store,
  StoreIdentity,
  StoredChange,
  StoredTemplate,
  WriteContext,
} from './store.js';

/** The marker draft_meta.format holds in every Strata workspace. */
export const DRAFT_FORMAT = 'strata-draft';

const SQLITE_HEADER = 'SQLite format 3\u0000';

/** One row of staged_changes. */
export interface StagedChangeRow {
  id: number;
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  value: string | null;
  valueType: ConfigEntry['valueType'];
  encrypted: boolean;
  locked: boolean;
  reason: string | null;
  author: string;
  createdAt: string;
  status: 'staged' | 'pushed' | 'discarded';
  baseVersion: number | null;
  oldValue: string | null;
  pushId: string | null;
}

/** Options for opening a draft file. */
export interface OpenDraftOptions {
  /** Create a new workspace when the file does not exist (otherwise a missing file is refused). */
  create?: boolean;
}

function scopeExpr(level: Level): string {
  switch (level) {
    case 'global':
      return "''";
    case 'department':
      return "tenant_id || '/' || department";
    default:
      return LEVEL_TABLES[level].scopeColumns[0]!;
  }
}

function slotWhere(level: Level): string {
  const cols = [...LEVEL_TABLES[level].scopeColumns, 'key'];
  return cols.map((c) => `${c} = ?`).join(' AND ');
}

const ENTRY_COLS = 'key, value, value_type, encrypted, locked, version, updated_at, updated_by';

/** Translates SQLite errors about the file itself into one clear sentence. */
function fileError(path: string, err: unknown): StrataError {
  const code = (err as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StrataError(
      'conflict',
      `Draft ${path} is locked by another program; close it and try again.`,
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StrataError(
      'invalid',
      `Draft ${path} is damaged (truncated or corrupt) and was not opened.`,
    );
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_PERM')
  ) {
    return new StrataError(
      'invalid',
      `Draft ${path} cannot be opened for writing (check its permissions).`,
    );
  }
  if (err instanceof StrataError) return err;
  return new StrataError(
    'internal',
    `Draft ${path} could not be opened: ${(err as Error).message}`,
  );
}

/**
 * Checks, without writing, that an existing file is a usable Strata workspace: a SQLite file of
 * the size its header promises, with the draft marker and no schema newer than this build.
 */
export function inspectDraftFile(path: string): void {
  const size = statSync(path).size;
  const head = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  let read: number;
  try {
    read = readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (read < 100 || head.toString('latin1', 0, 16) !== SQLITE_HEADER) {
    throw new StrataError(
      'invalid',
      `${path} is not a Strata draft workspace (it is not a SQLite database).`,
    );
  }
  // The header records the page size and page count; a shorter file lost its tail.
  const rawPageSize = head.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pageCount = head.readUInt32BE(28);
  const validFor = head.readUInt32BE(92);
  const changeCounter = head.readUInt32BE(24);
  if (validFor === changeCounter && pageCount > 0 && size < pageCount * pageSize) {
    throw new StrataError(
      'invalid',
      `Draft ${path} is damaged (truncated or corrupt) and was not opened.`,
    );
  }
  let db: BetterSqlite3.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    const hasMeta = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'draft_meta'")
      .get();
    const format = hasMeta
      ? (db.prepare("SELECT value FROM draft_meta WHERE key = 'format'").pluck().get() as
          string | undefined)
      : undefined;
    if (format !== DRAFT_FORMAT) {
      throw new StrataError(
        'invalid',
        `${path} is a SQLite database but not a Strata draft workspace.`,
      );
    }
    const known = Math.max(0, ...readMigrations('sqlite').map((m) => m.version));
    const newest = Math.max(0, ...appliedSqlite(db).map((a) => a.version));
    if (newest > known) {
      throw new StrataError(
        'invalid',
        `Draft ${path} was written by a newer Strata (schema ${newest}, this one knows ${known}); open it with a newer version.`,
      );
    }
  } catch (err) {
    throw fileError(path, err);
  } finally {
    db?.close();
  }
}

/**
 * What `strata db migrate --print` shows for a draft path, without creating or changing it: all
 * migrations for a file that does not exist yet, the pending ones for an existing workspace.
 */
export function pendingDraftMigrations(file: string): MigrateResult {
  const path = resolve(file);
  if (!existsSync(path)) {
    const all = readMigrations('sqlite');
    return {
      dialect: 'sqlite',
      applied: [],
      pending: all.map((m) => m.name),
      sql: renderPendingSql('sqlite', all),
    };
  }
  inspectDraftFile(path);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return migrateSqlite(db, { print: true });
  } catch (err) {
    throw fileError(path, err);
  } finally {
    db.close();
  }
}

/** A SQLite draft workspace. */
export class SqliteStore implements Store {
  readonly kind = 'draft' as const;
  readonly target: string;
  readonly db: BetterSqlite3.Database;
  /** Migrations applied when the file was opened (a new file, or an older draft). */
  readonly migrated: MigrateResult | null;

  private constructor(path: string, db: BetterSqlite3.Database, migrated: MigrateResult | null) {
    this.target = path;
    this.db = db;
    this.migrated = migrated;
  }

  /** Opens (or with create, creates) a draft file. Refuses anything that is not a workspace. */
  static open(file: string, opts: OpenDraftOptions = {}): SqliteStore {
    const path = resolve(file);
    const exists = existsSync(path);
    if (!exists && !opts.create) {
      throw new StrataError(
        'invalid',
        `No draft workspace at ${path}; create one with \`strata demo\` or \`strata db migrate\`.`,
      );
    }
    if (exists) inspectDraftFile(path);
    else if (!existsSync(dirname(path))) {
      throw new StrataError(
        'invalid',
        `Cannot create draft ${path}: the folder ${dirname(path)} does not exist.`,
      );
    }
    let db: BetterSqlite3.Database | null = null;
    try {
      db = new Database(path, { fileMustExist: exists });
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const pending = migrateSqlite(db, { print: true }).pending;
      let migrated: MigrateResult | null = null;
      if (pending.length > 0) {
        migrated = migrateSqlite(db);
        const version = Math.max(...readMigrations('sqlite').map((m) => m.version));
        db.prepare(
          "INSERT INTO draft_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ).run(String(version));
      }
      return new SqliteStore(path, db, migrated);
    } catch (err) {
      db?.close();
      // Never leave a half-made workspace behind.
      if (!exists) {
        for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) unlinkSync(f);
      }
      throw fileError(path, err);
    }
  }

  async identity(): Promise<StoreIdentity> {
    let role = 'local';
    try {
      role = userInfo().username || role;
    } catch {
      // No passwd entry (some containers): keep the generic name.
    }
    return { role, superuser: false };
  }

  /** A draft_meta value (format, schema_version, source, pulled_at, environment...). */
  meta(key: string): string | null {
    const v = this.db.prepare('SELECT value FROM draft_meta WHERE key = ?').pluck().get(key);
    return typeof v === 'string' ? v : null;
  }

  /** Sets (or with null removes) a draft_meta value. */
  setMeta(key: string, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM draft_meta WHERE key = ?').run(key);
    else
      this.db
        .prepare(
          'INSERT INTO draft_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(key, value);
  }

  /** The base snapshot's entries (without staged changes). */
  baseEntries(): ConfigEntry[] {
    const out: ConfigEntry[] = [];
    for (const level of LEVELS) {
      const rows = this.db
        .prepare(`SELECT ${scopeExpr(level)}, ${ENTRY_COLS} FROM ${LEVEL_TABLES[level].table}`)
        .raw(true)
        .all() as EntryRow[];
      for (const r of rows) out.push(entryFromRow(level, r));
    }
    return out;
  }

  /** Staged-change rows; by default only the active ('staged') ones, oldest first. */
  stagedChanges(opts: { all?: boolean } = {}): StagedChangeRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, level, scope, key, action, value, value_type, encrypted, locked, reason, author, created_at, status, base_version, old_value, push_id
         FROM staged_changes ${opts.all ? '' : "WHERE status = 'staged'"} ORDER BY id`,
      )
      .all() as Array<Record<string, unknown>>;
    return rows.map(stagedFromRecord);
  }

  /** Number of active staged changes. */
  stagedCount(): number {
    return this.db
      .prepare("SELECT count(*) FROM staged_changes WHERE status = 'staged'")
      .pluck()
      .get() as number;
  }

  async snapshot(): Promise<Snapshot> {
    const read = this.db.transaction(() => {
      const staged = this.stagedChanges();
      const stagedByKey = new Map(staged.map((s) => [slotKey(s), s]));
      const entries: ConfigEntry[] = [];
      for (const level of LEVELS) {
        const rows = this.db
          .prepare(`SELECT ${scopeExpr(level)}, ${ENTRY_COLS} FROM ${LEVEL_TABLES[level].table}`)
          .raw(true)
          .all() as EntryRow[];
        if (stagedByKey.size === 0) {
          for (const r of rows) entries.push(entryFromRow(level, r));
        } else {
          for (const r of rows) {
            if (!stagedByKey.has(slotKey({ level, scope: r[0], key: r[1] })))
              entries.push(entryFromRow(level, r));
          }
        }
      }
      for (const s of staged) {
        const e = stagedEntry(s);
        if (e) entries.push(e);
      }
      return {
        entries,
        directory: this.readDirectorySync(),
        metadata: this.readMetadataSync(),
        stagedSlots: staged.map((s) => ({ level: s.level, scope: s.scope, key: s.key })),
      };
    });
    try {
      return read();
    } catch (err) {
      throw fileError(this.target, err);
    }
  }

  private baseEntry(slot: Slot): ConfigEntry | null {
    const t = LEVEL_TABLES[slot.level];
    const row = this.db
      .prepare(
        `SELECT ${scopeExpr(slot.level)}, ${ENTRY_COLS} FROM ${t.table} WHERE ${slotWhere(slot.level)}`,
      )
      .raw(true)
      .get(...t.split(slot.scope), slot.key) as EntryRow | undefined;
    return row ? entryFromRow(slot.level, row) : null;
  }

  private activeStaged(slot: Slot): StagedChangeRow | null {
    const row = this.db
      .prepare(
        `SELECT id, level, scope, key, action, value, value_type, encrypted, locked, reason, author, created_at, status, base_version, old_value, push_id
         FROM staged_changes WHERE status = 'staged' AND level = ? AND scope = ? AND key = ?`,
      )
      .get(slot.level, slot.scope, slot.key) as Record<string, unknown> | undefined;
    return row ? stagedFromRecord(row) : null;
  }

  private effectiveEntry(slot: Slot): ConfigEntry | null {
    const active = this.activeStaged(slot);
    return active ? stagedEntry(active) : this.baseEntry(slot);
  }

  async readEntries(slots: readonly Slot[]): Promise<ConfigEntry[]> {
    const out: ConfigEntry[] = [];
    for (const s of slots) {
      const e = this.effectiveEntry(s);
      if (e) out.push(e);
    }
    return out;
  }

  /** Stages changes in one transaction (the base is never written here). */
  async write(changes: readonly StoredChange[], ctx: WriteContext): Promise<AppliedChange[]> {
    assertNoDuplicateSlots(changes);
    const discard = this.db.prepare("UPDATE staged_changes SET status = 'discarded' WHERE id = ?");
    const insert = this.db.prepare(
      `INSERT INTO staged_changes (level, scope, key, action, value, value_type, encrypted, locked, reason, author, base_version, old_value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at`,
    );
    const run = this.db.transaction((): AppliedChange[] => {
      const results: AppliedChange[] = [];
      const conflicts: string[] = [];
      for (const c of changes) {
        const slot: Slot = { level: c.level, scope: c.scope, key: c.key };
        const base = this.baseEntry(slot);
        const active = this.activeStaged(slot);
        const before = active ? stagedEntry(active) : base;
        if (c.expectedVersion !== undefined && (before?.version ?? null) !== c.expectedVersion) {
          conflicts.push(describeSlot(slot));
          continue;
        }
        const unchanged =
          c.action === 'unset' ? before === null : before !== null && sameStored(before, c);
        if (unchanged) {
          results.push({
            slot,
            action: c.action,
            before,
            after: before,
            changed: false,
            staged: active !== null,
          });
          continue;
        }
        if (active) discard.run(active.id);
        // Back to exactly the base: dropping the staged row is the whole change.
        const revertsToBase =
          c.action === 'unset' ? base === null : base !== null && sameStored(base, c);
        if (revertsToBase) {
          results.push({
            slot,
            action: c.action,
            before,
            after: base,
            changed: true,
            staged: false,
          });
          continue;
        }
        const row = insert.get(
          c.level,
          c.scope,
          c.key,
          c.action,
          c.action === 'set' ? c.value : null,
          c.valueType,
          c.encrypted ? 1 : 0,
          c.locked ? 1 : 0,
          ctx.reason,
          ctx.operator,
          base?.version ?? null,
          auditValue(before?.value ?? null, before?.encrypted ?? false),
        ) as { id: number; created_at: string };
        const after: ConfigEntry | null =
          c.action === 'set'
            ? {
                ...slot,
                value: c.value ?? '',
                valueType: c.valueType,
                encrypted: c.encrypted,
                locked: c.locked,
                version: (base?.version ?? 0) + 1,
                updatedAt: row.created_at,
                updatedBy: ctx.operator,
              }
            : null;
        results.push({ slot, action: c.action, before, after, changed: true, staged: true });
      }
      if (conflicts.length > 0) throw conflictError(conflicts);
      return results;
    });
    try {
      return run.immediate();
    } catch (err) {
      throw fileError(this.target, err);
    }
  }

  /** The draft's history: its staged-change log (staged, pushed and discarded rows). */
  async history(filter: HistoryFilter): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      where.push(sql);
      params.push(v);
    };
    if (filter.key !== undefined) add('key = ?', filter.key);
    if (filter.level !== undefined) add('level = ?', filter.level);
    if (filter.scope !== undefined) add('scope = ?', filter.scope);
    if (filter.changedBy !== undefined) add('author = ?', filter.changedBy);
    if (filter.since !== undefined) add('created_at >= ?', new Date(filter.since).toISOString());
    if (filter.until !== undefined) add('created_at <= ?', new Date(filter.until).toISOString());
    const limit = Math.max(1, Math.min(filter.limit ?? 1000, 100_000));
    const rows = this.db
      .prepare(
        `SELECT id, level, scope, key, action, value, value_type, encrypted, locked, reason, author, created_at, status, base_version, old_value, push_id
         FROM staged_changes ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`,
      )
      .all(...params) as Array<Record<string, unknown>>;
    return rows.map((rec) => {
      const s = stagedFromRecord(rec);
      const row: AuditRow = [
        String(s.id),
        s.id,
        s.level,
        s.scope,
        s.key,
        s.oldValue,
        s.action === 'set' ? auditValue(s.value, s.encrypted) : null,
        s.action === 'unset' ? 'delete' : s.oldValue === null ? 'create' : 'update',
        s.author,
        s.createdAt,
        s.reason,
        s.pushId,
      ];
      return { ...auditFromRow(row), status: s.status };
    });
  }

  /** A draft keeps no directory audit: its staged directory changes are in its plan. */
  async directoryHistory(): Promise<DirectoryAuditRecord[]> {
    throw new StrataError(
      'invalid',
      'A draft keeps no directory history: it is audited by PostgreSQL when a push writes it. The staged directory changes of this draft are shown by `strata plan`.',
    );
  }

  private readDirectorySync(): Directory {
    const all = <T>(sql: string): T[] => this.db.prepare(sql).raw(true).all() as T[];
    const rows: DirectoryRows = {
      tenants: all('SELECT id, name, tenant_type FROM tenants ORDER BY id'),
      departments: all('SELECT tenant_id, id, name FROM departments ORDER BY tenant_id, id'),
      groups: all('SELECT id, tenant_id, department, name FROM groups ORDER BY id'),
      users: all(
        'SELECT id, tenant_id, department, display_name, email, traits, db_role FROM users ORDER BY id',
      ),
      members: all('SELECT user_id, group_id FROM group_members ORDER BY user_id, position'),
    };
    return directoryFromRows(rows);
  }

  async readDirectory(): Promise<Directory> {
    return this.readDirectorySync();
  }

  /** Upserts directory rows into the base (directory changes are not staged). */
  async writeDirectory(dir: DirectoryUpsert): Promise<void> {
    const now = new Date().toISOString();
    this.db.transaction(() => this.writeDirectorySync(dir, now)).immediate();
  }

  private writeDirectorySync(dir: DirectoryUpsert, now: string): void {
    const db = this.db;
    if (dir.tenants?.length) {
      const st = db.prepare(
        'INSERT INTO tenants (id, name, tenant_type, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, tenant_type = excluded.tenant_type',
      );
      for (const t of dir.tenants) st.run(t.id, t.name, t.tenantType, now);
    }
    if (dir.departments?.length) {
      const st = db.prepare(
        'INSERT INTO departments (tenant_id, id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name',
      );
      for (const d of dir.departments) st.run(d.tenantId, d.id, d.name, now);
    }
    if (dir.groups?.length) {
      const st = db.prepare(
        'INSERT INTO groups (id, tenant_id, department, name, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, department = excluded.department, name = excluded.name',
      );
      for (const g of dir.groups) st.run(g.id, g.tenantId, g.department, g.name, now);
    }
    if (dir.users?.length) {
      const st = db.prepare(
        `INSERT INTO users (id, tenant_id, department, display_name, email, traits, db_role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, department = excluded.department, display_name = excluded.display_name,
           email = excluded.email, traits = excluded.traits, db_role = excluded.db_role`,
      );
      const clear = db.prepare('DELETE FROM group_members WHERE user_id = ?');
      // A first load has no memberships to replace: skip 100,000 pointless deletes.
      const replacing =
        db.prepare('SELECT EXISTS (SELECT 1 FROM group_members)').pluck().get() === 1;
      const member = db.prepare(
        'INSERT INTO group_members (user_id, group_id, position) VALUES (?, ?, ?)',
      );
      for (const u of dir.users) {
        st.run(
          u.id,
          u.tenantId,
          u.department,
          u.displayName,
          u.email,
          JSON.stringify(u.traits),
          u.dbRole,
          now,
        );
        if (replacing) clear.run(u.id);
        u.groups.forEach((g, i) => member.run(u.id, g, i));
      }
    }
  }

  private readMetadataSync(): KeyMetadata[] {
    const rows = this.db
      .prepare(
        `SELECT key, category, display_name, description, input_type, value_type, validation_rules, default_value, is_required, sort_order, group_name, help_text
         FROM configuration_metadata ORDER BY category, sort_order, key`,
      )
      .raw(true)
      .all() as MetadataRow[];
    return rows.map(metadataFromRow);
  }

  async readMetadata(): Promise<KeyMetadata[]> {
    return this.readMetadataSync();
  }

  async writeMetadata(meta: readonly KeyMetadata[]): Promise<void> {
    this.db.transaction(() => writeMetadataRowsSync(this.db, meta)).immediate();
  }

  async readTemplates(): Promise<StoredTemplate[]> {
    const rows = this.db
      .prepare(
        'SELECT name, description, target_level, template_data, traits, version, provider_name, category, created_at, created_by FROM config_templates ORDER BY name',
      )
      .all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      name: String(r.name),
      description: (r.description as string | null) ?? null,
      targetLevel: asLevel(String(r.target_level)),
      templateData: JSON.parse(String(r.template_data)) as unknown,
      traits: JSON.parse(String(r.traits)) as string[],
      version: Number(r.version),
      providerName: (r.provider_name as string | null) ?? null,
      category: (r.category as string | null) ?? null,
      createdAt: (r.created_at as string | null) ?? null,
      createdBy: (r.created_by as string | null) ?? null,
    }));
  }

  async writeTemplate(t: StoredTemplate): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO config_templates (name, description, target_level, template_data, traits, version, provider_name, category, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, target_level = excluded.target_level,
           template_data = excluded.template_data, traits = excluded.traits, version = excluded.version,
           provider_name = excluded.provider_name, category = excluded.category`,
      )
      .run(
        t.name,
        t.description,
        t.targetLevel,
        JSON.stringify(t.templateData),
        JSON.stringify(t.traits),
        t.version,
        t.providerName,
        t.category,
        t.createdBy,
      );
  }

  async getSetting(key: string): Promise<string | null> {
    const v = this.db.prepare('SELECT value FROM strata_settings WHERE key = ?').pluck().get(key);
    return typeof v === 'string' ? v : null;
  }

  async setSetting(key: string, value: string | null): Promise<void> {
    if (value === null) this.db.prepare('DELETE FROM strata_settings WHERE key = ?').run(key);
    else
      this.db
        .prepare(
          'INSERT INTO strata_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(key, value);
  }

  async isEmpty(): Promise<boolean> {
    const tables = [
      'tenants',
      'users',
      'groups',
      ...LEVELS.map((l) => LEVEL_TABLES[l].table),
      'staged_changes',
    ];
    const sql = tables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ');
    return this.db.prepare(`SELECT ${sql}`).pluck().get() === 0;
  }

  /** Loads a dataset into the BASE tables in one transaction with prepared statements. */
  async loadBase(data: BaseData, ctx: WriteContext): Promise<void> {
    // One timestamp for the whole load: a per-row strftime() default costs more than the insert.
    const now = new Date().toISOString();
    const statements = new Map<Level, BetterSqlite3.Statement>();
    for (const level of LEVELS) {
      const t = LEVEL_TABLES[level];
      const cols = [
        ...t.scopeColumns,
        'key',
        'value',
        'value_type',
        'encrypted',
        'locked',
        'version',
        'created_by',
        'updated_by',
        'created_at',
        'updated_at',
        ...(level === 'global' ? ['category'] : []),
      ];
      statements.set(
        level,
        this.db.prepare(
          `INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
           ON CONFLICT (${[...t.scopeColumns, 'key'].join(', ')}) DO UPDATE SET value = excluded.value,
             value_type = excluded.value_type, encrypted = excluded.encrypted, locked = excluded.locked,
             version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        ),
      );
    }
    const run = this.db.transaction(() => {
      this.writeDirectorySync(data.directory, now);
      writeMetadataRowsSync(this.db, data.metadata);
      for (const e of data.entries) {
        const args: unknown[] = [
          ...LEVEL_TABLES[e.level].split(e.scope),
          e.key,
          e.value,
          e.valueType,
          e.encrypted ? 1 : 0,
          e.locked ? 1 : 0,
          e.version ?? 1,
          ctx.operator,
          e.updatedBy === undefined ? ctx.operator : e.updatedBy,
          now,
          e.updatedAt ?? now,
        ];
        if (e.level === 'global') args.push(categoryOf(e.key));
        statements.get(e.level)!.run(...args);
      }
    });
    try {
      run.immediate();
    } catch (err) {
      throw fileError(this.target, err);
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function stagedFromRecord(r: Record<string, unknown>): StagedChangeRow {
  return {
    id: Number(r.id),
    level: asLevel(String(r.level)),
    scope: String(r.scope),
    key: String(r.key),
    action: r.action === 'unset' ? 'unset' : 'set',
    value: (r.value as string | null) ?? null,
    valueType: asValueType(String(r.value_type)),
    encrypted: r.encrypted === 1,
    locked: r.locked === 1,
    reason: (r.reason as string | null) ?? null,
    author: String(r.author),
    createdAt: String(r.created_at),
    status: r.status === 'pushed' ? 'pushed' : r.status === 'discarded' ? 'discarded' : 'staged',
    baseVersion:
      r.base_version === null || r.base_version === undefined ? null : Number(r.base_version),
    oldValue: (r.old_value as string | null) ?? null,
    pushId: (r.push_id as string | null) ?? null,
  };
}

/** The entry a staged row puts at its slot (null for an unset). */
export function stagedEntry(s: StagedChangeRow): ConfigEntry | null {
  if (s.action === 'unset' || s.value === null) return null;
  return {
    level: s.level,
    scope: s.scope,
    key: s.key,
    value: s.value,
    valueType: s.valueType,
    encrypted: s.encrypted,
    locked: s.locked,
    // What the row's version will be once pushed.
    version: (s.baseVersion ?? 0) + 1,
    updatedAt: s.createdAt,
    updatedBy: s.author,
  };
}

/**
 * True when a change would store what the entry already holds. Two envelopes of one plaintext
 * differ (fresh nonce) but share the fingerprint, so encrypted values compare by fingerprint.
 */
export function sameStored(e: ConfigEntry, c: StoredChange): boolean {
  if (e.valueType !== c.valueType || e.encrypted !== c.encrypted || e.locked !== c.locked)
    return false;
  if (e.value === c.value) return true;
  if (
    e.encrypted &&
    c.value !== null &&
    e.value.startsWith('enc:v1:') &&
    c.value.startsWith('enc:v1:')
  ) {
    const a = e.value.split(':');
    const b = c.value.split(':');
    return a[2] === b[2] && a[3] === b[3];
  }
  return false;
}

/** Human name of a slot for messages. */
export function describeSlot(s: Slot): string {
  return s.level === 'global' ? `${s.key} (global)` : `${s.key} (${s.level} ${s.scope})`;
}

/** The error for optimistic-concurrency mismatches. */
export function conflictError(slots: readonly string[]): StrataError {
  const shown = slots.slice(0, 5).join(', ');
  const more = slots.length > 5 ? ` and ${slots.length - 5} more` : '';
  return new StrataError(
    'conflict',
    `Changed by someone else since you read it: ${shown}${more}; reload and try again.`,
    { slots },
  );
}

/**
 * Writes key metadata rows. `existing` says what happens to a key the file already describes:
 * 'replace' (the store's writes) or 'fail' (filling a fresh file, where a repeat is a bug).
 */
export function writeMetadataRowsSync(
  db: BetterSqlite3.Database,
  meta: readonly KeyMetadata[],
  existing: 'replace' | 'fail' = 'replace',
): void {
  if (meta.length === 0) return;
  const st = db.prepare(
    `INSERT INTO configuration_metadata (key, category, config_key, display_name, description, input_type, value_type, validation_rules, default_value, is_required, sort_order, group_name, help_text)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)${
       existing === 'fail'
         ? ''
         : `
     ON CONFLICT (key) DO UPDATE SET category = excluded.category, config_key = excluded.config_key, display_name = excluded.display_name,
       description = excluded.description, input_type = excluded.input_type, value_type = excluded.value_type,
       validation_rules = excluded.validation_rules, default_value = excluded.default_value, is_required = excluded.is_required,
       sort_order = excluded.sort_order, group_name = excluded.group_name, help_text = excluded.help_text`
     }`,
  );
  const c = metadataColumns(meta);
  for (let i = 0; i < meta.length; i++) {
    st.run(
      c.key[i],
      c.category[i],
      c.configKey[i],
      c.displayName[i],
      c.description[i],
      c.inputType[i],
      c.valueType[i],
      c.rules[i],
      c.defaultValue[i],
      c.required[i] ? 1 : 0,
      c.sortOrder[i],
      c.groupName[i],
      c.helpText[i],
    );
  }
}

/** Refuses a batch that names one slot twice (its outcome would depend on statement order). */
export function assertNoDuplicateSlots(changes: readonly StoredChange[]): void {
  const seen = new Set<string>();
  for (const c of changes) {
    const k = slotKey(c);
    if (seen.has(k)) {
      throw new StrataError('invalid', `The batch changes ${describeSlot(c)} more than once.`);
    }
    seen.add(k);
  }
}
