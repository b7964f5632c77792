/**
 * Gathers what a plan is computed from (the draft's staged changes and base, the target's rows
 * for exactly those slots and their parent slots, the directory, recorded resolutions) and hands
 * it to the pure planner in core/plan.ts. Reads only: a plan never writes the target, and never
 * writes the draft either.
 */
import { randomUUID } from 'node:crypto';
import {
  directoryRef,
  fnv1a,
  parentLookup,
  parentSlots,
  planChanges,
  planDirectory,
  summarisePlan,
  type DirectoryChange,
  type DirectoryKind,
  type DirectoryPlanItem,
  type DirectoryRow,
  type PlanChange,
  type PlanItem,
  type PlanRow,
  type PlanSummary,
} from '../core/plan.js';
import type { ConfigEntry, Directory, KeyMetadata, Slot } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import type { StagedChangeRow } from '../store/sqlite-store.js';
import { slotKey } from '../store/store.js';
import { draftApplications } from './push-templates.js';
import {
  normaliseDirectoryRow,
  resolutionKey,
  type DraftWorkspace,
  type ProgressListener,
} from './draft-workspace.js';

/** Counts of a plan's directory items. */
export interface DirectorySummary {
  create: number;
  update: number;
  noop: number;
  conflicts: number;
  unresolved: number;
}

/** A plan of a draft against its target. */
export interface DraftPlan {
  id: string;
  /** The draft file. */
  draft: string;
  /** The target with any password removed. */
  target: string;
  /** The target's environment label (strata_settings), if any. */
  environment: string | null;
  /** The draft has no source: this plan creates its whole base. */
  fresh: boolean;
  createdAt: string;
  items: PlanItem[];
  directory: DirectoryPlanItem[];
  /** Fresh drafts: metadata keys the target lacks, created by the push. */
  metadata: KeyMetadata[];
  summary: PlanSummary;
  directorySummary: DirectorySummary;
  /**
   * The part of the target's directory the plan concerns, as it is now: every tenant,
   * department and group, and the users the plan names (see usersNamed).
   */
  liveDirectory: Directory;
  /** liveDirectory with the draft's directory rows applied (what rights are judged on). */
  directoryAfter: Directory;
  /** The draft's metadata (which keys are secrets, for display). */
  draftMetadata: KeyMetadata[];
}

/** Options for computing a plan. */
export interface ComputePlanOptions {
  onProgress?: ProgressListener;
}

// Slots per read of the target's rows.
const READ_CHUNK = 20_000;

/** Id of a plan item that stands for a staged change. */
export function stagedItemId(id: number): string {
  return `s${id}`;
}

/** The staged_changes id behind a plan item id (null for a fresh draft's base entries). */
export function stagedIdOf(itemId: string): number | null {
  return /^s\d+$/.test(itemId) ? Number(itemId.slice(1)) : null;
}

/** The staged_directory id behind a directory item id (null for a fresh draft's rows). */
export function stagedDirectoryIdOf(itemId: string): number | null {
  return /^d\d+$/.test(itemId) ? Number(itemId.slice(1)) : null;
}

function baseItemId(prefix: string, key: string): string {
  return `${prefix}${fnv1a(key)}${fnv1a(`\u0001${key}`)}`;
}

function changeOfStaged(r: StagedChangeRow): PlanChange {
  return {
    level: r.level,
    scope: r.scope,
    key: r.key,
    id: stagedItemId(r.id),
    action: r.action,
    value: r.action === 'set' ? r.value : null,
    valueType: r.valueType,
    encrypted: r.encrypted,
    locked: r.locked,
    baseVersion: r.baseVersion,
    reason: r.reason,
    author: r.author,
  };
}

function changeOfBase(e: ConfigEntry): PlanChange {
  return {
    level: e.level,
    scope: e.scope,
    key: e.key,
    id: baseItemId('b', slotKey(e)),
    action: 'set',
    value: e.value,
    valueType: e.valueType,
    encrypted: e.encrypted,
    locked: e.locked,
    baseVersion: null,
    reason: null,
    author: e.updatedBy,
  };
}

function rowOf(e: ConfigEntry): PlanRow {
  return {
    value: e.value,
    valueType: e.valueType,
    encrypted: e.encrypted,
    locked: e.locked,
    version: e.version,
  };
}

/** Reads the target's rows at the given slots, in chunks (one statement per level per chunk). */
export async function readLiveRows(
  live: PostgresStore,
  slots: readonly Slot[],
): Promise<Map<string, ConfigEntry>> {
  const out = new Map<string, ConfigEntry>();
  for (let i = 0; i < slots.length; i += READ_CHUNK) {
    for (const e of await live.readEntries(slots.slice(i, i + READ_CHUNK))) out.set(slotKey(e), e);
  }
  return out;
}

function listOf(dir: Directory, kind: DirectoryKind): DirectoryRow[] {
  switch (kind) {
    case 'tenant':
      return dir.tenants;
    case 'department':
      return dir.departments;
    case 'group':
      return dir.groups;
    case 'user':
      return dir.users;
  }
}

/** Directory rows by kind and ref. */
export function directoryMap(dir: Directory): Map<string, DirectoryRow> {
  const out = new Map<string, DirectoryRow>();
  for (const kind of ['tenant', 'department', 'group', 'user'] as const) {
    for (const row of listOf(dir, kind)) out.set(`${kind}\u0000${directoryRef(kind, row)}`, row);
  }
  return out;
}

/** A directory with rows upserted (by kind and ref). */
export function applyDirectoryRows(
  dir: Directory,
  rows: ReadonlyArray<{ kind: DirectoryKind; row: DirectoryRow }>,
): Directory {
  const out: Directory = {
    tenants: [...dir.tenants],
    departments: [...dir.departments],
    groups: [...dir.groups],
    users: [...dir.users],
  };
  for (const { kind, row } of rows) {
    const list = listOf(out, kind);
    const ref = directoryRef(kind, row);
    const i = list.findIndex((x) => directoryRef(kind, x) === ref);
    if (i >= 0) list[i] = row;
    else list.push(row);
  }
  return out;
}

/** The directory changes a draft pushes: its staged rows, plus (fresh) its whole directory. */
export async function directoryChanges(ws: DraftWorkspace): Promise<DirectoryChange[]> {
  const staged = ws.stagedDirectory();
  const changes: DirectoryChange[] = staged.map((r) => ({
    id: `d${r.id}`,
    kind: r.kind,
    ref: r.ref,
    mine: r.data,
    before: ws.isFresh() ? null : r.before,
  }));
  if (ws.isFresh()) {
    const seen = new Set(staged.map((r) => `${r.kind}\u0000${r.ref}`));
    const dir = await ws.store.readDirectory();
    for (const kind of ['tenant', 'department', 'group', 'user'] as const) {
      for (const row of listOf(dir, kind)) {
        const ref = directoryRef(kind, row);
        const k = `${kind}\u0000${ref}`;
        if (seen.has(k)) continue;
        changes.push({
          id: baseItemId('t', k),
          kind,
          ref,
          mine: normaliseDirectoryRow(kind, row),
          before: null,
        });
      }
    }
    const order = ['tenant', 'department', 'group', 'user'];
    changes.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  }
  return changes;
}

function summariseDirectory(items: readonly DirectoryPlanItem[]): DirectorySummary {
  const s: DirectorySummary = { create: 0, update: 0, noop: 0, conflicts: 0, unresolved: 0 };
  for (const i of items) {
    if (i.action === 'create') s.create++;
    else if (i.action === 'update') s.update++;
    else if (i.action === 'no-op') s.noop++;
    else {
      s.conflicts++;
      if (i.resolution === null) s.unresolved++;
    }
  }
  return s;
}

/**
 * The users a plan needs from the target's directory: those whose slots it changes (for their
 * groups, department and tenant, and the access matrix), those its directory rows change, and
 * those a template application is recorded for. Users are most of a large directory, and a
 * plan of a few changes should not read 100,000 of them.
 */
function usersNamed(
  changes: readonly PlanChange[],
  dirChanges: readonly DirectoryChange[],
  applications: readonly Pick<Slot, 'level' | 'scope'>[],
): Set<string> {
  const out = new Set<string>();
  for (const c of changes) if (c.level === 'user') out.add(c.scope);
  for (const d of dirChanges) if (d.kind === 'user') out.add(d.ref);
  for (const a of applications) if (a.level === 'user') out.add(a.scope);
  return out;
}

/** Computes the three-way plan of a draft against an open target. */
export async function computePlan(
  ws: DraftWorkspace,
  live: PostgresStore,
  opts: ComputePlanOptions = {},
): Promise<DraftPlan> {
  const progress = opts.onProgress;
  const fresh = ws.isFresh();
  progress?.({ phase: 'plan', done: 0, total: 4, message: 'reading the draft' });
  const staged = ws.stagedRows();
  const changes: PlanChange[] = staged.map(changeOfStaged);
  if (fresh) {
    const stagedSlots = new Set(staged.map((s) => slotKey(s)));
    for (const e of ws.store.baseEntries()) {
      if (!stagedSlots.has(slotKey(e))) changes.push(changeOfBase(e));
    }
  }
  const dirChanges = await directoryChanges(ws);
  const draftMetadata = await ws.store.readMetadata();

  progress?.({ phase: 'plan', done: 1, total: 4, message: 'reading the target' });
  const [liveDirectory, environment, liveMetadata] = await Promise.all([
    live.readDirectory({ users: [...usersNamed(changes, dirChanges, draftApplications(ws))] }),
    live.getSetting('environment'),
    fresh ? live.readMetadata() : Promise.resolve([] as KeyMetadata[]),
  ]);
  const directoryAfter = applyDirectoryRows(
    liveDirectory,
    dirChanges.map((c) => ({ kind: c.kind, row: c.mine })),
  );
  const lookup = parentLookup(directoryAfter);
  const wanted = new Map<string, Slot>();
  for (const c of changes) {
    const slot = { level: c.level, scope: c.scope, key: c.key };
    wanted.set(slotKey(slot), slot);
    if (!fresh) for (const p of parentSlots(slot, lookup)) wanted.set(slotKey(p), p);
  }
  const liveRows = await readLiveRows(live, [...wanted.values()]);

  progress?.({ phase: 'plan', done: 2, total: 4, message: 'comparing' });
  const base = ws.baseLookup(wanted.values());
  const resolutions = ws.resolutions();
  const items = planChanges({
    changes,
    fresh,
    base,
    live: (slot) => {
      const e = liveRows.get(slotKey(slot));
      return e ? rowOf(e) : null;
    },
    resolution: (slot) =>
      resolutions.get(resolutionKey('config', slot.level, slot.scope, slot.key)) ?? null,
    parents: (slot) => parentSlots(slot, lookup),
  });
  const liveDir = directoryMap(liveDirectory);
  const directory = planDirectory({
    changes: dirChanges,
    live: (kind, ref) => liveDir.get(`${kind}\u0000${ref}`) ?? null,
    resolution: (kind, ref) => resolutions.get(resolutionKey('directory', kind, ref, '')) ?? null,
  });
  const liveMetaKeys = new Set(liveMetadata.map((m) => m.key));
  const metadata = fresh ? draftMetadata.filter((m) => !liveMetaKeys.has(m.key)) : [];
  progress?.({ phase: 'plan', done: 4, total: 4 });
  return {
    id: randomUUID(),
    draft: ws.path,
    target: live.target,
    environment,
    fresh,
    createdAt: new Date().toISOString(),
    items,
    directory,
    metadata,
    summary: summarisePlan(items),
    directorySummary: summariseDirectory(directory),
    liveDirectory,
    directoryAfter,
    draftMetadata,
  };
}
