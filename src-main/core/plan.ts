/**
 * The three-way plan of a draft: for every change the draft wants, compare what the draft
 * started from (base), what the target holds now (live) and what the draft wants (mine), and
 * decide create, update, delete, no-op or conflict; report where a more general level of the
 * same key moved under the change. Pure: the callers gather the rows, this decides.
 *
 * The rules, in order:
 *   1. live already equals mine                      -> no-op (nothing to write, nothing to fear);
 *   2. live moved since base (version or content)    -> conflict, unless a resolution made
 *                                                       against exactly this live state settles it;
 *   3. otherwise create / update / delete, and the push checks that live is still at the version
 *      the plan saw (expectedVersion), so a change made after the plan is a conflict too.
 * A fresh draft (no source) has no base: every change is based on "nothing there", so a slot the
 * target already holds with another value is a conflict.
 */
import type {
  Department,
  Directory,
  DirectoryUser,
  Group,
  Level,
  Slot,
  Tenant,
  ValueType,
} from './types.js';

/** What a plan item does. */
export const PLAN_ACTIONS = ['create', 'update', 'delete', 'no-op', 'conflict'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** How an operator settles a conflict. */
export const CONFLICT_CHOICES = ['mine', 'theirs', 'edit'] as const;
export type ConflictChoice = (typeof CONFLICT_CHOICES)[number];

/** A stored value as the plan compares it (stored text: an envelope for secrets). */
export interface PlanValue {
  value: string;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
}

/** A stored row: a value with its row version. */
export interface PlanRow extends PlanValue {
  version: number;
}

/** One change the draft wants at one slot (a staged change, or a fresh draft's base entry). */
export interface PlanChange extends Slot {
  /** Stable id of the change within the draft (e.g. `s12` for staged row 12). */
  id: string;
  action: 'set' | 'unset';
  /** Stored text for a set; null for an unset. */
  value: string | null;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
  /** Version of the base row the change was made against (null: the slot was empty). */
  baseVersion: number | null;
  reason: string | null;
  author: string | null;
}

/** A recorded conflict resolution and the live state it was made against. */
export interface PlanResolution {
  choice: ConflictChoice;
  liveToken: string;
}

/** A more general level of the same key whose value moved since the base. */
export interface ParentChange {
  level: Level;
  scope: string;
  base: PlanRow | null;
  live: PlanRow | null;
}

/** Why a conflict is one. */
export type ConflictKind = 'changed' | 'created' | 'deleted';

/** The write a push performs for an item (null: nothing). */
export type PlanWrite = 'insert' | 'update' | 'delete' | null;

/** One item of a plan. */
export interface PlanItem extends Slot {
  id: string;
  /** What the draft wants. */
  change: 'set' | 'unset';
  action: PlanAction;
  base: PlanRow | null;
  live: PlanRow | null;
  mine: PlanValue | null;
  /** For conflicts: what happened live since the base. */
  conflict: ConflictKind | null;
  /** The resolution that settles this conflict (null: none, or it no longer matches live). */
  resolution: ConflictChoice | null;
  /** What the push writes, and the live version it requires (null: the slot must be empty). */
  write: PlanWrite;
  expectedVersion: number | null;
  /** More general levels of this key that moved since the base (pulled drafts only). */
  parentChanged: ParentChange[];
  reason: string | null;
  author: string | null;
}

/** Everything a plan is computed from. */
export interface PlanInput {
  changes: readonly PlanChange[];
  /** True for a draft with no source: it has no base, everything is based on "nothing there". */
  fresh: boolean;
  /** The base row at a slot (what the draft started from). */
  base(slot: Slot): PlanRow | null;
  /** The target's row at a slot now. */
  live(slot: Slot): PlanRow | null;
  /** The recorded resolution of a slot's conflict, if any. */
  resolution(slot: Slot): PlanResolution | null;
  /** The more general slots of the same key that apply to this slot (parentSlots()). */
  parents(slot: Slot): Slot[];
}

/** Counts of a plan. */
export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  noop: number;
  conflicts: number;
  /** Conflicts without a resolution that matches live: while any remain, a push writes nothing. */
  unresolved: number;
  /** Items whose effective value moved under them (a parent level changed). */
  parentChanged: number;
}

/** True when two stored values are the same (encrypted ones by key id and fingerprint). */
export function sameValue(a: PlanValue | null, b: PlanValue | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.valueType !== b.valueType || a.encrypted !== b.encrypted || a.locked !== b.locked) {
    return false;
  }
  if (a.value === b.value) return true;
  // Two envelopes of one plaintext differ (fresh nonce) but share key id and fingerprint.
  if (a.encrypted && a.value.startsWith('enc:v1:') && b.value.startsWith('enc:v1:')) {
    const x = a.value.split(':');
    const y = b.value.split(':');
    return x[2] === y[2] && x[3] === y[3];
  }
  return false;
}

/** True when two rows are the same row state (version and content). */
export function sameRow(a: PlanRow | null, b: PlanRow | null): boolean {
  if (a === null || b === null) return a === b;
  return a.version === b.version && sameValue(a, b);
}

/** 32-bit FNV-1a of a string, as 8 hex digits (identity tokens, not security). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The token a resolution is bound to: the live row's version and a hash of its content, or
 * 'absent'. A version alone would not notice a row deleted and created again (version 1 twice).
 */
export function liveToken(live: PlanRow | null): string {
  if (live === null) return 'absent';
  const fp = live.encrypted && live.value.startsWith('enc:v1:') ? live.value.split(':')[3] : null;
  const content = `${live.valueType}\u0000${live.encrypted ? 1 : 0}\u0000${live.locked ? 1 : 0}\u0000${fp ?? live.value}`;
  return `v${live.version}:${fnv1a(content)}`;
}

/** The value a change wants at its slot (null for an unset). */
export function mineOf(c: PlanChange): PlanValue | null {
  if (c.action === 'unset' || c.value === null) return null;
  return { value: c.value, valueType: c.valueType, encrypted: c.encrypted, locked: c.locked };
}

function writeFor(change: 'set' | 'unset', live: PlanRow | null): PlanWrite {
  if (change === 'unset') return live === null ? null : 'delete';
  return live === null ? 'insert' : 'update';
}

function actionOf(write: PlanWrite): PlanAction {
  return write === 'insert'
    ? 'create'
    : write === 'update'
      ? 'update'
      : write === 'delete'
        ? 'delete'
        : 'no-op';
}

function conflictKind(expectedBase: number | null, live: PlanRow | null): ConflictKind {
  if (expectedBase === null) return 'created';
  if (live === null) return 'deleted';
  return 'changed';
}

/** Plans one change. */
export function planChange(input: PlanInput, c: PlanChange): PlanItem {
  const slot: Slot = { level: c.level, scope: c.scope, key: c.key };
  const live = input.live(slot);
  const mine = mineOf(c);
  const base = input.fresh ? null : input.base(slot);
  const expectedBase = input.fresh ? null : c.baseVersion;
  const parents: ParentChange[] = [];
  if (!input.fresh) {
    for (const p of input.parents(slot)) {
      const pb = input.base(p);
      const pl = input.live(p);
      if (!sameRow(pb, pl)) parents.push({ level: p.level, scope: p.scope, base: pb, live: pl });
    }
  }
  const item: PlanItem = {
    ...slot,
    id: c.id,
    change: c.action,
    action: 'no-op',
    base,
    live,
    mine,
    conflict: null,
    resolution: null,
    write: null,
    expectedVersion: live?.version ?? null,
    parentChanged: parents,
    reason: c.reason,
    author: c.author,
  };
  if (c.action === 'unset' ? live === null : live !== null && sameValue(live, mine)) {
    return item;
  }
  const liveVersion = live?.version ?? null;
  // The base row is known when its version is the one the change was made against; then its
  // content must match live too (a row deleted and created again restarts at version 1).
  const moved =
    liveVersion !== expectedBase ||
    (live !== null && base !== null && base.version === live.version && !sameValue(base, live));
  if (moved) {
    const r = input.resolution(slot);
    const settled = r !== null && r.liveToken === liveToken(live);
    item.action = 'conflict';
    item.conflict = conflictKind(expectedBase, live);
    item.resolution = settled ? r.choice : null;
    item.write = settled && r.choice !== 'theirs' ? writeFor(c.action, live) : null;
    return item;
  }
  item.write = writeFor(c.action, live);
  item.action = actionOf(item.write);
  return item;
}

/** Plans every change, in the order given. */
export function planChanges(input: PlanInput): PlanItem[] {
  return input.changes.map((c) => planChange(input, c));
}

/** True when a conflict item still blocks a push. */
export function isUnresolved(item: { action: PlanAction; resolution: ConflictChoice | null }) {
  return item.action === 'conflict' && item.resolution === null;
}

/** Counts a plan's items. */
export function summarisePlan(items: readonly PlanItem[]): PlanSummary {
  const s: PlanSummary = {
    create: 0,
    update: 0,
    delete: 0,
    noop: 0,
    conflicts: 0,
    unresolved: 0,
    parentChanged: 0,
  };
  for (const i of items) {
    if (i.action === 'create') s.create++;
    else if (i.action === 'update') s.update++;
    else if (i.action === 'delete') s.delete++;
    else if (i.action === 'no-op') s.noop++;
    else {
      s.conflicts++;
      if (i.resolution === null) s.unresolved++;
    }
    if (i.parentChanged.length > 0) s.parentChanged++;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Parent slots

/** The directory facts parentSlots needs. */
export interface ParentLookup {
  group(id: string): Pick<Group, 'tenantId' | 'department'> | undefined;
  user(id: string): Pick<DirectoryUser, 'tenantId' | 'department' | 'groups'> | undefined;
}

/** A ParentLookup over a directory. */
export function parentLookup(dir: Directory): ParentLookup {
  const groups = new Map(dir.groups.map((g) => [g.id, g]));
  const users = new Map(dir.users.map((u) => [u.id, u]));
  return { group: (id) => groups.get(id), user: (id) => users.get(id) };
}

/**
 * The more general slots of the same key that apply wherever `slot` applies: global for a
 * tenant; global and the tenant for a department; global, the tenant and the department of a
 * group; global, tenant, department and every group of a user.
 */
export function parentSlots(slot: Slot, dir: ParentLookup): Slot[] {
  const key = slot.key;
  const out: Slot[] = [];
  const at = (level: Level, scope: string): void => void out.push({ level, scope, key });
  const chain = (tenant: string | null, dept: string | null): void => {
    if (tenant === null) return;
    at('tenant', tenant);
    if (dept !== null) at('department', `${tenant}/${dept}`);
  };
  switch (slot.level) {
    case 'global':
      return out;
    case 'tenant':
      at('global', '');
      return out;
    case 'department': {
      at('global', '');
      const slash = slot.scope.lastIndexOf('/');
      if (slash > 0) at('tenant', slot.scope.slice(0, slash));
      return out;
    }
    case 'group': {
      at('global', '');
      const g = dir.group(slot.scope);
      if (g) chain(g.tenantId, g.tenantId !== null ? g.department : null);
      return out;
    }
    case 'user': {
      at('global', '');
      const u = dir.user(slot.scope);
      if (u) {
        chain(u.tenantId, u.tenantId !== null ? u.department : null);
        for (const g of u.groups) at('group', g);
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Directory changes

/** Kinds of directory rows a draft can stage. */
export const DIRECTORY_KINDS = ['tenant', 'department', 'group', 'user'] as const;
export type DirectoryKind = (typeof DIRECTORY_KINDS)[number];

/** A directory row of some kind. */
export type DirectoryRow = Tenant | Department | Group | DirectoryUser;

/** The id a directory row is known by (`tenant/department` for a department). */
export function directoryRef(kind: DirectoryKind, row: DirectoryRow): string {
  if (kind === 'department') {
    const d = row as Department;
    return `${d.tenantId}/${d.id}`;
  }
  return row.id;
}

/** Canonical text of a directory row (field order fixed), for comparisons and tokens. */
export function canonicalDirectoryRow(kind: DirectoryKind, row: DirectoryRow | null): string {
  if (row === null) return 'absent';
  switch (kind) {
    case 'tenant': {
      const t = row as Tenant;
      return JSON.stringify([t.id, t.name, t.tenantType ?? null]);
    }
    case 'department': {
      const d = row as Department;
      return JSON.stringify([d.tenantId, d.id, d.name]);
    }
    case 'group': {
      const g = row as Group;
      return JSON.stringify([g.id, g.tenantId ?? null, g.department ?? null, g.name]);
    }
    case 'user': {
      const u = row as DirectoryUser;
      return JSON.stringify([
        u.id,
        u.tenantId ?? null,
        u.department ?? null,
        u.displayName ?? null,
        u.email ?? null,
        [...u.traits].sort(),
        u.dbRole ?? null,
        u.groups,
      ]);
    }
  }
}

/** The token a directory resolution is bound to. */
export function directoryToken(kind: DirectoryKind, live: DirectoryRow | null): string {
  return live === null ? 'absent' : `d:${fnv1a(canonicalDirectoryRow(kind, live))}`;
}

/** A staged directory change. */
export interface DirectoryChange {
  id: string;
  kind: DirectoryKind;
  ref: string;
  /** The row as it will be pushed. */
  mine: DirectoryRow;
  /** The base row it replaces (null: new in the draft, or the draft is fresh). */
  before: DirectoryRow | null;
}

/** One directory item of a plan. */
export interface DirectoryPlanItem {
  id: string;
  kind: DirectoryKind;
  ref: string;
  action: 'create' | 'update' | 'no-op' | 'conflict';
  base: DirectoryRow | null;
  live: DirectoryRow | null;
  mine: DirectoryRow;
  resolution: ConflictChoice | null;
  /** What the push writes (null: nothing). */
  write: 'upsert' | null;
}

/** Inputs of a directory plan. */
export interface DirectoryPlanInput {
  changes: readonly DirectoryChange[];
  live(kind: DirectoryKind, ref: string): DirectoryRow | null;
  resolution(kind: DirectoryKind, ref: string): PlanResolution | null;
}

/**
 * Plans staged directory rows by content (directory rows carry no version): live equals mine
 * -> no-op; live equals the base -> create or update; otherwise someone else changed the row
 * since the base -> conflict, unless a matching resolution settles it ('edit' is not offered for
 * directory rows; 'mine' overwrites, 'theirs' keeps production's row).
 */
export function planDirectory(input: DirectoryPlanInput): DirectoryPlanItem[] {
  return input.changes.map((c): DirectoryPlanItem => {
    const live = input.live(c.kind, c.ref);
    const canon = (r: DirectoryRow | null): string => canonicalDirectoryRow(c.kind, r);
    const item: DirectoryPlanItem = {
      id: c.id,
      kind: c.kind,
      ref: c.ref,
      action: 'no-op',
      base: c.before,
      live,
      mine: c.mine,
      resolution: null,
      write: null,
    };
    if (canon(live) === canon(c.mine)) return item;
    if (canon(live) === canon(c.before)) {
      item.action = live === null ? 'create' : 'update';
      item.write = 'upsert';
      return item;
    }
    const r = input.resolution(c.kind, c.ref);
    item.action = 'conflict';
    if (r !== null && r.liveToken === directoryToken(c.kind, live)) {
      item.resolution = r.choice;
      item.write = r.choice === 'theirs' ? null : 'upsert';
    }
    return item;
  });
}
