/**
 * Environments side by side. `strata diff <a> <b>` compares any two targets key by key at every
 * level (and their directories): a PostgreSQL database, a draft (base + staged changes), or a
 * draft's base alone (`base:<draft path>`). `strata promote <from> <to-draft>` stages the
 * difference into a draft (for example staging's setup of a tenant into a draft of production),
 * which is then planned and pushed like any other draft.
 *
 * Secrets are compared by key id and fingerprint and never shown. Promoting a secret copies its
 * envelope only when this installation can decrypt it for that slot (same key, same slot), so a
 * promoted secret is one production can read; otherwise it is skipped and counted.
 */
import {
  DIRECTORY_KINDS,
  canonicalDirectoryRow,
  directoryRef,
  sameValue,
  type DirectoryKind,
  type DirectoryRow,
} from '../core/plan.js';
import type {
  ConfigEntry,
  Department,
  Directory,
  DirectoryUser,
  Group,
  KeyMetadata,
} from '../core/types.js';
import { StrataError } from '../core/types.js';
import { PostgresStore } from '../store/postgres-store.js';
import { redactUrl, slotKey } from '../store/store.js';
import type { StoredChange } from '../store/store.js';
import { secretTest, shownValue } from './draft-display.js';
import { normaliseDirectoryRow, DraftWorkspace } from './draft-workspace.js';
import { codecChoiceFromEnv, codecChoiceOf, type SecretCodec } from './secret-codec.js';
import { isPostgresTarget } from './targets.js';

/** One side of a diff. */
export interface DiffSide {
  /** What the user named (URL without password, path, or base:path). */
  spec: string;
  kind: 'postgres' | 'draft' | 'draft-base';
  /** The environment label (a draft: its source's label). */
  environment: string | null;
}

/** Everything one side holds. */
export interface SideContent {
  side: DiffSide;
  entries: ConfigEntry[];
  directory: Directory;
  metadata: KeyMetadata[];
}

/** One slot that differs. */
export interface DiffItem {
  level: string;
  scope: string;
  key: string;
  /** added: only in b; removed: only in a; changed: in both, different. */
  status: 'added' | 'removed' | 'changed';
  a: string | null;
  b: string | null;
  secret: boolean;
}

/** One directory row that differs. */
export interface DirectoryDiffItem {
  kind: DirectoryKind;
  ref: string;
  status: 'added' | 'removed' | 'changed';
  a: DirectoryRow | null;
  b: DirectoryRow | null;
}

/** A diff of two targets. */
export interface DiffResult {
  a: DiffSide;
  b: DiffSide;
  items: DiffItem[];
  directory: DirectoryDiffItem[];
  summary: { added: number; removed: number; changed: number; directory: number };
}

/** Which slots a diff or a promotion covers. */
export interface DiffFilter {
  /** Only these tenants: their tenant, department, group and user slots and directory rows. */
  tenants?: readonly string[];
  /** Only keys starting with this prefix. */
  prefix?: string | null;
}

/** Reads one side: `postgres://...`, `base:<draft>`, or a draft path. */
export async function readSide(spec: string): Promise<SideContent> {
  const s = typeof spec === 'string' ? spec.trim() : '';
  if (s === '') throw new StrataError('invalid', 'Name two targets to compare.');
  if (isPostgresTarget(s)) {
    const store = await PostgresStore.open(s);
    try {
      const [snap, environment] = await Promise.all([
        store.snapshot(),
        store.getSetting('environment'),
      ]);
      return {
        side: { spec: store.target, kind: 'postgres', environment },
        entries: snap.entries,
        directory: snap.directory,
        metadata: snap.metadata,
      };
    } finally {
      await store.close();
    }
  }
  const base = s.startsWith('base:');
  const ws = DraftWorkspace.open(base ? s.slice(5) : s);
  try {
    const environment = ws.environment();
    if (base) {
      return {
        side: { spec: `base:${ws.path}`, kind: 'draft-base', environment },
        entries: ws.store.baseEntries(),
        directory: await ws.baseDirectory(),
        metadata: await ws.store.readMetadata(),
      };
    }
    const snap = await ws.store.snapshot();
    return {
      side: { spec: ws.path, kind: 'draft', environment },
      entries: snap.entries,
      directory: snap.directory,
      metadata: snap.metadata,
    };
  } finally {
    await ws.close();
  }
}

/** The tenant a slot belongs to (null: global, or not in either directory). */
function tenantOfSlot(e: ConfigEntry, dirs: readonly Directory[]): string | null {
  switch (e.level) {
    case 'global':
      return null;
    case 'tenant':
      return e.scope;
    case 'department':
      return e.scope.slice(0, e.scope.indexOf('/'));
    case 'group':
      for (const d of dirs) {
        const g = d.groups.find((x) => x.id === e.scope);
        if (g) return g.tenantId;
      }
      return null;
    case 'user':
      for (const d of dirs) {
        const u = d.users.find((x) => x.id === e.scope);
        if (u) return u.tenantId;
      }
      return null;
  }
}

function tenantOfRow(kind: DirectoryKind, row: DirectoryRow): string | null {
  switch (kind) {
    case 'tenant':
      return row.id;
    case 'department':
      return (row as Department).tenantId;
    case 'group':
      return (row as Group).tenantId;
    case 'user':
      return (row as DirectoryUser).tenantId;
  }
}

function entryFilter(filter: DiffFilter, dirs: readonly Directory[]): (e: ConfigEntry) => boolean {
  const tenants = filter.tenants && filter.tenants.length > 0 ? new Set(filter.tenants) : null;
  const prefix = filter.prefix ?? null;
  return (e) => {
    if (prefix !== null && !e.key.startsWith(prefix)) return false;
    if (tenants === null) return true;
    const t = tenantOfSlot(e, dirs);
    return t !== null && tenants.has(t);
  };
}

function rowsOf(dir: Directory, kind: DirectoryKind): DirectoryRow[] {
  return kind === 'tenant'
    ? dir.tenants
    : kind === 'department'
      ? dir.departments
      : kind === 'group'
        ? dir.groups
        : dir.users;
}

/** Directory differences from a to b (optionally only some tenants' rows). */
export function diffDirectories(
  a: Directory,
  b: Directory,
  filter: DiffFilter = {},
): DirectoryDiffItem[] {
  const tenants = filter.tenants && filter.tenants.length > 0 ? new Set(filter.tenants) : null;
  const out: DirectoryDiffItem[] = [];
  for (const kind of DIRECTORY_KINDS) {
    const left = new Map(rowsOf(a, kind).map((r) => [directoryRef(kind, r), r]));
    const right = new Map(rowsOf(b, kind).map((r) => [directoryRef(kind, r), r]));
    const refs = [...new Set([...left.keys(), ...right.keys()])].sort();
    for (const ref of refs) {
      const x = left.get(ref) ?? null;
      const y = right.get(ref) ?? null;
      const row = (y ?? x)!;
      if (tenants !== null && !tenants.has(tenantOfRow(kind, row) ?? '')) continue;
      if (canonicalDirectoryRow(kind, x) === canonicalDirectoryRow(kind, y)) continue;
      out.push({
        kind,
        ref,
        status: x === null ? 'added' : y === null ? 'removed' : 'changed',
        a: x === null ? null : normaliseDirectoryRow(kind, x),
        b: y === null ? null : normaliseDirectoryRow(kind, y),
      });
    }
  }
  return out;
}

const LEVEL_ORDER = ['global', 'tenant', 'department', 'group', 'user'];

/** Slot differences from a to b, in level, scope, key order. */
export function diffEntries(
  a: readonly ConfigEntry[],
  b: readonly ConfigEntry[],
  keep: (e: ConfigEntry) => boolean = () => true,
): Array<{ status: DiffItem['status']; a: ConfigEntry | null; b: ConfigEntry | null }> {
  const left = new Map<string, ConfigEntry>();
  for (const e of a) if (keep(e)) left.set(slotKey(e), e);
  const right = new Map<string, ConfigEntry>();
  for (const e of b) if (keep(e)) right.set(slotKey(e), e);
  const out: Array<{ status: DiffItem['status']; a: ConfigEntry | null; b: ConfigEntry | null }> =
    [];
  for (const [k, x] of left) {
    const y = right.get(k) ?? null;
    if (y === null) out.push({ status: 'removed', a: x, b: null });
    else if (!sameValue(x, y)) out.push({ status: 'changed', a: x, b: y });
  }
  for (const [k, y] of right) if (!left.has(k)) out.push({ status: 'added', a: null, b: y });
  const slotOf = (d: { a: ConfigEntry | null; b: ConfigEntry | null }): ConfigEntry =>
    (d.a ?? d.b)!;
  return out.sort((p, q) => {
    const x = slotOf(p);
    const y = slotOf(q);
    return (
      LEVEL_ORDER.indexOf(x.level) - LEVEL_ORDER.indexOf(y.level) ||
      (x.scope < y.scope ? -1 : x.scope > y.scope ? 1 : 0) ||
      (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)
    );
  });
}

/** Compares two targets key by key at every level, and their directories. */
export async function diffTargets(
  a: string,
  b: string,
  filter: DiffFilter = {},
): Promise<DiffResult> {
  const left = await readSide(a);
  const right = await readSide(b);
  const isSecret = secretTest([...left.metadata, ...right.metadata]);
  const keep = entryFilter(filter, [left.directory, right.directory]);
  const items = diffEntries(left.entries, right.entries, keep).map((d): DiffItem => {
    const e = (d.a ?? d.b)!;
    const secret = isSecret(e.key) || (d.a?.encrypted ?? false) || (d.b?.encrypted ?? false);
    return {
      level: e.level,
      scope: e.scope,
      key: e.key,
      status: d.status,
      a: shownValue(d.a, secret),
      b: shownValue(d.b, secret),
      secret,
    };
  });
  const directory = diffDirectories(left.directory, right.directory, filter);
  return {
    a: left.side,
    b: right.side,
    items,
    directory,
    summary: {
      added: items.filter((i) => i.status === 'added').length,
      removed: items.filter((i) => i.status === 'removed').length,
      changed: items.filter((i) => i.status === 'changed').length,
      directory: directory.length,
    },
  };
}

/** Options of a promotion. */
export interface PromoteOptions extends DiffFilter {
  /** Also stage removals of slots the source does not have (default: additions and changes only). */
  withDeletes?: boolean;
  reason?: string | null;
  /** Recorded as the author of the staged changes. */
  operator?: string | null;
  /** Secret codec (default: CONFIG_ENCRYPTION_KEY from env). */
  codec?: SecretCodec | null;
  env?: Record<string, string | undefined>;
}

/** What a promotion staged. */
export interface PromoteResult {
  from: DiffSide;
  draft: string;
  /** Values staged (sets). */
  staged: number;
  /** Removals staged (with withDeletes). */
  unset: number;
  /** Directory rows staged. */
  directory: number;
  skippedSecrets: number;
  skippedWhy: string | null;
}

/**
 * Stages into a draft what `from` has and the draft lacks or holds differently (optionally
 * limited to tenants or a key prefix; with withDeletes, also removals): directory rows first,
 * then values, in one SQLite transaction. Nothing is sent anywhere: plan and push the draft.
 */
export async function promote(
  from: string,
  draftFile: string,
  opts: PromoteOptions = {},
): Promise<PromoteResult> {
  const source = await readSide(from);
  const ws = DraftWorkspace.open(draftFile);
  try {
    if (source.side.kind !== 'postgres' && source.side.spec.replace(/^base:/, '') === ws.path) {
      throw new StrataError('invalid', 'Promote from another target, not from the draft itself.');
    }
    const snap = await ws.store.snapshot();
    const draftDir = snap.directory;
    const keep = entryFilter(opts, [source.directory, draftDir]);
    const choice =
      opts.codec === undefined
        ? codecChoiceFromEnv(opts.env ?? process.env)
        : codecChoiceOf(opts.codec);
    const dirDiff = diffDirectories(draftDir, source.directory, opts).filter((d) => d.b !== null);
    const changes: StoredChange[] = [];
    let skipped = 0;
    for (const d of diffEntries(snap.entries, source.entries, keep)) {
      if (d.b !== null) {
        const e = d.b;
        if (e.encrypted) {
          if (!choice.codec) {
            skipped++;
            continue;
          }
          try {
            choice.codec.decrypt({ level: e.level, scope: e.scope, key: e.key }, e.value);
          } catch {
            skipped++;
            continue;
          }
        }
        changes.push({
          level: e.level,
          scope: e.scope,
          key: e.key,
          action: 'set',
          value: e.value,
          valueType: e.valueType,
          encrypted: e.encrypted,
          locked: e.locked,
        });
      } else if (opts.withDeletes) {
        const e = d.a!;
        changes.push({
          level: e.level,
          scope: e.scope,
          key: e.key,
          action: 'unset',
          value: null,
          valueType: 'string',
          encrypted: false,
          locked: false,
        });
      }
    }
    const operator = opts.operator ?? (await ws.store.identity()).role;
    const reason = opts.reason ?? `promoted from ${redactUrl(source.side.spec)}`;
    const ctx = { operator, reason };
    const db = ws.db;
    // Directory and values as one unit: the store's own transactions nest as savepoints, and
    // they finish synchronously, so nothing else runs on the connection in between.
    db.exec('BEGIN IMMEDIATE');
    try {
      if (dirDiff.length > 0) {
        const upsert: Directory = { tenants: [], departments: [], groups: [], users: [] };
        for (const d of dirDiff) {
          const row = d.b!;
          if (d.kind === 'tenant') upsert.tenants.push(row as Directory['tenants'][number]);
          else if (d.kind === 'department') upsert.departments.push(row as Department);
          else if (d.kind === 'group') upsert.groups.push(row as Group);
          else upsert.users.push(row as DirectoryUser);
        }
        ws.stageDirectorySync(upsert, ctx);
      }
      if (changes.length > 0) await ws.store.write(changes, ctx);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
    return {
      from: source.side,
      draft: ws.path,
      staged: changes.filter((c) => c.action === 'set').length,
      unset: changes.filter((c) => c.action === 'unset').length,
      directory: dirDiff.length,
      skippedSecrets: skipped,
      skippedWhy:
        skipped > 0
          ? (choice.why ?? 'the secret was encrypted with a key this installation does not have')
          : null,
    };
  } finally {
    await ws.close();
  }
}
