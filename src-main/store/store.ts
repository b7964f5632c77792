/**
 * The storage interface both back ends implement: PostgreSQL (production, writes are live) and a
 * SQLite draft workspace (writes are staged over a base snapshot). Services compose a Store with
 * the in-memory ConfigIndex; nothing above this layer issues SQL.
 */
import type { ConfigEntry, Directory, KeyMetadata, Level, Slot, ValueType } from '../core/types.js';
import type {
  AuditRecord,
  DirectoryAuditRecord,
  DirectoryHistoryFilter,
  HistoryFilter,
} from '../services/types.js';

/** Everything the index is built from, read with one query per table. */
export interface Snapshot {
  /** Effective stored entries: for a draft, the base with staged changes applied. */
  entries: ConfigEntry[];
  directory: Directory;
  metadata: KeyMetadata[];
  /** Slots whose entry (or absence) comes from a staged change; empty for PostgreSQL. */
  stagedSlots: Slot[];
}

/** A change in stored form: values are already normalised and, for secrets, encrypted. */
export interface StoredChange extends Slot {
  action: 'set' | 'unset';
  /** Stored text (a ciphertext envelope when encrypted); null for unset. */
  value: string | null;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
  /**
   * Optimistic concurrency: the version the writer saw (null = the slot must be empty);
   * undefined skips the check.
   */
  expectedVersion?: number | null;
}

/** Who writes, and why; recorded with every change in the same transaction. */
export interface WriteContext {
  operator: string;
  reason: string | null;
  pushId?: string | null;
}

/** The result of one change: the slot's entry before and after (null = no value). */
export interface AppliedChange {
  slot: Slot;
  action: 'set' | 'unset';
  before: ConfigEntry | null;
  after: ConfigEntry | null;
  /** False when the change matched what was already stored, so nothing was written. */
  changed: boolean;
  /** Drafts: the slot now differs from the base through an active staged change. */
  staged: boolean;
}

/** A stored template row (config_templates); template_data is opaque JSON here. */
export interface StoredTemplate {
  name: string;
  description: string | null;
  targetLevel: Level;
  templateData: unknown;
  traits: string[];
  version: number;
  providerName: string | null;
  category: string | null;
  createdAt: string | null;
  createdBy: string | null;
}

/** Connection facts the service needs to find out who the operator is. */
export interface StoreIdentity {
  /** The database role (PostgreSQL) or the OS user (SQLite). */
  role: string;
  /** PostgreSQL superuser: counts as super_admin + config_write when no directory user maps. */
  superuser: boolean;
}

/** Directory rows to upsert; users' group lists replace their memberships. */
export type DirectoryUpsert = Partial<Directory>;

/** The storage interface shared by PostgreSQL and SQLite drafts. */
export interface Store {
  readonly kind: 'postgres' | 'draft';
  /** Connection target with the password removed, or the draft path. */
  readonly target: string;
  identity(): Promise<StoreIdentity>;
  /** Bulk read of all entries, the directory and metadata (one query per table). */
  snapshot(): Promise<Snapshot>;
  /** Reads the current entries of a few slots (for conflict messages and refreshes). */
  readEntries(slots: readonly Slot[]): Promise<ConfigEntry[]>;
  /** Applies (PostgreSQL) or stages (draft) changes in ONE transaction. */
  write(changes: readonly StoredChange[], ctx: WriteContext): Promise<AppliedChange[]>;
  history(filter: HistoryFilter): Promise<AuditRecord[]>;
  directoryHistory(filter: DirectoryHistoryFilter): Promise<DirectoryAuditRecord[]>;
  readDirectory(): Promise<Directory>;
  writeDirectory(dir: DirectoryUpsert): Promise<void>;
  readMetadata(): Promise<KeyMetadata[]>;
  writeMetadata(meta: readonly KeyMetadata[]): Promise<void>;
  readTemplates(): Promise<StoredTemplate[]>;
  writeTemplate(t: StoredTemplate): Promise<void>;
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string | null): Promise<void>;
  /** True when the store holds no directory rows and no configuration. */
  isEmpty(): Promise<boolean>;
  /**
   * Bulk load of base data (demo network, generated datasets): for PostgreSQL a live write in
   * one transaction with audit rows; for a draft, rows in the BASE tables (not staged).
   */
  loadBase(data: BaseData, ctx: WriteContext): Promise<void>;
  close(): Promise<void>;
}

/** A whole dataset to load: directory, metadata and stored entries. */
export interface BaseData {
  directory: Directory;
  metadata: KeyMetadata[];
  /** Version, updatedAt and updatedBy default to 1, now and the operator (a pull keeps the source's). */
  entries: Array<
    Omit<ConfigEntry, 'version' | 'updatedAt' | 'updatedBy'> & {
      version?: number;
      updatedAt?: string;
      updatedBy?: string | null;
    }
  >;
}

/** Audit form of a stored value: plaintext as is, encrypted values only as their fingerprint. */
export function auditValue(value: string | null, encrypted: boolean): string | null {
  if (value === null) return null;
  if (!encrypted) return value;
  if (value.startsWith('enc:v1:')) return `secret:fp=${value.split(':')[3] ?? ''}`;
  return 'secret:changed';
}

/** Table, scope columns and how a scope id maps onto them, per level. */
export interface LevelTable {
  table: string;
  /** Column names that hold the scope (department has two). */
  scopeColumns: string[];
  /** Splits a scope id into the scope column values. */
  split(scope: string): string[];
}

/** The config table of each level. */
export const LEVEL_TABLES: Record<Level, LevelTable> = {
  global: { table: 'config_global', scopeColumns: [], split: () => [] },
  tenant: { table: 'config_tenant', scopeColumns: ['tenant_id'], split: (s) => [s] },
  department: {
    table: 'config_department',
    scopeColumns: ['tenant_id', 'department'],
    split: (s) => {
      const i = s.indexOf('/');
      return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
    },
  },
  group: { table: 'config_group', scopeColumns: ['group_id'], split: (s) => [s] },
  user: { table: 'config_user', scopeColumns: ['user_id'], split: (s) => [s] },
};

/** Map key for a slot. */
export function slotKey(s: Slot): string {
  return `${s.level}\u0000${s.scope}\u0000${s.key}`;
}

/** Query parameters of a connection URL that carry a secret. */
export const SECRET_URL_PARAMS: readonly string[] = ['password', 'sslpassword', 'sslkey'];

/** Removes the password (and any secret query parameters) from a connection URL for display. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    for (const p of SECRET_URL_PARAMS) u.searchParams.delete(p);
    return u.toString().replace(/:@/, '@');
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1@');
  }
}
