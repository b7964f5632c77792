/**
 * Impact preview and lock checks for a staged change set (a draft's plan, an import, a template
 * application): which users, groups, departments and tenants get a different effective value
 * for each key, and whether a change tries to override a value a more general level locked.
 *
 * Speed: effective values never depend on a user's identity beyond (tenant, department, ordered
 * groups) and the user's own entries. Users are therefore grouped once per directory into
 * context classes; for each changed key only the classes the change can reach are resolved
 * (before and after, from the in-memory index plus an overlay of the changes, never per-user
 * SQL), and individual users are visited only where a class's outcome changed, to check for
 * their own override. A global key over 100,000 users resolves a few thousand classes, not
 * 100,000 users.
 */
import { settleChain } from './config-index.js';
import type { ConfigIndex, RawLink, RawResolution } from './config-index.js';
import { LEVELS, StrataError } from './types.js';
import type {
  ConfigEntry,
  Directory,
  DirectoryUser,
  Level,
  Slot,
  SourceLevel,
  UserContext,
  ValueType,
} from './types.js';

/** One change in stored form: values already normalised and, for secrets, encrypted. */
export interface SlotChange extends Slot {
  action: 'set' | 'unset';
  /** Stored text (a ciphertext envelope when encrypted); null for unset. */
  value: string | null;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
}

/** Read access to stored entries: the index itself, or the index with a change set applied. */
export interface ConfigView {
  readonly index: ConfigIndex;
  /** The entry at a slot in this view (null: nothing set there). */
  entry(level: Level, scope: string, key: string): ConfigEntry | null;
}

/** What a context resolves to when no level sets the key (legacy .env value or metadata default). */
export interface Fallback {
  level: 'env_legacy' | 'default';
  value: string | null;
  valueType: ValueType;
}

/** Users that share (tenant, department, ordered groups) and so resolve alike below user level. */
export interface ContextClass {
  readonly id: number;
  readonly tenantId: string | null;
  /** Null when the class has no tenant (a department needs one). */
  readonly department: string | null;
  /** Distinct group ids in priority order (first wins). */
  readonly groups: readonly string[];
  readonly users: readonly DirectoryUser[];
  /** Position of each member in Directory.users (parallel to `users`). */
  readonly ordinals: readonly number[];
  /** `tenant/department` when the class has both, else null. */
  readonly departmentScope: string | null;
  /**
   * Positions in ContextClasses.tenantIds / departmentScopes / groupIds (-1: none, or a class
   * made up outside contextClasses()); groupIdxs is parallel to `groups`.
   */
  readonly tenantIdx: number;
  readonly departmentIdx: number;
  readonly groupIdxs: Int32Array;
}

/** The directory's users grouped into context classes, with lookups by scope. */
export interface ContextClasses {
  readonly all: readonly ContextClass[];
  readonly byTenant: ReadonlyMap<string, readonly ContextClass[]>;
  /** Keyed by department scope id `tenant/department`. */
  readonly byDepartment: ReadonlyMap<string, readonly ContextClass[]>;
  readonly byGroup: ReadonlyMap<string, readonly ContextClass[]>;
  readonly classOfUser: ReadonlyMap<string, ContextClass>;
  readonly userCount: number;
  /** Directory.users, in directory order. */
  readonly users: readonly DirectoryUser[];
  /** Class id of each user by position in Directory.users. */
  readonly classIdOfOrdinal: Int32Array;
  /** Every tenant, department scope and group some class names (interned: sweeps index arrays). */
  readonly tenantIds: readonly string[];
  readonly departmentScopes: readonly string[];
  readonly groupIds: readonly string[];
}

/** Members of one tenant, department or group whose value changes. */
export interface ImpactCount {
  id: string;
  users: number;
}

/** A changed slot of a key and the users whose change it explains. */
export interface SlotImpact {
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  locked: boolean;
  usersAffected: number;
  /** Tenants of the users attributed to this slot, sorted. */
  tenants: string[];
  /** Present with `includeUsers`: affected user ids, sorted. */
  userIds?: string[];
}

/** The impact of a change set on one key. */
export interface KeyImpact {
  key: string;
  usersAffected: number;
  /** Tenants with affected members, sorted by id. */
  tenants: ImpactCount[];
  /** Departments (scope ids `tenant/department`) with affected members, sorted by id. */
  departments: ImpactCount[];
  /** Groups with affected members, sorted by id. */
  groups: ImpactCount[];
  /** The key's changed slots; each affected user is attributed to exactly one of them. */
  slots: SlotImpact[];
  /** Present with `includeUsers`: affected user ids, sorted. */
  userIds?: string[];
}

/** The impact of a whole change set. */
export interface ImpactReport {
  keys: KeyImpact[];
  /** Distinct users affected by at least one key. */
  usersAffected: number;
  /** Users in the directory. */
  totalUsers: number;
  /**
   * Context classes resolved (before and after) plus users resolved individually: the work done,
   * which grows with distinct contexts rather than with users.
   */
  evaluations: number;
}

/** Options for computeImpact. */
export interface ImpactOptions {
  /** Also list affected user ids per key and per slot. */
  includeUsers?: boolean;
}

/** One key for one user, before and after a change set, each with its full chain. */
export interface UserKeyImpact {
  key: string;
  userId: string;
  before: RawResolution;
  after: RawResolution;
  /** The effective value differs (value, type, or secret fingerprint). */
  changed: boolean;
}

/** A lock that a slot would have to override. */
export interface LockHolder {
  /** Where the lock is set. */
  level: Level;
  scope: string;
  key: string;
  entry: ConfigEntry;
}

/** A change that would override a lock. */
export interface LockViolation {
  change: Slot;
  lock: LockHolder;
  /** One sentence naming the key, the lock and where it is set. */
  message: string;
}

const SEP = '\u0000';

function slotId(level: Level, scope: string): string {
  return `${level}${SEP}${scope}`;
}

function fullSlotId(s: Slot): string {
  return `${s.level}${SEP}${s.scope}${SEP}${s.key}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Group ids with later repeats dropped (the first occurrence decides precedence). */
function distinctGroups(groups: readonly string[]): readonly string[] {
  if (groups.length < 2) return groups;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const g of groups) {
    if (!seen.has(g)) {
      seen.add(g);
      out.push(g);
    }
  }
  return out.length === groups.length ? groups : out;
}

// ---------------------------------------------------------------------------------------------
// Views

/** The index as it is. */
export function indexView(index: ConfigIndex): ConfigView {
  return {
    index,
    entry: (level, scope, key) => index.get({ level, scope, key }) ?? null,
  };
}

/** The stored entry a set change would produce (version is the next one, unknown until written). */
function changeEntry(c: SlotChange, before: ConfigEntry | null): ConfigEntry {
  return {
    level: c.level,
    scope: c.scope,
    key: c.key,
    value: c.value ?? '',
    valueType: c.valueType,
    encrypted: c.encrypted,
    locked: c.locked,
    version: before === null ? 1 : before.version + 1,
    updatedAt: before?.updatedAt ?? '',
    updatedBy: null,
  };
}

/** Refuses a change set that names one slot twice or holds a malformed change. */
function checkChanges(changes: readonly SlotChange[]): void {
  const seen = new Set<string>();
  for (const c of changes) {
    if (!(LEVELS as readonly string[]).includes(c.level)) {
      throw new StrataError(
        'invalid',
        `Unknown level '${String(c.level)}'; valid levels are ${LEVELS.join(', ')}.`,
      );
    }
    if (c.action !== 'set' && c.action !== 'unset') {
      throw new StrataError(
        'invalid',
        `Unknown action '${String(c.action)}' for ${c.key}; use set or unset.`,
      );
    }
    if (c.action === 'set' && typeof c.value !== 'string') {
      throw new StrataError(
        'invalid',
        `The change to ${c.key} at ${describeSlot(c)} has no value.`,
      );
    }
    const id = fullSlotId(c);
    if (seen.has(id)) {
      throw new StrataError(
        'invalid',
        `The change set names ${c.key} at ${describeSlot(c)} more than once; keep one change per slot.`,
      );
    }
    seen.add(id);
  }
}

/** A view of the index with a change set applied on top (the index is not modified). */
export class OverlayView implements ConfigView {
  readonly index: ConfigIndex;
  /** key -> slot id (level + scope) -> entry after the change (null: unset). */
  private readonly byKey = new Map<string, Map<string, ConfigEntry | null>>();
  private readonly list: readonly SlotChange[];

  constructor(index: ConfigIndex, changes: readonly SlotChange[]) {
    checkChanges(changes);
    this.index = index;
    this.list = changes;
    for (const c of changes) {
      let slots = this.byKey.get(c.key);
      if (slots === undefined) {
        slots = new Map();
        this.byKey.set(c.key, slots);
      }
      const before = index.get(c) ?? null;
      slots.set(slotId(c.level, c.scope), c.action === 'set' ? changeEntry(c, before) : null);
    }
  }

  entry(level: Level, scope: string, key: string): ConfigEntry | null {
    const slots = this.byKey.get(key);
    if (slots !== undefined) {
      const hit = slots.get(slotId(level, scope));
      if (hit !== undefined) return hit;
    }
    return this.index.get({ level, scope, key }) ?? null;
  }

  /** The changes this view applies, in the order given. */
  changes(): readonly SlotChange[] {
    return this.list;
  }

  /** Keys the change set touches, sorted. */
  changedKeys(): string[] {
    return [...this.byKey.keys()].sort(compareText);
  }
}

// ---------------------------------------------------------------------------------------------
// Context classes

const classCache = new WeakMap<Directory, ContextClasses>();

/**
 * Groups a directory's users by (tenant, department, distinct ordered groups). Cached per
 * Directory object: ConfigIndex.replaceDirectory() installs a new object, so a stale grouping
 * is never reused.
 */
export function contextClasses(dir: Directory): ContextClasses {
  const cached = classCache.get(dir);
  if (cached !== undefined) return cached;
  const bySignature = new Map<
    string,
    { cls: ContextClass; users: DirectoryUser[]; ordinals: number[] }
  >();
  const classOfUser = new Map<string, ContextClass>();
  const all: ContextClass[] = [];
  const users = dir.users;
  const classIdOfOrdinal = new Int32Array(users.length);
  const tenantIds: string[] = [];
  const departmentScopes: string[] = [];
  const groupIds: string[] = [];
  const tenantIdx = new Map<string, number>();
  const departmentIdx = new Map<string, number>();
  const groupIdx = new Map<string, number>();
  const intern = (m: Map<string, number>, list: string[], id: string): number => {
    let i = m.get(id);
    if (i === undefined) {
      i = list.length;
      list.push(id);
      m.set(id, i);
    }
    return i;
  };
  for (let ord = 0; ord < users.length; ord++) {
    const u = users[ord]!;
    const tenantId = u.tenantId ?? null;
    const department = tenantId === null ? null : (u.department ?? null);
    const groups = distinctGroups(u.groups ?? []);
    // \u0001 cannot appear in ids, so 'no tenant' and 'no department' never collide with one.
    const sig = `${tenantId ?? '\u0001'}${SEP}${department ?? '\u0001'}${SEP}${groups.join(SEP)}`;
    let slot = bySignature.get(sig);
    if (slot === undefined) {
      const members: DirectoryUser[] = [];
      const ordinals: number[] = [];
      const departmentScope =
        tenantId !== null && department !== null ? `${tenantId}/${department}` : null;
      const cls: ContextClass = {
        id: all.length,
        tenantId,
        department,
        groups,
        users: members,
        ordinals,
        departmentScope,
        tenantIdx: tenantId === null ? -1 : intern(tenantIdx, tenantIds, tenantId),
        departmentIdx:
          departmentScope === null ? -1 : intern(departmentIdx, departmentScopes, departmentScope),
        groupIdxs: Int32Array.from(groups, (g) => intern(groupIdx, groupIds, g)),
      };
      slot = { cls, users: members, ordinals };
      bySignature.set(sig, slot);
      all.push(cls);
    }
    slot.users.push(u);
    slot.ordinals.push(ord);
    classOfUser.set(u.id, slot.cls);
    classIdOfOrdinal[ord] = slot.cls.id;
  }
  const byTenant = new Map<string, ContextClass[]>();
  const byDepartment = new Map<string, ContextClass[]>();
  const byGroup = new Map<string, ContextClass[]>();
  const add = (m: Map<string, ContextClass[]>, k: string, c: ContextClass): void => {
    const list = m.get(k);
    if (list === undefined) m.set(k, [c]);
    else list.push(c);
  };
  for (const c of all) {
    if (c.tenantId !== null) {
      add(byTenant, c.tenantId, c);
      if (c.departmentScope !== null) add(byDepartment, c.departmentScope, c);
    }
    for (const g of c.groups) add(byGroup, g, c);
  }
  const result: ContextClasses = {
    all,
    byTenant,
    byDepartment,
    byGroup,
    classOfUser,
    userCount: dir.users.length,
    users,
    classIdOfOrdinal,
    tenantIds,
    departmentScopes,
    groupIds,
  };
  classCache.set(dir, result);
  return result;
}

/** Classes whose members a value at (level, scope) can reach (user level: the user's class). */
export function classesInScope(
  classes: ContextClasses,
  level: Level,
  scope: string,
): readonly ContextClass[] {
  switch (level) {
    case 'global':
      return classes.all;
    case 'tenant':
      return classes.byTenant.get(scope) ?? [];
    case 'department':
      return classes.byDepartment.get(scope) ?? [];
    case 'group':
      return classes.byGroup.get(scope) ?? [];
    case 'user': {
      const c = classes.classOfUser.get(scope);
      return c === undefined ? [] : [c];
    }
    default:
      return [];
  }
}

/** True when a value at (level, scope) applies to members of the class. */
function classInScope(c: ContextClass, level: Level, scope: string): boolean {
  switch (level) {
    case 'global':
      return true;
    case 'tenant':
      return c.tenantId === scope;
    case 'department':
      return (
        c.tenantId !== null && c.department !== null && `${c.tenantId}/${c.department}` === scope
      );
    case 'group':
      return c.groups.includes(scope);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Resolution over a view

/** The value a context falls back to when no level sets the key. */
export function fallbackFor(
  index: ConfigIndex,
  key: string,
  legacy?: ReadonlyMap<string, string> | null,
): Fallback {
  const meta = index.metadata(key);
  const legacyMap = legacy === undefined ? index.legacyMap() : legacy;
  const lv = legacyMap?.get(key);
  if (lv !== undefined) {
    return { level: 'env_legacy', value: lv, valueType: meta?.valueType ?? 'string' };
  }
  return {
    level: 'default',
    value: meta?.defaultValue ?? null,
    valueType: meta?.valueType ?? 'string',
  };
}

/**
 * One key's entries in one view, memoised per scope: the classes of a directory share a few
 * tenants, departments and groups, so a sweep over thousands of classes reads each slot once.
 */
export class KeyLookup {
  private readonly tenants = new Map<string, ConfigEntry | null>();
  private readonly departments = new Map<string, ConfigEntry | null>();
  private readonly groupEntries = new Map<string, ConfigEntry | null>();
  private readonly globalEntry: ConfigEntry | null;
  // With the classes' interned ids, memo slots are array cells (undefined: not read yet).
  private readonly tenantCells: Array<ConfigEntry | null | undefined>;
  private readonly departmentCells: Array<ConfigEntry | null | undefined>;
  private readonly groupCells: Array<ConfigEntry | null | undefined>;

  constructor(
    private readonly view: ConfigView,
    readonly key: string,
    classes?: ContextClasses,
  ) {
    this.globalEntry = view.entry('global', '', key);
    this.tenantCells = classes
      ? new Array<ConfigEntry | null | undefined>(classes.tenantIds.length)
      : [];
    this.departmentCells = classes
      ? new Array<ConfigEntry | null | undefined>(classes.departmentScopes.length)
      : [];
    this.groupCells = classes
      ? new Array<ConfigEntry | null | undefined>(classes.groupIds.length)
      : [];
  }

  private cell(
    cells: Array<ConfigEntry | null | undefined>,
    i: number,
    m: Map<string, ConfigEntry | null>,
    level: Level,
    scope: string,
  ): ConfigEntry | null {
    if (i < 0 || i >= cells.length) return this.memo(m, level, scope);
    let e = cells[i];
    if (e === undefined) {
      e = this.view.entry(level, scope, this.key);
      cells[i] = e;
    }
    return e;
  }

  private memo(
    m: Map<string, ConfigEntry | null>,
    level: Level,
    scope: string,
  ): ConfigEntry | null {
    let e = m.get(scope);
    if (e === undefined) {
      e = this.view.entry(level, scope, this.key);
      m.set(scope, e);
    }
    return e;
  }

  /** The entry at a slot of this key (user slots are not memoised: each is read once). */
  entry(level: Level, scope: string): ConfigEntry | null {
    switch (level) {
      case 'global':
        return this.globalEntry;
      case 'tenant':
        return this.memo(this.tenants, level, scope);
      case 'department':
        return this.memo(this.departments, level, scope);
      case 'group':
        return this.memo(this.groupEntries, level, scope);
      default:
        return this.view.entry(level, scope, this.key);
    }
  }

  /**
   * The winning entry for a class below user level: walking general -> specific, the last entry
   * set wins unless an earlier one is locked. Null means no level sets the key (fallback).
   * `skip` pretends one entry is absent (what a context would inherit without it).
   */
  winner(cls: ContextClass, skip: ConfigEntry | null = null): ConfigEntry | null {
    let w: ConfigEntry | null = null;
    let e = this.globalEntry;
    if (e !== null && e !== skip) {
      w = e;
      if (e.locked) return w;
    }
    const tenantId = cls.tenantId;
    if (tenantId !== null) {
      e = this.cell(this.tenantCells, cls.tenantIdx, this.tenants, 'tenant', tenantId);
      if (e !== null && e !== skip) {
        w = e;
        if (e.locked) return w;
      }
      if (cls.departmentScope !== null) {
        e = this.cell(
          this.departmentCells,
          cls.departmentIdx,
          this.departments,
          'department',
          cls.departmentScope,
        );
        if (e !== null && e !== skip) {
          w = e;
          if (e.locked) return w;
        }
      }
    }
    const groups = cls.groups;
    const gi = cls.groupIdxs;
    for (let i = groups.length - 1; i >= 0; i--) {
      e = this.cell(this.groupCells, gi[i] ?? -1, this.groupEntries, 'group', groups[i]!);
      if (e !== null && e !== skip) {
        w = e;
        if (e.locked) return w;
      }
    }
    return w;
  }
}

/** The winner for a user given the class winner and the user's own entry. */
function userWinner(classW: ConfigEntry | null, own: ConfigEntry | null): ConfigEntry | null {
  if (classW !== null && classW.locked) return classW;
  return own ?? classW;
}

/** The fingerprint part of a v1 secret envelope, or null when `s` is not one. */
function envelopeFingerprint(s: string): string | null {
  if (!s.startsWith('enc:v1:')) return null;
  const fp = s.split(':')[3];
  return fp === undefined || fp === '' ? null : fp;
}

/**
 * True when two winners give the same effective value: same type and text, or for secrets the
 * same fingerprint (re-encrypting a value yields new ciphertext but the same fingerprint).
 */
export function sameEffective(
  a: ConfigEntry | null,
  b: ConfigEntry | null,
  fallback: Fallback,
): boolean {
  if (a === b) return true;
  const av = a === null ? fallback.value : a.value;
  const bv = b === null ? fallback.value : b.value;
  const at = a === null ? fallback.valueType : a.valueType;
  const bt = b === null ? fallback.valueType : b.valueType;
  if (at !== bt) return false;
  const ae = a !== null && a.encrypted;
  const be = b !== null && b.encrypted;
  if (ae !== be) return false;
  if (av === bv) return true;
  if (ae && av !== null && bv !== null) {
    const fa = envelopeFingerprint(av);
    return fa !== null && fa === envelopeFingerprint(bv);
  }
  return false;
}

/**
 * Resolves one key for a context over any view, with the full chain: the same result as
 * ConfigIndex.resolve() when the view is the index itself.
 */
export function resolveInView(view: ConfigView, key: string, ctx: UserContext): RawResolution {
  const index = view.index;
  const legacy = index.legacyMap();
  const chain: RawLink[] = [];
  const push = (level: Level, scope: string): void => {
    const e = view.entry(level, scope, key);
    chain.push({
      level,
      scope,
      entry: e,
      value: e === null ? null : e.value,
      winner: false,
      shadowed: false,
    });
  };
  if (legacy !== null) {
    const v = legacy.get(key);
    chain.push({
      level: 'env_legacy',
      scope: '',
      entry: null,
      value: v ?? null,
      winner: false,
      shadowed: false,
    });
  }
  push('global', '');
  const tenantId = ctx.tenantId ?? null;
  if (tenantId !== null) {
    push('tenant', tenantId);
    if (ctx.department !== null && ctx.department !== undefined) {
      push('department', `${tenantId}/${ctx.department}`);
    }
  }
  const groups = distinctGroups(ctx.groups ?? []);
  for (let i = groups.length - 1; i >= 0; i--) push('group', groups[i]!);
  if (ctx.userId !== null && ctx.userId !== undefined) push('user', ctx.userId);

  return settleChain(key, chain, index.metadata(key));
}

// ---------------------------------------------------------------------------------------------
// Impact

/** Non-zero counters as sorted ImpactCounts. */
function nonZero(ids: readonly string[], n: Int32Array): ImpactCount[] {
  const out: ImpactCount[] = [];
  for (let i = 0; i < ids.length; i++) if (n[i]! > 0) out.push({ id: ids[i]!, users: n[i]! });
  return out.sort((a, b) => compareText(a.id, b.id));
}

/**
 * Computes, for every key a change set touches, the users whose effective value changes, with
 * counts per tenant, department and group and an attribution of each user to one changed slot
 * (the slot that now supplies the value, or the one that used to).
 */
export function computeImpact(
  index: ConfigIndex,
  changes: readonly SlotChange[] | OverlayView,
  opts: ImpactOptions = {},
): ImpactReport {
  const after = changes instanceof OverlayView ? changes : new OverlayView(index, changes);
  return computeImpactBetween(indexView(index), after, after.changes(), opts);
}

/**
 * The same computation between two views of one index that differ only at the given slots: for
 * example a draft, whose index already holds its staged changes (after), against an overlay that
 * puts the pulled base values back (before). `changes` are reported forward (before -> after).
 */
export function computeImpactBetween(
  before: ConfigView,
  after: ConfigView,
  changes: readonly SlotChange[],
  opts: ImpactOptions = {},
): ImpactReport {
  if (before.index !== after.index) {
    throw new StrataError('internal', 'Impact compares two views of the same index.');
  }
  checkChanges(changes);
  const index = after.index;
  const classes = contextClasses(index.directory());
  const legacy = index.legacyMap();
  const includeUsers = opts.includeUsers === true;

  const changesByKey = new Map<string, SlotChange[]>();
  for (const c of changes) {
    const list = changesByKey.get(c.key);
    if (list === undefined) changesByKey.set(c.key, [c]);
    else list.push(c);
  }

  // Distinct affected users across keys, by position in Directory.users.
  const seen = new Uint8Array(classes.userCount);
  let distinct = 0;
  let evaluations = 0;
  const keys: KeyImpact[] = [];
  const stamp = new Int32Array(classes.all.length).fill(-1);
  let stampNo = 0;
  // One reused probe: the per-user own-entry check is the only per-user work, keep it lean.
  const probe: Slot = { level: 'user', scope: '', key: '' };

  for (const key of [...changesByKey.keys()].sort(compareText)) {
    const list = changesByKey.get(key)!;
    probe.key = key;
    const fallback = fallbackFor(index, key, legacy);
    const beforeKey = new KeyLookup(before, key, classes);
    const afterKey = new KeyLookup(after, key, classes);
    const slotIndex = new Map<string, number>();
    list.forEach((c, i) => slotIndex.set(slotId(c.level, c.scope), i));
    const slotCounts = list.map(() => 0);
    const slotTenants = list.map(() => new Set<string>());
    const slotUsers: string[][] | null = includeUsers ? list.map(() => []) : null;
    const affected: string[] | null = includeUsers ? [] : null;
    let affectedCount = 0;

    // Users whose own slot changes are resolved one by one; everyone else through their class.
    const changedUsers = new Set<string>();
    let global = false;
    const marked: ContextClass[] = [];
    const mark = stampNo++;
    for (const c of list) {
      if (c.level === 'user') changedUsers.add(c.scope);
      else if (c.level === 'global') global = true;
      else if (!global) {
        for (const cls of classesInScope(classes, c.level, c.scope)) {
          if (stamp[cls.id] !== mark) {
            stamp[cls.id] = mark;
            marked.push(cls);
          }
        }
      }
    }
    const candidates = global ? classes.all : marked;
    const anyChangedUser = changedUsers.size > 0;

    const attribute = (
      cls: ContextClass,
      bw: ConfigEntry | null,
      aw: ConfigEntry | null,
    ): number => {
      if (aw !== null) {
        const i = slotIndex.get(slotId(aw.level, aw.scope));
        if (i !== undefined) return i;
      }
      if (bw !== null) {
        const i = slotIndex.get(slotId(bw.level, bw.scope));
        if (i !== undefined) return i;
      }
      // A lock change that altered precedence without either winner being a changed slot.
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        if (c.level !== 'user' && classInScope(cls, c.level, c.scope)) return i;
      }
      return 0;
    };

    // Affected members per class; tenants, departments and groups are tallied from it.
    const perClass = new Int32Array(classes.all.length);
    const touched: ContextClass[] = [];
    const hit = (cls: ContextClass, ord: number, id: string, slot: number): void => {
      if (seen[ord] === 0) {
        seen[ord] = 1;
        distinct++;
      }
      slotCounts[slot]!++;
      if (cls.tenantId !== null) slotTenants[slot]!.add(cls.tenantId);
      if (slotUsers !== null) slotUsers[slot]!.push(id);
      if (affected !== null) affected.push(id);
      if (perClass[cls.id]++ === 0) touched.push(cls);
      affectedCount++;
    };

    // Phase 1: each reachable class once, before and after (below user level).
    const evaluate = new Uint8Array(classes.all.length);
    const bwOf: Array<ConfigEntry | null> = [];
    const awOf: Array<ConfigEntry | null> = [];
    const commonOf = new Int32Array(classes.all.length);
    let members = 0;
    const evaluated: ContextClass[] = [];
    for (const cls of candidates) {
      evaluations++;
      const bw = beforeKey.winner(cls);
      const aw = afterKey.winner(cls);
      const bLocked = bw !== null && bw.locked;
      const aLocked = aw !== null && aw.locked;
      const valueChanged = !sameEffective(bw, aw, fallback);
      // Same value and same lock: only users whose own slot changed can differ (done below).
      if (bLocked === aLocked && !valueChanged) continue;
      evaluate[cls.id] = 1;
      bwOf[cls.id] = bw;
      awOf[cls.id] = aw;
      // Members without an own entry all see bw -> aw, explained by the same slot.
      commonOf[cls.id] = valueChanged ? attribute(cls, bw, aw) : -1;
      members += cls.users.length;
      evaluated.push(cls);
    }

    // Phase 2: members of the changed classes, checked for an own override. Many members are
    // swept in directory order (the order the index stored their entries, so its maps are read
    // nearly sequentially); a few are visited class by class.
    const visit = (cls: ContextClass, u: DirectoryUser, ord: number): void => {
      if (anyChangedUser && changedUsers.has(u.id)) return;
      probe.scope = u.id;
      // Unchanged user slot: the before and after views agree on it.
      const own = index.get(probe) ?? null;
      const id = cls.id;
      if (own === null) {
        const common = commonOf[id]!;
        if (common >= 0) hit(cls, ord, u.id, common);
        return;
      }
      const b = userWinner(bwOf[id]!, own);
      const a = userWinner(awOf[id]!, own);
      if (!sameEffective(b, a, fallback)) hit(cls, ord, u.id, attribute(cls, b, a));
    };
    if (members * 4 >= classes.userCount) {
      const all = classes.all;
      const users = classes.users;
      const classOf = classes.classIdOfOrdinal;
      for (let ord = 0; ord < users.length; ord++) {
        const cid = classOf[ord]!;
        if (evaluate[cid] === 1) visit(all[cid]!, users[ord]!, ord);
      }
    } else {
      for (const cls of evaluated) {
        for (let m = 0; m < cls.users.length; m++) visit(cls, cls.users[m]!, cls.ordinals[m]!);
      }
    }

    for (const userId of [...changedUsers].sort(compareText)) {
      const cls = classes.classOfUser.get(userId);
      if (cls === undefined) continue;
      evaluations++;
      const bw = userWinner(beforeKey.winner(cls), before.entry('user', userId, key));
      const aw = userWinner(afterKey.winner(cls), after.entry('user', userId, key));
      if (sameEffective(bw, aw, fallback)) continue;
      const ord = cls.ordinals[cls.users.findIndex((u) => u.id === userId)]!;
      hit(cls, ord, userId, attribute(cls, bw, aw));
    }

    const perTenant = new Int32Array(classes.tenantIds.length);
    const perDepartment = new Int32Array(classes.departmentScopes.length);
    const perGroup = new Int32Array(classes.groupIds.length);
    for (const cls of touched) {
      const n = perClass[cls.id]!;
      if (cls.tenantIdx >= 0) perTenant[cls.tenantIdx]! += n;
      if (cls.departmentIdx >= 0) perDepartment[cls.departmentIdx]! += n;
      for (const g of cls.groupIdxs) perGroup[g]! += n;
    }
    const tenants = nonZero(classes.tenantIds, perTenant);
    const departments = nonZero(classes.departmentScopes, perDepartment);
    const groups = nonZero(classes.groupIds, perGroup);

    const item: KeyImpact = {
      key,
      usersAffected: affectedCount,
      tenants,
      departments,
      groups,
      slots: list.map((c, i) => {
        const s: SlotImpact = {
          level: c.level,
          scope: c.scope,
          key: c.key,
          action: c.action,
          locked: c.action === 'set' && c.locked,
          usersAffected: slotCounts[i]!,
          tenants: [...slotTenants[i]!].sort(compareText),
        };
        if (slotUsers !== null) s.userIds = slotUsers[i]!.sort(compareText);
        return s;
      }),
    };
    if (affected !== null) item.userIds = affected.sort(compareText);
    keys.push(item);
  }

  return {
    keys,
    usersAffected: distinct,
    totalUsers: classes.userCount,
    evaluations,
  };
}

/**
 * Drill-down: one user's before -> after for the keys a change set touches (or one key), each
 * with its full provenance chain. Throws StrataError('not_found') for an unknown user.
 */
export function impactForUser(
  index: ConfigIndex,
  changes: readonly SlotChange[] | OverlayView,
  userId: string,
  key?: string,
): UserKeyImpact[] {
  const after = changes instanceof OverlayView ? changes : new OverlayView(index, changes);
  return impactForUserBetween(
    indexView(index),
    after,
    userId,
    key === undefined ? after.changedKeys() : [key],
  );
}

/** impactForUser between two views of one index, for the given keys. */
export function impactForUserBetween(
  before: ConfigView,
  after: ConfigView,
  userId: string,
  keys: readonly string[],
): UserKeyImpact[] {
  // Throws StrataError('not_found') for an unknown user.
  const ctx = after.index.userContext(userId);
  return keys.map((k) => {
    const b = resolveInView(before, k, ctx);
    const a = resolveInView(after, k, ctx);
    return { key: k, userId, before: b, after: a, changed: !sameResolution(b, a) };
  });
}

/** True when two resolutions give the same effective value (secrets: same fingerprint). */
export function sameResolution(
  a: Pick<RawResolution, 'value' | 'valueType' | 'encrypted'>,
  b: Pick<RawResolution, 'value' | 'valueType' | 'encrypted'>,
): boolean {
  if (a.valueType !== b.valueType || a.encrypted !== b.encrypted) return false;
  if (a.value === b.value) return true;
  if (a.encrypted && a.value !== null && b.value !== null) {
    const fa = envelopeFingerprint(a.value);
    return fa !== null && fa === envelopeFingerprint(b.value);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Locks

/** Human-readable place: "tenant mercy_hospital", "department mercy_hospital/it", "global". */
export function describeSlot(s: { level: Level | SourceLevel; scope: string }): string {
  return s.level === 'global' || s.scope === '' ? String(s.level) : `${s.level} ${s.scope}`;
}

/** The refusal for a change that would override a lock. */
export function lockMessage(lock: LockHolder, slot: Slot): string {
  return `${slot.key} is locked at ${describeSlot(lock)}; ${slot.level} overrides are not allowed.`;
}

/**
 * The lock (if any) a value at `slot` would have to override in `view`. Checked for every
 * context the slot reaches: its own (a department's tenant, a group's tenant and department from
 * the directory, a user's tenant, department and groups) and, for a group, each member's tenant
 * and department. The lock at the slot itself does not count: its owner may change it.
 */
export function findLockAbove(view: ConfigView, slot: Slot): LockHolder | null {
  const key = slot.key;
  const check = (level: Level, scope: string): LockHolder | null => {
    if (level === slot.level && scope === slot.scope) return null;
    const e = view.entry(level, scope, key);
    return e !== null && e.locked ? { level, scope, key, entry: e } : null;
  };
  const chain = (tenantId: string | null, department: string | null): LockHolder | null => {
    if (tenantId === null) return null;
    return (
      check('tenant', tenantId) ??
      (department !== null ? check('department', `${tenantId}/${department}`) : null)
    );
  };
  if (slot.level === 'global') return null;
  const g = check('global', '');
  if (g !== null) return g;
  const index = view.index;
  switch (slot.level) {
    case 'tenant':
      return null;
    case 'department': {
      const slash = slot.scope.indexOf('/');
      return slash < 0 ? null : check('tenant', slot.scope.slice(0, slash));
    }
    case 'group': {
      const group = index.directory().groups.find((x) => x.id === slot.scope);
      const own = group ? chain(group.tenantId, group.department) : null;
      if (own !== null) return own;
      const seen = new Set<string>();
      for (const cls of contextClasses(index.directory()).byGroup.get(slot.scope) ?? []) {
        const sig = `${cls.tenantId ?? ''}${SEP}${cls.department ?? ''}`;
        if (seen.has(sig)) continue;
        seen.add(sig);
        const hit = chain(cls.tenantId, cls.department);
        if (hit !== null) return hit;
      }
      return null;
    }
    case 'user': {
      const u = index.user(slot.scope);
      if (u === undefined) return null;
      const tenantId = u.tenantId ?? null;
      const own = chain(tenantId, tenantId === null ? null : u.department);
      if (own !== null) return own;
      const groups = distinctGroups(u.groups);
      for (let i = groups.length - 1; i >= 0; i--) {
        const hit = check('group', groups[i]!);
        if (hit !== null) return hit;
      }
      return null;
    }
    default:
      return null;
  }
}

/**
 * Every set change that would override a lock once the whole change set is applied (so a set
 * that also removes the lock passes, and one that adds a lock above another change fails).
 * Unsets never violate a lock: removing a shadowed override is always allowed.
 */
export function lockViolations(
  index: ConfigIndex,
  changes: readonly SlotChange[] | OverlayView,
): LockViolation[] {
  const after = changes instanceof OverlayView ? changes : new OverlayView(index, changes);
  return lockViolationsIn(after, after.changes());
}

/** lockViolations for a view that already shows the changes applied. */
export function lockViolationsIn(
  after: ConfigView,
  changes: readonly SlotChange[],
): LockViolation[] {
  const out: LockViolation[] = [];
  for (const c of changes) {
    if (c.action !== 'set') continue;
    const lock = findLockAbove(after, c);
    if (lock !== null) {
      const slot = { level: c.level, scope: c.scope, key: c.key };
      out.push({ change: slot, lock, message: lockMessage(lock, slot) });
    }
  }
  return out;
}

/**
 * Throws StrataError('forbidden') naming the lock and where it is set when a set at `slot` would
 * override a lock in the index (optionally with other staged changes applied first).
 */
export function assertNotLocked(
  index: ConfigIndex,
  slot: Slot,
  staged: readonly SlotChange[] = [],
): void {
  const view = staged.length > 0 ? new OverlayView(index, staged) : indexView(index);
  const lock = findLockAbove(view, slot);
  if (lock !== null) {
    throw new StrataError('forbidden', lockMessage(lock, slot), {
      lock: { level: lock.level, scope: lock.scope, key: lock.key },
    });
  }
}

/** Throws StrataError('forbidden') with every lock a change set would override (one per line). */
export function assertNoLockViolations(
  index: ConfigIndex,
  changes: readonly SlotChange[] | OverlayView,
): void {
  const v = lockViolations(index, changes);
  if (v.length === 0) return;
  const shown = v.slice(0, 5).map((x) => x.message);
  const more = v.length > 5 ? ` (and ${v.length - 5} more)` : '';
  throw new StrataError('forbidden', `${shown.join(' ')}${more}`, {
    violations: v.map((x) => ({ ...x.change, lock: { level: x.lock.level, scope: x.lock.scope } })),
  });
}
