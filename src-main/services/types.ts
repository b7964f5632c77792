/**
 * The service API that all three front doors (Electron IPC, the CLI, the local web bridge) call.
 * Implementations live beside this file; front doors are thin adapters over it.
 */
import type {
  ChainLink,
  Directory,
  KeyMetadata,
  Level,
  Resolution,
  SourceLevel,
  UserContext,
  ValueType,
} from '../core/types.js';

/** A context as a caller names it: a directory user id, or an ad-hoc context. */
export type ContextInput =
  | { userId: string }
  | { tenantId: string; department?: string | null; groups?: string[]; userId?: string | null };

/** What is open: a live PostgreSQL database or a SQLite draft workspace. */
export interface WorkspaceInfo {
  kind: 'postgres' | 'draft';
  /** Connection target with any password removed, or the draft file path. */
  target: string;
  /** production | staging | development | null when unlabelled. */
  environment: string | null;
  /** Directory user the operator acts as, if known. */
  operator: string;
  operatorTraits: string[];
  /** For drafts: where it was pulled from and when; null for a fresh draft. */
  source: { target: string; pulledAt: string; environment: string | null } | null;
  stagedCount: number;
  /**
   * Set by a console front door when the workspace was opened from a connection profile: its
   * name (the environment above is then the more cautious of the profile's and the database's).
   */
  connection?: { profileId: string; name: string } | null;
}

/** A value set at one slot, as shown to a user (secrets masked unless revealed). */
export interface EntryView {
  level: Level;
  scope: string;
  key: string;
  value: string;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
  version: number;
  updatedAt: string;
  updatedBy: string | null;
  /** True when this slot's value comes from a staged (not yet pushed) change. */
  staged: boolean;
}

/** One key of an effective configuration (no chain; ask resolve() for the chain). */
export interface EffectiveItem {
  key: string;
  value: string | null;
  valueType: ValueType;
  level: SourceLevel;
  scope: string;
  encrypted: boolean;
}

/** A write request (set). `value` is plaintext; the service encrypts secrets. */
export interface SetRequest {
  level: Level;
  scope: string;
  key: string;
  value: string;
  valueType?: ValueType;
  locked?: boolean;
  reason?: string | null;
  /** Optimistic concurrency: the version the caller saw (null: the slot must be empty). */
  expectedVersion?: number | null;
}

export interface UnsetRequest {
  level: Level;
  scope: string;
  key: string;
  reason?: string | null;
  /** Optimistic concurrency: the version the caller saw. */
  expectedVersion?: number | null;
}

/** Result of a write: applied live, or staged in a draft. */
export interface WriteResult {
  mode: 'live' | 'staged';
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  /** Display value (masked for secrets). */
  value: string | null;
  version: number | null;
}

/** What every audit record says about its change: where in the chain, what, who, when, why. */
export interface AuditChange {
  seq: number;
  oldValue: string | null;
  newValue: string | null;
  changeType: 'create' | 'update' | 'delete';
  changedBy: string;
  changedAt: string;
  reason: string | null;
  pushId: string | null;
}

/** One audit record (config_audit), secret values shown only as fingerprints. */
export interface AuditRecord extends AuditChange {
  id: string;
  level: Level;
  scope: string;
  key: string;
  /** Drafts only: where the staged change stands (PostgreSQL audit rows omit it). */
  status?: 'staged' | 'pushed' | 'discarded';
}

export interface HistoryFilter {
  key?: string;
  level?: Level;
  scope?: string;
  changedBy?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** What a directory audit record is about (config_audit.config_table 'dir:<kind>', migration 0270). */
export const DIRECTORY_AUDIT_KINDS = [
  'tenant',
  'department',
  'group',
  'user',
  'membership',
] as const;
export type DirectoryAuditKind = (typeof DIRECTORY_AUDIT_KINDS)[number];

/**
 * One audited directory change (PostgreSQL only). A tenant, department, group or user that
 * appears or disappears is one record with field '(row)' and the row as JSON; an update is one
 * record per changed column (field = the column); a membership is ref = user, field = group,
 * value = the group's position in the user's order (0 wins).
 */
export interface DirectoryAuditRecord extends AuditChange {
  kind: DirectoryAuditKind;
  /** Tenant, group or user id; 'tenant/department'; for a membership, the user. */
  ref: string;
  field: string;
}

export interface DirectoryHistoryFilter {
  kind?: DirectoryAuditKind;
  /** Only this row (a user id also matches that user's memberships unless a kind is given). */
  ref?: string;
  changedBy?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** The front door a reveal came through: the console (IPC or web bridge), the CLI, or a library. */
export type RevealVia = 'console' | 'cli' | 'api';

/** Options for reads that may show secrets. */
export interface ReadOptions {
  /**
   * Show secret plaintext. Every slot whose plaintext is released is recorded in the reveal log
   * (config_reveals / draft_reveals) before the values are returned; no record, no values.
   */
  reveal?: boolean;
  /** Why the secrets are revealed; recorded with the reveal. */
  reason?: string | null;
  /** Front door recorded with the reveal (default: the service's, else 'api'). */
  via?: RevealVia;
}

/** A request to reveal the secret set at exactly one slot. */
export interface RevealRequest {
  level: Level;
  scope: string;
  key: string;
  /** Why; recorded with the reveal. */
  reason?: string | null;
  via?: RevealVia;
}

/** The plaintext set at one slot, released after the reveal was recorded. */
export interface RevealedValue {
  level: Level;
  scope: string;
  key: string;
  value: string;
}

/** The config service: the seed's ConfigProvider (get, set, delete, list_keys, get_hierarchy,
 * get_effective_config) plus what the console needs. */
export interface ConfigService {
  info(): Promise<WorkspaceInfo>;
  directory(): Promise<Directory>;
  metadata(): Promise<KeyMetadata[]>;
  /** Resolves the context (user id looked up in the directory, or ad-hoc). */
  context(input: ContextInput): Promise<UserContext>;
  resolve(key: string, ctx: ContextInput, opts?: ReadOptions): Promise<Resolution>;
  effective(ctx: ContextInput, opts?: ReadOptions): Promise<EffectiveItem[]>;
  /** Values set at exactly this slot (level + scope). */
  entries(level: Level, scope: string, opts?: ReadOptions): Promise<EntryView[]>;
  listKeys(prefix?: string): Promise<string[]>;
  set(req: SetRequest): Promise<WriteResult>;
  unset(req: UnsetRequest): Promise<WriteResult>;
  history(filter: HistoryFilter): Promise<AuditRecord[]>;
  /** Audited directory changes, newest first (PostgreSQL; a draft keeps none and says so). */
  directoryHistory(filter: DirectoryHistoryFilter): Promise<DirectoryAuditRecord[]>;
  /** Reveals the secret set at exactly one slot (recorded in the reveal log first). */
  reveal(req: RevealRequest): Promise<RevealedValue>;
  close(): Promise<void>;
}

export type { ChainLink };
