/**
 * Row <-> domain conversions shared by the PostgreSQL and SQLite stores, so both back ends
 * produce identical ConfigEntry, Directory and KeyMetadata values.
 */
import { categoryOf } from '../core/keys.js';
import { INPUT_TYPES } from '../core/types.js';
import type {
  ConfigEntry,
  Department,
  Directory,
  DirectoryUser,
  Group,
  InputType,
  KeyMetadata,
  Level,
  Tenant,
  ValidationRules,
  ValueType,
} from '../core/types.js';
import type {
  AuditChange,
  AuditRecord,
  DirectoryAuditKind,
  DirectoryAuditRecord,
} from '../services/types.js';
import { LEVELS } from '../core/types.js';

/**
 * Column order of an entry row as both stores select it:
 * scope, key, value, value_type, encrypted, locked, version, updated_at, updated_by.
 */
export type EntryRow = [
  string,
  string,
  string,
  string,
  boolean | number,
  boolean | number,
  number | string,
  string,
  string | null,
];

/** Converts an entry row (see EntryRow) into a ConfigEntry. */
export function entryFromRow(level: Level, r: EntryRow): ConfigEntry {
  return {
    level,
    scope: r[0],
    key: r[1],
    value: r[2],
    valueType: asValueType(r[3]),
    encrypted: r[4] === true || r[4] === 1,
    locked: r[5] === true || r[5] === 1,
    version: Number(r[6]),
    updatedAt: intern(r[7]),
    updatedBy: r[8] === null ? null : intern(r[8]),
  };
}

// Bulk loads give thousands of rows one timestamp and one author: sharing those strings keeps
// a million-entry index within its heap budget. Bounded, so odd data cannot grow it forever.
const interned = new Map<string, string>();

function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size >= 4096) interned.clear();
  interned.set(s, s);
  return s;
}

/** A value_type column as a ValueType ('string' for anything unexpected). */
export function asValueType(s: string): ValueType {
  // Returns the literal, not the row's copy of the text, so rows do not keep their own strings.
  switch (s) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'json':
      return 'json';
    default:
      return 'string';
  }
}

function asInputType(s: string): InputType {
  return (INPUT_TYPES as readonly string[]).includes(s) ? (s as InputType) : 'text';
}

/** A level name as stored in config_audit.config_table. */
export function asLevel(s: string): Level {
  return (LEVELS as readonly string[]).includes(s) ? (s as Level) : 'global';
}

/** Column order of a metadata row (see metadataFromRow). */
export type MetadataRow = [
  string, // key
  string, // category
  string, // display_name
  string | null, // description
  string, // input_type
  string, // value_type
  unknown, // validation_rules (object from pg, JSON text from SQLite)
  string | null, // default_value
  boolean | number, // is_required
  number, // sort_order
  string | null, // group_name
  string | null, // help_text
];

/** Converts a metadata row into KeyMetadata. */
export function metadataFromRow(r: MetadataRow): KeyMetadata {
  let rules: unknown = r[6];
  if (typeof rules === 'string') {
    try {
      rules = JSON.parse(rules) as unknown;
    } catch {
      rules = {};
    }
  }
  return {
    key: r[0],
    category: r[1],
    displayName: r[2],
    description: r[3],
    inputType: asInputType(r[4]),
    valueType: asValueType(r[5]),
    validationRules: (rules && typeof rules === 'object' ? rules : {}) as ValidationRules,
    defaultValue: r[7],
    isRequired: r[8] === true || r[8] === 1,
    sortOrder: Number(r[9]),
    groupName: r[10],
    helpText: r[11],
  };
}

/** The seed's config_key column: the key without its category prefix. */
export function configKeyOf(key: string, category: string): string {
  return key.startsWith(`${category}.`) ? key.slice(category.length + 1) : key;
}

/** Metadata as column arrays for a multi-row insert (same order as MetadataRow, plus config_key). */
export function metadataColumns(meta: readonly KeyMetadata[]): {
  key: string[];
  category: string[];
  configKey: string[];
  displayName: string[];
  description: (string | null)[];
  inputType: string[];
  valueType: string[];
  rules: string[];
  defaultValue: (string | null)[];
  required: boolean[];
  sortOrder: number[];
  groupName: (string | null)[];
  helpText: (string | null)[];
} {
  return {
    key: meta.map((m) => m.key),
    category: meta.map((m) => m.category || categoryOf(m.key)),
    configKey: meta.map((m) => configKeyOf(m.key, m.category || categoryOf(m.key))),
    displayName: meta.map((m) => m.displayName),
    description: meta.map((m) => m.description),
    inputType: meta.map((m) => m.inputType),
    valueType: meta.map((m) => m.valueType),
    rules: meta.map((m) => JSON.stringify(m.validationRules ?? {})),
    defaultValue: meta.map((m) => m.defaultValue),
    required: meta.map((m) => m.isRequired),
    sortOrder: meta.map((m) => m.sortOrder),
    groupName: meta.map((m) => m.groupName),
    helpText: meta.map((m) => m.helpText),
  };
}

/** Raw directory rows as both stores select them. */
export interface DirectoryRows {
  tenants: Array<[string, string, string | null]>;
  departments: Array<[string, string, string]>;
  groups: Array<[string, string | null, string | null, string]>;
  /**
   * id, tenant_id, department, display_name, email, traits (array, JSON text or U+001F-joined
   * text), db_role, and optionally the groups in order (U+001F-joined text) instead of `members`.
   */
  users: Array<
    [
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      unknown,
      string | null,
      (string | null)?,
    ]
  >;
  /** user_id, group_id ordered by user_id, position */
  members: Array<[string, string]>;
}

/** Assembles a Directory from its rows; memberships must arrive ordered by position. */
export function directoryFromRows(rows: DirectoryRows): Directory {
  const tenants: Tenant[] = rows.tenants.map((r) => ({ id: r[0], name: r[1], tenantType: r[2] }));
  const departments: Department[] = rows.departments.map((r) => ({
    tenantId: r[0],
    id: r[1],
    name: r[2],
  }));
  const groups: Group[] = rows.groups.map((r) => ({
    id: r[0],
    tenantId: r[1],
    department: r[2],
    name: r[3],
  }));
  const groupsOf = new Map<string, string[]>();
  for (const [userId, groupId] of rows.members) {
    let list = groupsOf.get(userId);
    if (!list) groupsOf.set(userId, (list = []));
    list.push(groupId);
  }
  const users: DirectoryUser[] = rows.users.map((r) => ({
    id: r[0],
    tenantId: r[1],
    department: r[2],
    displayName: r[3],
    email: r[4],
    traits: parseTraits(r[5]),
    dbRole: r[6],
    groups: r.length > 7 ? splitUnits(r[7] ?? null) : (groupsOf.get(r[0]) ?? []),
  }));
  return { tenants, departments, groups, users };
}

/** Splits text joined with the unit separator (U+001F), which no valid id contains. */
export function splitUnits(v: string | null): string[] {
  return v === null || v === '' ? [] : v.split('\u001f');
}

function parseTraits(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string' && !v.startsWith('[')) return splitUnits(v);
  if (typeof v === 'string') {
    try {
      const parsed = JSON.parse(v) as unknown;
      return Array.isArray(parsed) ? parsed.map(String) : [];
    } catch {
      return [];
    }
  }
  return [];
}

/** Audit row columns as both stores select them. */
export type AuditRow = [
  string, // id
  number | string, // seq
  string, // config_table (level)
  string | null, // config_id (scope)
  string, // key
  string | null, // old_value
  string | null, // new_value
  string, // change_type
  string, // changed_by
  string, // changed_at
  string | null, // reason
  string | null, // push_id
];

/** The change columns every audit row has, value and directory rows alike. */
function auditChangeFromRow(r: AuditRow): AuditChange {
  const type = r[7];
  return {
    seq: Number(r[1]),
    oldValue: r[5],
    newValue: r[6],
    changeType: type === 'create' || type === 'delete' ? type : 'update',
    changedBy: r[8],
    changedAt: r[9],
    reason: r[10],
    pushId: r[11],
  };
}

/** Converts an audit row into an AuditRecord. */
export function auditFromRow(r: AuditRow): AuditRecord {
  return {
    ...auditChangeFromRow(r),
    id: r[0],
    level: asLevel(r[2]),
    scope: r[3] ?? '',
    key: r[4],
  };
}

/** Converts a directory audit row (config_table 'dir:<kind>') into a DirectoryAuditRecord. */
export function directoryAuditFromRow(r: AuditRow): DirectoryAuditRecord {
  return {
    ...auditChangeFromRow(r),
    // The query selects only config_table = 'dir:<kind>' of DIRECTORY_AUDIT_KINDS.
    kind: r[2].slice('dir:'.length) as DirectoryAuditKind,
    ref: r[3] ?? '',
    field: r[4],
  };
}
