/**
 * The in-memory resolution engine. Holds every stored entry in nested maps (level -> scope ->
 * key -> entry), the directory, key metadata and an optional legacy .env map, and answers
 * resolve()/effective() for any context.
 *
 * Semantics: the most specific level that sets a key wins; among a context's groups the first
 * in priority order wins; any stored value (even "false", "0" or "") is an override. A locked
 * entry is final: walking the chain from general to specific, the first locked link wins and
 * everything after it is shadowed. Below global sits the legacy .env map (`env_legacy`), and
 * below that the metadata default (`default`).
 *
 * Speed: the merged legacy+default+global+tenant+department layer is cached per (tenant,
 * department) as a sorted array of frozen items, and each group's entries as a sorted array of
 * frozen items with their key ranks and lock flags in typed arrays. effective() merges the
 * context's group layers and the user's few entries by rank (touching no key strings and no
 * hash maps), then copies the base layer around them. Writes drop just the cached layers they
 * can affect.
 *
 * resolve() for a directory user is bound by memory latency, not by work: a random (user, key)
 * pair touches the user's scattered maps. userContext() therefore hands out one frozen context
 * per user, carrying (under a private symbol) the scope maps its levels read from, so resolve()
 * goes straight to them; and every map is keyed by one shared string per key, so lookups match
 * on identity instead of reading each entry's own copy of the key text.
 */
import { LEVELS, StrataError } from './types.js';
import type {
  ConfigEntry,
  Directory,
  DirectoryUser,
  KeyMetadata,
  Level,
  Slot,
  SourceLevel,
  UserContext,
  ValueType,
} from './types.js';

/** Everything the index is built from. Entries are kept by reference: treat them as immutable. */
export interface IndexInput {
  entries: readonly ConfigEntry[];
  directory: Directory;
  metadata: readonly KeyMetadata[];
  /** Hybrid mode: a legacy .env map (key -> text) that sits below global; null when detached. */
  legacy?: ReadonlyMap<string, string> | null;
}

/** One link of a raw resolution chain (values are stored text: ciphertext for encrypted entries). */
export interface RawLink {
  level: SourceLevel;
  scope: string;
  /** The stored entry at this link (null if the level does not set the key). */
  entry: ConfigEntry | null;
  /** Stored text (ciphertext for encrypted), or the legacy value for env_legacy. */
  value: string | null;
  winner: boolean;
  shadowed: boolean;
}

/** The raw (unmasked, undecrypted) resolution of one key for one context. */
export interface RawResolution {
  key: string;
  level: SourceLevel;
  scope: string;
  value: string | null;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
  /** Winning stored entry (null for env_legacy/default). */
  entry: ConfigEntry | null;
  /**
   * Every level that applies to the context, most general first: [env_legacy if attached],
   * global, tenant?, department?, each group in priority order reversed (so the chain reads
   * general -> specific)?, user?. The metadata default is not a link: it shows as level 'default'.
   */
  chain: RawLink[];
}

/** One key of an effective configuration, without the chain. */
export type RawEffective = Omit<RawResolution, 'chain'>;

type ScopeMap = Map<string, Map<string, ConfigEntry>>;

/** The cached merge of everything up to a (tenant, department): frozen items sorted by key. */
interface Layer {
  items: readonly RawEffective[];
  /** Key rank of each item (ascending), valid while `epoch` matches the index's rank epoch. */
  ranks: Int32Array;
  epoch: number;
}

/** One group's entries as frozen items sorted by key, with their ranks and lock flags. */
interface GroupLayer {
  items: readonly RawEffective[];
  /** Key rank of each item (ascending), valid while `epoch` matches the index's rank epoch. */
  ranks: Int32Array;
  /** 1 where the item is locked. */
  locked: Uint8Array;
  epoch: number;
}

/** A key's canonical string (shared by every map) and how many slots set it. */
interface KeyRef {
  key: string;
  refs: number;
}

/**
 * The scope maps a context's levels read from, found once per context. Maps are replaced only
 * when a scope gains its first entry or loses its last, which bumps the index's scope epoch.
 */
interface ResolvePlan {
  /** The index whose maps the plan holds: a context may be resolved against another index. */
  owner: ConfigIndex;
  epoch: number;
  tenantId: string | null;
  tenant: Map<string, ConfigEntry> | undefined;
  /** `tenant/department`, or null when the context has no department level. */
  departmentScope: string | null;
  department: Map<string, ConfigEntry> | undefined;
  /** Distinct groups, lowest priority first (the order the chain lists them). */
  groups: readonly string[];
  groupKeys: Array<Map<string, ConfigEntry> | undefined>;
  userId: string | null;
  user: Map<string, ConfigEntry> | undefined;
}

/** Where a context made by userContext() keeps its plan (non-enumerable: invisible to copies). */
const PLAN = Symbol('resolvePlan');

type PlannedContext = UserContext & { [PLAN]?: ResolvePlan };

const NO_TENANT = null;

/** User-level get() calls answered from the per-user maps before the per-key map is built. */
const USER_GETS_BEFORE_INDEX = 4096;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byKey(a: RawEffective, b: RawEffective): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** A fresh, unfrozen item for a winning entry (used per call for group and user overlays). */
function entryItem(e: ConfigEntry): RawEffective {
  // One literal shape for every item keeps V8 on a single hidden class in effective().
  return {
    key: e.key,
    level: e.level as SourceLevel,
    scope: e.scope,
    value: e.value,
    valueType: e.valueType,
    encrypted: e.encrypted,
    locked: e.locked,
    entry: e,
  };
}

/** A frozen item for a cached layer: layers are shared by every effective() call. */
function frozenEntryItem(e: ConfigEntry): RawEffective {
  return Object.freeze(entryItem(e));
}

function fallbackItem(
  key: string,
  level: 'env_legacy' | 'default',
  value: string | null,
  valueType: ValueType,
): RawEffective {
  return Object.freeze({
    key,
    level: level as SourceLevel,
    scope: '',
    value,
    valueType,
    encrypted: false,
    locked: false,
    entry: null,
  });
}

function assertLevel(level: unknown): asserts level is Level {
  if (!(LEVELS as readonly unknown[]).includes(level)) {
    throw new StrataError(
      'invalid',
      `Unknown level '${String(level)}'; valid levels are ${LEVELS.join(', ')}.`,
    );
  }
}

/** Context groups, first occurrence kept: a repeated id must not change precedence. */
function distinctGroups(groups: readonly string[]): readonly string[] {
  for (let i = 1; i < groups.length; i++) {
    if (groups.lastIndexOf(groups[i - 1]!) !== i - 1) {
      return [...new Set(groups)];
    }
  }
  return groups;
}

function pushLink(chain: RawLink[], level: Level, scope: string, e: ConfigEntry | undefined): void {
  chain.push({
    level,
    scope,
    entry: e ?? null,
    value: e === undefined ? null : e.value,
    winner: false,
    shadowed: false,
  });
}

/** The resolution engine: an incrementally maintained index over entries, directory and metadata. */
export class ConfigIndex {
  private readonly levels: Record<Level, ScopeMap> = {
    global: new Map(),
    tenant: new Map(),
    department: new Map(),
    group: new Map(),
    user: new Map(),
  };
  private count = 0;
  /** How many slots set each key; keys() is the union of these and the metadata keys. */
  private readonly keyRefs = new Map<string, KeyRef>();
  /** Bumped whenever a scope map is created or dropped: cached resolve plans then refresh. */
  private scopeEpoch = 0;
  /** One frozen context per directory user, made on first request. */
  private contexts = new Map<string, PlannedContext>();
  private sortedKeys: string[] | null = null;

  private dir: Directory = { tenants: [], departments: [], groups: [], users: [] };
  private usersById = new Map<string, DirectoryUser>();
  private membersByTenant: Map<string, DirectoryUser[]> | null = null;
  private membersByDepartment: Map<string, DirectoryUser[]> | null = null;
  private membersByGroup: Map<string, DirectoryUser[]> | null = null;
  /** Tenant, department (tenant/department) and group ids of the directory, built on demand. */
  private scopeIds: Record<'tenant' | 'department' | 'group', Set<string>> | null = null;

  private readonly meta = new Map<string, KeyMetadata>();
  private sortedMeta: KeyMetadata[] | null = null;
  private legacy: Map<string, string> | null = null;

  /** tenant (null: none) -> department (null: none) -> cached layer. */
  private readonly layers = new Map<string | null, Map<string | null, Layer>>();

  /**
   * Sort position of every known key. effective() merges by these integers instead of
   * comparing strings: comparisons of scattered key strings were its dominant cost. Ranks are
   * rebuilt lazily (new epoch) once a key the table lacks appears; removed keys may linger.
   */
  private rankOf = new Map<string, number>();
  private rankEpoch = 0;
  private ranksStale = true;
  /**
   * User-level entries by key, then user id: built once user-level get() calls become many, and
   * kept current by writes. Impact previews probe one key for every member of a scope; a per-key
   * map of the users who set it stays in cache, where the per-user maps of 100,000 users do not.
   */
  private userByKey: Map<string, Map<string, ConfigEntry>> | null = null;
  private userGets = 0;
  /** group id -> its cached layer (built on first use, dropped by writes to that group). */
  private readonly groupLayers = new Map<string, GroupLayer>();
  /**
   * Scratch buffers reused by effective() (synchronous, so never shared between calls): the
   * overlay lists in precedence order, their read positions, and the merged overlay.
   */
  private scratchLists: GroupLayer[] = [];
  private scratchPos = new Int32Array(16);
  private scratchRanks = new Int32Array(256);
  private scratchItems: RawEffective[] = [];
  /** The user's entries as a one-off list (reused between calls). */
  private readonly userList: GroupLayer = {
    items: [],
    ranks: new Int32Array(16),
    locked: new Uint8Array(16),
    epoch: 0,
  };

  private constructor() {}

  /** Builds an index from a full snapshot (entries, directory, metadata, optional legacy map). */
  static build(input: IndexInput): ConfigIndex {
    const index = new ConfigIndex();
    for (const m of input.metadata) index.meta.set(m.key, m);
    index.legacy = input.legacy ? new Map(input.legacy) : null;
    index.replaceDirectory(input.directory);
    const levels = index.levels;
    const refs = index.keyRefs;
    for (const e of input.entries) {
      const level = e.level;
      const scopes = levels[level];
      if (scopes === undefined) assertLevel(level);
      let keys = scopes.get(e.scope);
      if (keys === undefined) {
        keys = new Map();
        scopes.set(e.scope, keys);
      }
      let ref = refs.get(e.key);
      if (ref === undefined) {
        ref = { key: e.key, refs: 0 };
        refs.set(e.key, ref);
      }
      const before = keys.size;
      keys.set(ref.key, e);
      // A repeated slot replaces the earlier entry and must not be counted twice.
      if (keys.size !== before) {
        index.count++;
        ref.refs++;
      }
    }
    return index;
  }

  /** Inserts or replaces the entry at its slot; drops only the cached layers it can affect. */
  upsert(entry: ConfigEntry): void {
    assertLevel(entry.level);
    const scopes = this.levels[entry.level];
    let keys = scopes.get(entry.scope);
    if (keys === undefined) {
      keys = new Map();
      scopes.set(entry.scope, keys);
      this.scopeEpoch++;
    }
    let ref = this.keyRefs.get(entry.key);
    if (ref === undefined) {
      ref = { key: entry.key, refs: 0 };
      this.keyRefs.set(entry.key, ref);
      if (!this.meta.has(entry.key)) this.sortedKeys = null;
    }
    if (!keys.has(ref.key)) {
      this.count++;
      ref.refs++;
    }
    keys.set(ref.key, entry);
    if (entry.level === 'user' && this.userByKey !== null) {
      let users = this.userByKey.get(ref.key);
      if (users === undefined) {
        users = new Map();
        this.userByKey.set(ref.key, users);
      }
      users.set(entry.scope, entry);
    }
    if (!this.ranksStale && !this.rankOf.has(entry.key)) this.ranksStale = true;
    this.invalidate(entry.level, entry.scope);
  }

  /** Removes the entry at a slot, if any. */
  remove(slot: Slot): void {
    assertLevel(slot.level);
    const scopes = this.levels[slot.level];
    const keys = scopes.get(slot.scope);
    if (keys === undefined || !keys.delete(slot.key)) return;
    if (keys.size === 0) {
      scopes.delete(slot.scope);
      this.scopeEpoch++;
    }
    if (slot.level === 'user' && this.userByKey !== null) {
      const users = this.userByKey.get(slot.key);
      if (users !== undefined && users.delete(slot.scope) && users.size === 0) {
        this.userByKey.delete(slot.key);
      }
    }
    this.count--;
    const ref = this.keyRefs.get(slot.key);
    if (ref === undefined || --ref.refs <= 0) {
      this.keyRefs.delete(slot.key);
      if (!this.meta.has(slot.key)) this.sortedKeys = null;
    }
    this.invalidate(slot.level, slot.scope);
  }

  /** The entry stored at exactly this slot. */
  get(slot: Slot): ConfigEntry | undefined {
    if (
      slot.level === 'user' &&
      (this.userByKey !== null || ++this.userGets > USER_GETS_BEFORE_INDEX)
    ) {
      return this.usersByKey().get(slot.key)?.get(slot.scope);
    }
    return this.levels[slot.level]?.get(slot.scope)?.get(slot.key);
  }

  private usersByKey(): Map<string, Map<string, ConfigEntry>> {
    if (this.userByKey === null) {
      const byKey = new Map<string, Map<string, ConfigEntry>>();
      for (const [userId, keys] of this.levels.user) {
        for (const [key, e] of keys) {
          let users = byKey.get(key);
          if (users === undefined) {
            users = new Map();
            byKey.set(key, users);
          }
          users.set(userId, e);
        }
      }
      this.userByKey = byKey;
    }
    return this.userByKey;
  }

  /** Entries stored at exactly (level, scope), sorted by key. */
  entriesAt(level: Level, scope: string): ConfigEntry[] {
    const keys = this.levels[level]?.get(scope);
    if (keys === undefined) return [];
    return [...keys.values()].sort((a, b) => compareText(a.key, b.key));
  }

  /** Every stored entry: levels general to specific, then by scope, then by key. */
  allEntries(): ConfigEntry[] {
    const out: ConfigEntry[] = [];
    for (const level of LEVELS) {
      const scopes = this.levels[level];
      for (const scope of [...scopes.keys()].sort(compareText)) {
        const keys = scopes.get(scope)!;
        for (const key of [...keys.keys()].sort(compareText)) out.push(keys.get(key)!);
      }
    }
    return out;
  }

  /** Number of stored entries. */
  entryCount(): number {
    return this.count;
  }

  /** The directory the index was built with (or last replaced with). */
  directory(): Directory {
    return this.dir;
  }

  /** Replaces the directory; resolution caches do not depend on it, member lookups are rebuilt. */
  replaceDirectory(dir: Directory): void {
    this.dir = dir;
    const byId = new Map<string, DirectoryUser>();
    for (const u of dir.users) byId.set(u.id, u);
    this.usersById = byId;
    this.contexts = new Map();
    this.membersByTenant = null;
    this.membersByDepartment = null;
    this.membersByGroup = null;
    this.scopeIds = null;
  }

  /**
   * Whether the directory has this scope: global always, a user by id, a department as
   * tenant/department. Configuration stored at a scope does not make it known here.
   */
  inDirectory(level: Level, scope: string): boolean {
    if (level === 'global') return true;
    if (level === 'user') return this.usersById.has(scope);
    this.scopeIds ??= {
      tenant: new Set(this.dir.tenants.map((t) => t.id)),
      department: new Set(this.dir.departments.map((d) => `${d.tenantId}/${d.id}`)),
      group: new Set(this.dir.groups.map((g) => g.id)),
    };
    return this.scopeIds[level].has(scope);
  }

  /** A directory user by id. */
  user(userId: string): DirectoryUser | undefined {
    return this.usersById.get(userId);
  }

  /**
   * The resolution context of a directory user; throws StrataError('not_found') for an unknown id.
   * The context is frozen and shared by every caller until the directory is replaced.
   */
  userContext(userId: string): UserContext {
    const cached = this.contexts.get(userId);
    if (cached !== undefined) return cached;
    const u = this.usersById.get(userId);
    if (u === undefined) {
      throw new StrataError('not_found', `No user '${userId}' in the directory.`);
    }
    const ctx: PlannedContext = {
      userId: u.id,
      tenantId: u.tenantId,
      department: u.tenantId === null ? null : u.department,
      groups: Object.freeze([...u.groups]) as string[],
    };
    Object.defineProperty(ctx, PLAN, { value: this.makePlan(ctx), enumerable: false });
    this.contexts.set(userId, Object.freeze(ctx));
    return ctx;
  }

  /** A fresh plan for a context (its epoch is stale, so the first use fills in the maps). */
  private makePlan(ctx: UserContext): ResolvePlan {
    const tenantId = ctx.tenantId ?? null;
    const department = ctx.department ?? null;
    const groups = distinctGroups(ctx.groups ?? [])
      .slice()
      .reverse();
    return {
      owner: this,
      epoch: -1,
      tenantId,
      tenant: undefined,
      departmentScope:
        tenantId !== null && department !== null ? `${tenantId}/${department}` : null,
      department: undefined,
      groups,
      groupKeys: new Array<Map<string, ConfigEntry> | undefined>(groups.length),
      userId: ctx.userId ?? null,
      user: undefined,
    };
  }

  /**
   * The context's plan with its scope maps current. Contexts made elsewhere (ad hoc, or by
   * another index, as when comparing a snapshot with a changed copy) get a one-off plan.
   */
  private planFor(ctx: PlannedContext): ResolvePlan {
    const cached = ctx[PLAN];
    const plan = cached !== undefined && cached.owner === this ? cached : this.makePlan(ctx);
    if (plan.epoch !== this.scopeEpoch) {
      const levels = this.levels;
      plan.tenant = plan.tenantId === null ? undefined : levels.tenant.get(plan.tenantId);
      plan.department =
        plan.departmentScope === null ? undefined : levels.department.get(plan.departmentScope);
      for (let i = 0; i < plan.groups.length; i++) {
        plan.groupKeys[i] = levels.group.get(plan.groups[i]!);
      }
      plan.user = plan.userId === null ? undefined : levels.user.get(plan.userId);
      plan.epoch = this.scopeEpoch;
    }
    return plan;
  }

  /** Directory users whose resolution a value at (level, scope) can affect (global: everyone). */
  usersInScope(level: Level, scope: string): DirectoryUser[] {
    switch (level) {
      case 'global':
        return [...this.dir.users];
      case 'tenant':
        return [...(this.memberIndex().byTenant.get(scope) ?? [])];
      case 'department':
        return [...(this.memberIndex().byDepartment.get(scope) ?? [])];
      case 'group':
        return [...(this.memberIndex().byGroup.get(scope) ?? [])];
      case 'user': {
        const u = this.usersById.get(scope);
        return u === undefined ? [] : [u];
      }
      default:
        assertLevel(level);
        return [];
    }
  }

  /** Metadata for one key. */
  metadata(key: string): KeyMetadata | undefined {
    return this.meta.get(key);
  }

  /** All metadata sorted by category, sortOrder, key. */
  allMetadata(): KeyMetadata[] {
    if (this.sortedMeta === null) {
      this.sortedMeta = [...this.meta.values()].sort(
        (a, b) =>
          compareText(a.category, b.category) ||
          a.sortOrder - b.sortOrder ||
          compareText(a.key, b.key),
      );
    }
    return [...this.sortedMeta];
  }

  /** Adds or replaces one key's metadata (its default and valueType feed every cached layer). */
  setMetadata(meta: KeyMetadata): void {
    if (!this.meta.has(meta.key) && !this.keyRefs.has(meta.key)) this.sortedKeys = null;
    this.meta.set(meta.key, meta);
    if (!this.rankOf.has(meta.key)) this.ranksStale = true;
    this.sortedMeta = null;
    this.layers.clear();
  }

  /** Removes one key's metadata, if present. */
  removeMetadata(key: string): void {
    if (!this.meta.delete(key)) return;
    if (!this.keyRefs.has(key)) this.sortedKeys = null;
    this.sortedMeta = null;
    this.layers.clear();
  }

  /** Attaches (or with null detaches) the legacy .env map that sits below global. */
  setLegacy(map: ReadonlyMap<string, string> | null): void {
    this.legacy = map ? new Map(map) : null;
    this.ranksStale = true;
    this.layers.clear();
  }

  /** The attached legacy map (a copy), or null. */
  legacyMap(): Map<string, string> | null {
    return this.legacy ? new Map(this.legacy) : null;
  }

  /** Resolves one key for a context, with the full chain. */
  resolve(key: string, ctx: UserContext): RawResolution {
    const plan = this.planFor(ctx);
    const chain: RawLink[] = [];
    const legacy = this.legacy;
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
    pushLink(chain, 'global', '', this.levels.global.get('')?.get(key));
    if (plan.tenantId !== null) {
      pushLink(chain, 'tenant', plan.tenantId, plan.tenant?.get(key));
      if (plan.departmentScope !== null) {
        pushLink(chain, 'department', plan.departmentScope, plan.department?.get(key));
      }
    }
    const groups = plan.groups;
    for (let i = 0; i < groups.length; i++) {
      pushLink(chain, 'group', groups[i]!, plan.groupKeys[i]?.get(key));
    }
    if (plan.userId !== null) pushLink(chain, 'user', plan.userId, plan.user?.get(key));
    return settleChain(key, chain, this.meta.get(key));
  }

  /**
   * The effective value of every key relevant to the context: keys set at any of its levels,
   * metadata keys with a default and legacy keys, sorted by key (UTF-16 code unit order).
   * Treat items as read-only: those from the cached base and group layers are shared between
   * calls and frozen.
   */
  effective(ctx: UserContext): RawEffective[] {
    if (this.ranksStale) this.rebuildRanks();
    const tenantId = ctx.tenantId ?? NO_TENANT;
    const department = tenantId === NO_TENANT ? null : (ctx.department ?? null);
    const base = this.layer(tenantId, department);
    const baseItems = base.items;

    // Overlay lists in precedence order: groups from lowest priority to highest, then the user.
    const lists = this.scratchLists;
    lists.length = 0;
    let total = 0;
    const groups = distinctGroups(ctx.groups ?? []);
    for (let gi = groups.length - 1; gi >= 0; gi--) {
      const gl = this.groupLayer(groups[gi]!);
      if (gl !== null) {
        lists.push(gl);
        total += gl.items.length;
      }
    }
    const userId = ctx.userId;
    if (userId !== null && userId !== undefined) {
      const keys = this.levels.user.get(userId);
      if (keys !== undefined && keys.size > 0) {
        lists.push(this.fillUserList(keys));
        total += keys.size;
      }
    }
    if (total === 0) return baseItems.slice();

    // Merge the overlay lists by rank. At equal ranks a later list overrides an earlier one
    // unless the earlier one is locked.
    if (this.scratchRanks.length < total) this.scratchRanks = new Int32Array(total * 2);
    if (this.scratchPos.length < lists.length) this.scratchPos = new Int32Array(lists.length * 2);
    const ovRanks = this.scratchRanks;
    const ovItems = this.scratchItems;
    const pos = this.scratchPos;
    const nl = lists.length;
    pos.fill(0, 0, nl);
    let m = 0;
    for (;;) {
      let rank = 0x7fffffff;
      for (let l = 0; l < nl; l++) {
        const list = lists[l]!;
        const p = pos[l]!;
        if (p < list.items.length) {
          const r = list.ranks[p]!;
          if (r < rank) rank = r;
        }
      }
      if (rank === 0x7fffffff) break;
      let winner: RawEffective | null = null;
      let winnerLocked = false;
      for (let l = 0; l < nl; l++) {
        const list = lists[l]!;
        const p = pos[l]!;
        if (p < list.items.length && list.ranks[p] === rank) {
          if (winner === null || !winnerLocked) {
            winner = list.items[p]!;
            winnerLocked = list.locked[p] === 1;
          }
          pos[l] = p + 1;
        }
      }
      ovRanks[m] = rank;
      ovItems[m++] = winner!;
    }

    // Copy the base layer around the overlay; a locked base item keeps its place.
    const baseRanks = base.ranks;
    const n = baseItems.length;
    // Preallocated and trimmed at the end: pushing one by one cost more than the merge itself.
    const out = new Array<RawEffective>(n + m);
    let k = 0;
    let bi = 0;
    for (let i = 0; i < m; i++) {
      const rank = ovRanks[i]!;
      let lo = bi;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (baseRanks[mid]! < rank) lo = mid + 1;
        else hi = mid;
      }
      while (bi < lo) out[k++] = baseItems[bi++]!;
      if (bi < n && baseRanks[bi] === rank) {
        const under = baseItems[bi++]!;
        out[k++] = under.locked ? under : ovItems[i]!;
      } else {
        out[k++] = ovItems[i]!;
      }
    }
    while (bi < n) out[k++] = baseItems[bi++]!;
    out.length = k;
    ovItems.length = 0;
    return out;
  }

  /** The user's entries as a rank-sorted overlay list (fresh items; users are not cached). */
  private fillUserList(keys: Map<string, ConfigEntry>): GroupLayer {
    const list = this.userList;
    const items = list.items as RawEffective[];
    items.length = 0;
    const size = keys.size;
    if (list.ranks.length < size) {
      list.ranks = new Int32Array(size * 2);
      list.locked = new Uint8Array(size * 2);
    }
    const ranks = list.ranks;
    const locked = list.locked;
    const rankOf = this.rankOf;
    // Insertion sort: a user sets a handful of keys.
    for (const e of keys.values()) {
      const r = rankOf.get(e.key)!;
      const item = entryItem(e);
      let j = items.length;
      items.push(item);
      while (j > 0 && ranks[j - 1]! > r) {
        ranks[j] = ranks[j - 1]!;
        locked[j] = locked[j - 1]!;
        items[j] = items[j - 1]!;
        j--;
      }
      ranks[j] = r;
      locked[j] = e.locked ? 1 : 0;
      items[j] = item;
    }
    return list;
  }

  /** The cached layer of one group (null when the group sets nothing). */
  private groupLayer(groupId: string): GroupLayer | null {
    let gl = this.groupLayers.get(groupId);
    if (gl === undefined) {
      const keys = this.levels.group.get(groupId);
      if (keys === undefined || keys.size === 0) return null;
      const items = [...keys.values()].map(frozenEntryItem).sort(byKey);
      const locked = new Uint8Array(items.length);
      for (let i = 0; i < items.length; i++) locked[i] = items[i]!.locked ? 1 : 0;
      gl = { items, ranks: this.ranksFor(items), locked, epoch: this.rankEpoch };
      this.groupLayers.set(groupId, gl);
    } else if (gl.epoch !== this.rankEpoch) {
      // Ranks keep key order, so the items stay sorted; only the numbers move.
      gl.ranks = this.ranksFor(gl.items);
      gl.epoch = this.rankEpoch;
    }
    return gl;
  }

  /** Every key set at any slot or described by metadata, sorted; optionally only those with `prefix`. */
  keys(prefix?: string): string[] {
    if (this.sortedKeys === null) {
      const all = new Set(this.keyRefs.keys());
      for (const k of this.meta.keys()) all.add(k);
      this.sortedKeys = [...all].sort(compareText);
    }
    if (prefix === undefined || prefix === '') return [...this.sortedKeys];
    return this.sortedKeys.filter((k) => k.startsWith(prefix));
  }

  /** The cached merge of default, legacy, global, tenant and department for a context. */
  private layer(tenantId: string | null, department: string | null): Layer {
    let byDepartment = this.layers.get(tenantId);
    if (byDepartment === undefined) {
      byDepartment = new Map();
      this.layers.set(tenantId, byDepartment);
    }
    let layer = byDepartment.get(department);
    if (layer === undefined) {
      layer = this.buildLayer(tenantId, department);
      byDepartment.set(department, layer);
    } else if (layer.epoch !== this.rankEpoch) {
      layer.ranks = this.ranksFor(layer.items);
      layer.epoch = this.rankEpoch;
    }
    return layer;
  }

  private buildLayer(tenantId: string | null, department: string | null): Layer {
    const merged = new Map<string, RawEffective>();
    for (const m of this.meta.values()) {
      if (m.defaultValue !== null && m.defaultValue !== undefined) {
        merged.set(m.key, fallbackItem(m.key, 'default', m.defaultValue, m.valueType));
      }
    }
    if (this.legacy !== null) {
      for (const [key, value] of this.legacy) {
        const valueType = this.meta.get(key)?.valueType ?? 'string';
        merged.set(key, fallbackItem(key, 'env_legacy', value, valueType));
      }
    }
    const apply = (keys: Map<string, ConfigEntry> | undefined): void => {
      if (keys === undefined) return;
      for (const e of keys.values()) {
        const current = merged.get(e.key);
        if (current !== undefined && current.locked) continue;
        merged.set(e.key, frozenEntryItem(e));
      }
    };
    apply(this.levels.global.get(''));
    if (tenantId !== null) {
      apply(this.levels.tenant.get(tenantId));
      if (department !== null) apply(this.levels.department.get(`${tenantId}/${department}`));
    }
    const items = [...merged.values()].sort(byKey);
    return { items, ranks: this.ranksFor(items), epoch: this.rankEpoch };
  }

  private ranksFor(items: readonly RawEffective[]): Int32Array {
    const ranks = new Int32Array(items.length);
    for (let i = 0; i < items.length; i++) ranks[i] = this.rankOf.get(items[i]!.key)!;
    return ranks;
  }

  /** Ranks every key set anywhere, described by metadata or present in the legacy map. */
  private rebuildRanks(): void {
    const all = new Set(this.keyRefs.keys());
    for (const k of this.meta.keys()) all.add(k);
    if (this.legacy !== null) for (const k of this.legacy.keys()) all.add(k);
    const sorted = [...all].sort(compareText);
    const rankOf = new Map<string, number>();
    for (let i = 0; i < sorted.length; i++) rankOf.set(sorted[i]!, i);
    this.rankOf = rankOf;
    this.rankEpoch++;
    this.ranksStale = false;
  }

  /** Drops the cached layers a write at (level, scope) can change. */
  private invalidate(level: Level, scope: string): void {
    switch (level) {
      case 'global':
        this.layers.clear();
        return;
      case 'tenant':
        this.layers.delete(scope);
        return;
      case 'department': {
        const slash = scope.indexOf('/');
        if (slash < 0) return;
        this.layers.get(scope.slice(0, slash))?.delete(scope.slice(slash + 1));
        return;
      }
      case 'group':
        this.groupLayers.delete(scope);
        return;
      default:
        // Users are overlaid per call and never cached.
        return;
    }
  }

  private memberIndex(): {
    byTenant: Map<string, DirectoryUser[]>;
    byDepartment: Map<string, DirectoryUser[]>;
    byGroup: Map<string, DirectoryUser[]>;
  } {
    if (
      this.membersByTenant === null ||
      this.membersByDepartment === null ||
      this.membersByGroup === null
    ) {
      const byTenant = new Map<string, DirectoryUser[]>();
      const byDepartment = new Map<string, DirectoryUser[]>();
      const byGroup = new Map<string, DirectoryUser[]>();
      const add = (m: Map<string, DirectoryUser[]>, k: string, u: DirectoryUser): void => {
        const list = m.get(k);
        if (list === undefined) m.set(k, [u]);
        else if (list[list.length - 1] !== u) list.push(u);
      };
      for (const u of this.dir.users) {
        if (u.tenantId !== null) {
          add(byTenant, u.tenantId, u);
          if (u.department !== null) add(byDepartment, `${u.tenantId}/${u.department}`, u);
        }
        for (const g of u.groups) add(byGroup, g, u);
      }
      this.membersByTenant = byTenant;
      this.membersByDepartment = byDepartment;
      this.membersByGroup = byGroup;
    }
    return {
      byTenant: this.membersByTenant,
      byDepartment: this.membersByDepartment,
      byGroup: this.membersByGroup,
    };
  }
}

/**
 * Marks the winner and the shadowed links of a chain (most general first) and returns the
 * resolution. The winner is the most specific link that sets the key, unless a more general
 * link is locked: the most general locked link wins. With no link, the metadata default applies.
 */
export function settleChain(
  key: string,
  chain: RawLink[],
  meta: KeyMetadata | undefined,
): RawResolution {
  let win = -1;
  for (let i = 0; i < chain.length; i++) {
    const link = chain[i]!;
    if (link.value === null) continue;
    win = i;
    if (link.entry !== null && link.entry.locked) break;
  }
  for (let i = 0; i < chain.length; i++) {
    const link = chain[i]!;
    if (link.value === null) continue;
    if (i === win) link.winner = true;
    else link.shadowed = true;
  }
  if (win >= 0) {
    const link = chain[win]!;
    const e = link.entry;
    if (e !== null) {
      return {
        key,
        level: link.level,
        scope: link.scope,
        value: e.value,
        valueType: e.valueType,
        encrypted: e.encrypted,
        locked: e.locked,
        entry: e,
        chain,
      };
    }
    return {
      key,
      level: 'env_legacy',
      scope: '',
      value: link.value,
      valueType: meta?.valueType ?? 'string',
      encrypted: false,
      locked: false,
      entry: null,
      chain,
    };
  }
  return {
    key,
    level: 'default',
    scope: '',
    value: meta?.defaultValue ?? null,
    valueType: meta?.valueType ?? 'string',
    encrypted: false,
    locked: false,
    entry: null,
    chain,
  };
}
