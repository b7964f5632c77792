/**
 * Domain types shared by every layer. This module (and all of src-main/core) imports nothing
 * platform-specific: no Node built-ins, no database driver, no Electron.
 */

/** Hierarchy levels from the most general to the most specific. */
export const LEVELS = ['global', 'tenant', 'department', 'group', 'user'] as const;
export type Level = (typeof LEVELS)[number];

/**
 * Where a resolved value came from. `env_legacy` is an attached .env file below global
 * (hybrid mode); `default` is the metadata default when no level sets the key.
 */
export type SourceLevel = Level | 'env_legacy' | 'default';

export const VALUE_TYPES = ['string', 'number', 'boolean', 'json'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/**
 * Identifies one place a value can be set. `scope` is '' for global, the tenant id for tenant,
 * `tenant/department` for department, the group id for group and the user id for user.
 */
export interface Slot {
  level: Level;
  scope: string;
  key: string;
}

/** One stored value at one level and scope (a row of a config_* table). */
export interface ConfigEntry extends Slot {
  /** Stored text. For encrypted entries this is the ciphertext envelope, never plaintext. */
  value: string;
  valueType: ValueType;
  encrypted: boolean;
  /** A locked ("final") entry cannot be overridden by more specific levels. */
  locked: boolean;
  /** Row version for optimistic concurrency; starts at 1 and grows on every update. */
  version: number;
  updatedAt: string;
  updatedBy: string | null;
}

/** A tenant (hospital or organisation). */
export interface Tenant {
  id: string;
  name: string;
  tenantType: string | null;
}

/** A department inside a tenant; its scope id is `tenantId/id`. */
export interface Department {
  tenantId: string;
  id: string;
  name: string;
}

/** A group; groups belong to a tenant and optionally sit under one of its departments. */
export interface Group {
  id: string;
  tenantId: string | null;
  department: string | null;
  name: string;
}

/** A directory user: one tenant, at most one department, an ordered list of groups. */
export interface DirectoryUser {
  id: string;
  tenantId: string | null;
  department: string | null;
  /** Group ids in priority order: the first group that sets a key wins among groups. */
  groups: string[];
  traits: string[];
  displayName: string | null;
  email: string | null;
  /** PostgreSQL role this user connects as, if any (maps connections to directory users). */
  dbRole: string | null;
}

/** The whole directory. */
export interface Directory {
  tenants: Tenant[];
  departments: Department[];
  groups: Group[];
  users: DirectoryUser[];
}

/** Who a value is resolved for: a directory user, or an ad-hoc context. */
export interface UserContext {
  userId: string | null;
  tenantId: string | null;
  department: string | null;
  groups: string[];
}

/** Validation rules from configuration_metadata.validation_rules. */
export interface ValidationRules {
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  options?: string[];
  min?: number;
  max?: number;
}

export const INPUT_TYPES = [
  'text',
  'password',
  'number',
  'select',
  'textarea',
  'checkbox',
  'radio',
] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** UI and validation metadata for one key (configuration_metadata). */
export interface KeyMetadata {
  key: string;
  category: string;
  displayName: string;
  description: string | null;
  inputType: InputType;
  valueType: ValueType;
  validationRules: ValidationRules;
  defaultValue: string | null;
  isRequired: boolean;
  sortOrder: number;
  groupName: string | null;
  helpText: string | null;
}

/** One link of a resolution chain: the value a level holds for the key, if any. */
export interface ChainLink {
  level: SourceLevel;
  scope: string;
  /** Display value: masked for secrets unless revealed. Null when the level does not set it. */
  value: string | null;
  valueType: ValueType | null;
  encrypted: boolean;
  locked: boolean;
  /** The link that supplies the effective value. */
  winner: boolean;
  /** Set at this level, but a more specific (or locking) link wins. */
  shadowed: boolean;
}

/** The result of resolving one key for one context. */
export interface Resolution {
  key: string;
  value: string | null;
  valueType: ValueType;
  level: SourceLevel;
  scope: string;
  encrypted: boolean;
  /** Every level that applies to the context, most general first. */
  chain: ChainLink[];
}

/** A change to stage or apply: set a value, or remove the override at a slot. */
export type ChangeAction = 'set' | 'unset';

export interface Change extends Slot {
  action: ChangeAction;
  /** Plaintext for a set (encrypted by the service before it is stored); null for unset. */
  value: string | null;
  valueType: ValueType;
  locked?: boolean;
  reason: string | null;
}

/** Exit-code classes shared by the CLI, IPC and the web bridge. */
export type ErrorCode = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'internal';

/** An error whose message is safe to show a user (no secrets, no stack). */
export class StrataError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'StrataError';
    this.code = code;
    this.details = details;
  }
}

/** Scope id of a department. */
export function departmentScope(tenantId: string, department: string): string {
  return `${tenantId}/${department}`;
}
