/**
 * The config service: one implementation of ConfigService for every front door (Electron IPC,
 * the CLI, the web bridge, the library). It opens a target (PostgreSQL URL or draft path),
 * builds the in-memory ConfigIndex once from a bulk snapshot, and keeps it current by applying
 * each write's stored result, so reads never go back to the database.
 *
 * Who the operator is: the directory user named by `operator` (--as); otherwise, on
 * PostgreSQL, the directory user whose db_role is the connection's role; otherwise the role name
 * itself with no traits (writes refused), except that a PostgreSQL superuser counts as
 * admin_capable + super_admin + config_write (the DBA who owns the database). On a draft without
 * --as the operator is the OS user with no traits, so writes need --as.
 */
import { assertValidKey, assertValidScope, MAX_SCOPE_LENGTH, parseLevel } from '../core/keys.js';
import { MASK } from '../core/masking.js';
import { isSecretKey } from '../core/secret-keys.js';
import { StrataError, VALUE_TYPES } from '../core/types.js';
import type {
  ChainLink,
  ConfigEntry,
  Directory,
  DirectoryUser,
  KeyMetadata,
  Level,
  Resolution,
  Slot,
  SourceLevel,
  UserContext,
  ValueType,
} from '../core/types.js';
import { ConfigIndex } from '../core/config-index.js';
import { assertNoLockViolations } from '../core/impact.js';
import { normaliseValue, validateValue } from '../core/validation.js';
import { checkWrite, operatorOf } from './access.js';
import { codecChoiceFromEnv, codecChoiceOf } from './secret-codec.js';
import type { CodecChoice, SecretCodec } from './secret-codec.js';
import { openStore } from './targets.js';
import {
  checkRevealReason,
  checkRevealVia,
  envelopeFingerprint,
  revealLogFor,
} from './reveal-audit.js';
import type {
  RevealFilter,
  RevealLog,
  RevealRecord,
  RevealTarget,
  RevealVia,
} from './reveal-audit.js';
import { DIRECTORY_AUDIT_KINDS } from './types.js';
import type {
  AuditRecord,
  ConfigService,
  ContextInput,
  DirectoryAuditRecord,
  DirectoryHistoryFilter,
  EffectiveItem,
  EntryView,
  HistoryFilter,
  ReadOptions,
  RevealedValue,
  RevealRequest,
  SetRequest,
  UnsetRequest,
  WorkspaceInfo,
  WriteResult,
} from './types.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { AppliedChange, Store, StoredChange } from '../store/store.js';
import { slotKey } from '../store/store.js';

/** Longest value accepted (64 KiB of text, as the contract bounds it). */
export const MAX_VALUE_LENGTH = 65_536;
/** Longest reason accepted. */
export const MAX_REASON_LENGTH = 2_000;

/** How the operator was determined. */
export type OperatorSource = 'directory' | 'db-role' | 'superuser' | 'role' | 'local';

/** The operator the service acts as. */
export interface OperatorInfo {
  id: string;
  traits: string[];
  tenantId: string | null;
  department: string | null;
  source: OperatorSource;
}

/** Options for openService. */
export interface OpenServiceOptions {
  /** postgres:// URL or path to a .sqlite draft workspace. */
  db: string;
  /** Directory user id to act as (--as / STRATA_OPERATOR). */
  operator?: string | null;
  /** Secret codec; undefined: from CONFIG_ENCRYPTION_KEY; null: secrets disabled. */
  codec?: SecretCodec | null;
  env?: Record<string, string | undefined>;
  /** Front door recorded with reveals that do not name one (default 'api'). */
  revealVia?: RevealVia;
}

/** A read that reveals: the slots released so far, and why (recorded before returning). */
interface RevealAudit {
  targets: RevealTarget[];
  reason: string | null;
  via: RevealVia;
}

/** Filter for listing directory users. */
export interface UserFilter {
  tenantId?: string | null;
  /** Department id (with tenantId) or a `tenant/department` scope. */
  department?: string | null;
  group?: string | null;
}

/** One change of a change set: a set (the default) or an unset. */
export type BatchChange = (SetRequest & { action?: 'set' }) | (UnsetRequest & { action: 'unset' });

/** Options of a change set. */
export interface BatchOptions {
  /** Why; recorded with every change of the set. */
  reason?: string | null;
  /** Push id recorded in the audit rows (draft pushes). */
  pushId?: string | null;
}

const SUPERUSER_TRAITS = ['admin_capable', 'super_admin', 'config_write'];

function describe(slot: Pick<Slot, 'level' | 'scope'>): string {
  return slot.level === 'global' ? 'global level' : `${slot.level} ${slot.scope}`;
}

/** Refuses a since/until that is no date and a limit that is no whole number of at least 1. */
function checkHistoryWindow(f: Pick<HistoryFilter, 'since' | 'until' | 'limit'>): void {
  for (const name of ['since', 'until'] as const) {
    const v = f[name];
    if (v !== undefined && Number.isNaN(Date.parse(v))) {
      throw new StrataError(
        'invalid',
        `${name} must be a date or timestamp such as 2025-01-31T12:00:00Z.`,
      );
    }
  }
  if (f.limit !== undefined && (!Number.isInteger(f.limit) || f.limit < 1)) {
    throw new StrataError('invalid', 'limit must be a whole number of at least 1.');
  }
}

/** A config service over one open store. */
export class StrataConfigService implements ConfigService {
  private idx: ConfigIndex;
  private readonly staged = new Set<string>();
  private readonly secretCache = new Map<string, boolean>();
  private readonly revealLog: RevealLog;

  private constructor(
    readonly store: Store,
    index: ConfigIndex,
    private op: OperatorInfo,
    private readonly codec: CodecChoice,
    stagedSlots: readonly Slot[],
    private readonly revealVia: RevealVia = 'api',
  ) {
    this.idx = index;
    for (const s of stagedSlots) this.staged.add(slotKey(s));
    this.revealLog = revealLogFor(store);
  }

  /** Opens the service on a store (builds the index, determines the operator). */
  static async create(
    store: Store,
    opts: Omit<OpenServiceOptions, 'db'> = {},
  ): Promise<StrataConfigService> {
    const snap = await store.snapshot();
    const index = ConfigIndex.build({
      entries: snap.entries,
      directory: snap.directory,
      metadata: snap.metadata,
    });
    const operator = await resolveOperator(store, index, opts.operator ?? null);
    const codec =
      opts.codec === undefined
        ? codecChoiceFromEnv(opts.env ?? process.env)
        : codecChoiceOf(opts.codec);
    return new StrataConfigService(
      store,
      index,
      operator,
      codec,
      snap.stagedSlots,
      checkRevealVia(opts.revealVia ?? 'api'),
    );
  }

  /** The in-memory index (read-only use: impact previews, plans). */
  get index(): ConfigIndex {
    return this.idx;
  }

  /** The operator this service acts as. */
  operator(): OperatorInfo {
    return { ...this.op, traits: [...this.op.traits] };
  }

  /** Rebuilds the index from the store (after changes made by another process). */
  async reload(): Promise<void> {
    const snap = await this.store.snapshot();
    this.idx = ConfigIndex.build({
      entries: snap.entries,
      directory: snap.directory,
      metadata: snap.metadata,
    });
    this.staged.clear();
    for (const s of snap.stagedSlots) this.staged.add(slotKey(s));
    this.secretCache.clear();
    if (this.op.source === 'directory' || this.op.source === 'db-role') {
      const u = this.idx.user(this.op.id);
      if (u)
        this.op = {
          ...this.op,
          traits: [...u.traits],
          tenantId: u.tenantId,
          department: u.department,
        };
    }
  }

  async info(): Promise<WorkspaceInfo> {
    let environment = await this.store.getSetting('environment');
    let source: WorkspaceInfo['source'] = null;
    let stagedCount = 0;
    if (this.store.kind === 'draft') {
      const draft = this.store as SqliteStore;
      const from = draft.meta('source');
      if (from) {
        source = {
          target: from,
          pulledAt: draft.meta('pulled_at') ?? '',
          environment: draft.meta('environment'),
        };
      }
      environment = environment ?? draft.meta('environment');
      stagedCount = draft.stagedCount();
    }
    return {
      kind: this.store.kind,
      target: this.store.target,
      environment,
      operator: this.op.id,
      operatorTraits: [...this.op.traits],
      source,
      stagedCount,
    };
  }

  async directory(): Promise<Directory> {
    return this.idx.directory();
  }

  async metadata(): Promise<KeyMetadata[]> {
    return this.idx.allMetadata();
  }

  /** Directory users, optionally filtered by tenant, department and group (in directory order). */
  users(filter: UserFilter = {}): DirectoryUser[] {
    let tenant = filter.tenantId ?? null;
    let dept = filter.department ?? null;
    if (tenant !== null) assertValidScope('tenant', tenant);
    if (dept !== null) {
      const slash = dept.indexOf('/');
      if (slash >= 0) {
        const t = dept.slice(0, slash);
        if (tenant !== null && tenant !== t) {
          throw new StrataError('invalid', `Department ${dept} is not in tenant ${tenant}.`);
        }
        tenant = t;
        dept = dept.slice(slash + 1);
      }
      assertValidScope('department', `${tenant ?? 'any'}/${dept}`);
    }
    const group = filter.group ?? null;
    if (group !== null) assertValidScope('group', group);
    return this.idx
      .directory()
      .users.filter(
        (u) =>
          (tenant === null || u.tenantId === tenant) &&
          (dept === null || u.department === dept) &&
          (group === null || u.groups.includes(group)),
      );
  }

  async context(input: ContextInput): Promise<UserContext> {
    if (!input || typeof input !== 'object') {
      throw new StrataError(
        'invalid',
        'A context is a user id or a tenant with optional department, groups and user.',
      );
    }
    if ('tenantId' in input && input.tenantId !== undefined) {
      const tenantId = input.tenantId;
      if (typeof tenantId !== 'string')
        throw new StrataError('invalid', 'The context tenant must be a tenant id.');
      assertValidScope('tenant', tenantId);
      this.assertKnown('tenant', tenantId);
      let department = input.department ?? null;
      if (department !== null) {
        if (department.startsWith(`${tenantId}/`))
          department = department.slice(tenantId.length + 1);
        assertValidScope('department', `${tenantId}/${department}`);
        this.assertKnown('department', `${tenantId}/${department}`);
      }
      const groups = input.groups ?? [];
      if (!Array.isArray(groups))
        throw new StrataError('invalid', 'The context groups must be a list of group ids.');
      for (const g of groups) {
        assertValidScope('group', g);
        this.assertKnown('group', g);
      }
      const userId = input.userId ?? null;
      if (userId !== null) assertValidScope('user', userId);
      return { tenantId, department, groups: [...groups], userId };
    }
    const userId = (input as { userId?: unknown }).userId;
    if (typeof userId !== 'string' || userId === '') {
      throw new StrataError(
        'invalid',
        'A context needs a user id, or a tenant id for an ad-hoc context.',
      );
    }
    assertValidScope('user', userId);
    return this.idx.userContext(userId);
  }

  async resolve(key: string, input: ContextInput, opts: ReadOptions = {}): Promise<Resolution> {
    assertValidKey(key);
    const ctx = await this.context(input);
    const raw = this.idx.resolve(key, ctx);
    const reveal = this.revealAudit(opts);
    const metaType = this.idx.metadata(key)?.valueType ?? null;
    const chain: ChainLink[] = raw.chain.map((l) => ({
      level: l.level,
      scope: l.scope,
      value: this.display(key, l.value, l.entry, reveal, l),
      valueType: l.entry?.valueType ?? (l.value !== null ? (metaType ?? 'string') : null),
      encrypted: l.entry?.encrypted ?? false,
      locked: l.entry?.locked ?? false,
      winner: l.winner,
      shadowed: l.shadowed,
    }));
    const resolution: Resolution = {
      key,
      value: this.display(key, raw.value, raw.entry, reveal, raw),
      valueType: raw.valueType,
      level: raw.level,
      scope: raw.scope,
      encrypted: raw.encrypted,
      chain,
    };
    await this.recordReveals(reveal);
    return resolution;
  }

  async effective(input: ContextInput, opts: ReadOptions = {}): Promise<EffectiveItem[]> {
    const ctx = await this.context(input);
    const reveal = this.revealAudit(opts);
    const items = this.idx.effective(ctx).map((r) => ({
      key: r.key,
      value: this.display(r.key, r.value, r.entry, reveal, r),
      valueType: r.valueType,
      level: r.level,
      scope: r.scope,
      encrypted: r.encrypted,
    }));
    await this.recordReveals(reveal);
    return items;
  }

  async entries(level: Level, scope: string, opts: ReadOptions = {}): Promise<EntryView[]> {
    const lvl = parseLevel(level);
    assertValidScope(lvl, scope);
    const reveal = this.revealAudit(opts);
    const views = this.idx.entriesAt(lvl, scope).map((e) => this.entryView(e, reveal));
    await this.recordReveals(reveal);
    return views;
  }

  /**
   * Reveals the secret set at exactly one slot: the reveal is recorded (who, which slot, when,
   * why, never the value) before the plaintext is returned. A value that is not a secret is
   * returned as it is, without a record.
   */
  async reveal(req: RevealRequest): Promise<RevealedValue> {
    if (!req || typeof req !== 'object') {
      throw new StrataError('invalid', 'A reveal needs a level, a scope and a key.');
    }
    const level = parseLevel(req.level);
    const scope = req.scope ?? '';
    if (typeof scope !== 'string') throw new StrataError('invalid', 'The scope must be text.');
    assertValidScope(level, scope);
    assertValidKey(req.key);
    const reveal = this.revealAudit({ reveal: true, reason: req.reason ?? null, via: req.via })!;
    const entry = this.idx.get({ level, scope, key: req.key });
    if (!entry) {
      throw new StrataError(
        'not_found',
        `Nothing is set for ${req.key} at the ${describe({ level, scope })}.`,
      );
    }
    const value = this.display(entry.key, entry.value, entry, reveal, entry) ?? '';
    await this.recordReveals(reveal);
    return { level, scope, key: entry.key, value };
  }

  /**
   * Reveals the effective values of some keys for one context (a .env export): every released
   * secret slot is recorded in ONE statement before anything is returned; a failed record
   * returns nothing. Keys not set for the context map to null.
   */
  async revealEffective(
    input: ContextInput,
    keys: readonly string[],
    opts: Omit<ReadOptions, 'reveal'> = {},
  ): Promise<Map<string, string | null>> {
    const ctx = await this.context(input);
    for (const key of keys) assertValidKey(key);
    const reveal = this.revealAudit({ ...opts, reveal: true })!;
    const out = new Map<string, string | null>();
    for (const key of keys) {
      const raw = this.idx.resolve(key, ctx);
      out.set(key, this.display(key, raw.value, raw.entry, reveal, raw));
    }
    await this.recordReveals(reveal);
    return out;
  }

  /**
   * The secret codec this service encrypts and decrypts with (or why there is none), for
   * services that write batches through the store themselves and must use the same key.
   */
  secretCodec(): CodecChoice {
    return this.codec;
  }

  /** Recorded reveals the operator may see, newest first (config_reveals / draft_reveals). */
  async reveals(filter: RevealFilter = {}): Promise<RevealRecord[]> {
    if (filter.key !== undefined) assertValidKey(filter.key);
    return this.revealLog.list(filter);
  }

  async listKeys(prefix?: string): Promise<string[]> {
    return this.idx.keys(prefix);
  }

  async set(req: SetRequest): Promise<WriteResult> {
    return (
      await this.writeBatch([{ ...req, action: 'set' }], { reason: req?.reason ?? null })
    )[0]!;
  }

  async unset(req: UnsetRequest): Promise<WriteResult> {
    return (
      await this.writeBatch([{ ...req, action: 'unset' }], { reason: req?.reason ?? null })
    )[0]!;
  }

  /**
   * Validates, authorises and writes several changes as ONE change set (one transaction; one
   * reason for all): nothing is written unless every change passes. The index is updated from
   * the stored results. A per-change `reason` is ignored here; the batch reason applies.
   */
  async writeBatch(
    changes: readonly BatchChange[],
    opts: BatchOptions = {},
  ): Promise<WriteResult[]> {
    if (!Array.isArray(changes) || changes.length === 0) {
      throw new StrataError('invalid', 'A change set needs at least one change.');
    }
    const reason = checkReason(opts.reason);
    const prepared = changes.map((c) => this.prepare(c));
    const refused: string[] = [];
    for (const p of prepared) {
      const why = this.writeRefusal(p.change);
      if (why !== null && !refused.includes(why)) refused.push(why);
    }
    if (refused.length > 0) {
      const more =
        refused.length > 1
          ? ` (and ${refused.length - 1} more refusal${refused.length > 2 ? 's' : ''})`
          : '';
      throw new StrataError('forbidden', `${refused[0]!.replace(/\.$/, '')}${more}.`, { refused });
    }
    for (const p of prepared) {
      if (p.change.action === 'unset' && !this.idx.get(p.change)) {
        throw new StrataError(
          'not_found',
          `Nothing is set for ${p.change.key} at the ${describe(p.change)}.`,
        );
      }
    }
    // A value below a lock is refused in drafts too, naming the lock (core/impact.ts; on
    // PostgreSQL migration 0230 refuses it as well).
    assertNoLockViolations(
      this.idx,
      prepared.map((p) => p.change),
    );
    const results = await this.store.write(
      prepared.map((p) => p.change),
      { operator: this.op.id, reason, pushId: opts.pushId ?? null },
    );
    this.applyResults(results);
    const live = this.store.kind === 'postgres';
    return prepared.map((p, i) => ({
      mode: live ? 'live' : 'staged',
      level: p.change.level,
      scope: p.change.scope,
      key: p.change.key,
      action: p.change.action,
      value: p.display,
      version: live && p.change.action === 'set' ? (results[i]?.after?.version ?? null) : null,
    }));
  }

  /**
   * Brings the index up to date with changes a caller wrote through `store.write` itself
   * (bulk tools that build StoredChanges directly), without a full reload.
   */
  applyResults(results: readonly AppliedChange[]): void {
    for (const r of results) {
      if (r.after) this.idx.upsert(r.after);
      else this.idx.remove(r.slot);
      if (r.staged) this.staged.add(slotKey(r.slot));
      else this.staged.delete(slotKey(r.slot));
    }
  }

  /** Checks one change and turns it into its stored form (normalised, secrets encrypted). */
  private prepare(req: BatchChange): { change: StoredChange; display: string | null } {
    if (!req || typeof req !== 'object')
      throw new StrataError('invalid', 'A change needs a level, a scope and a key.');
    const slot = this.writeSlot(req);
    if (
      req.expectedVersion !== undefined &&
      req.expectedVersion !== null &&
      !Number.isInteger(req.expectedVersion)
    ) {
      throw new StrataError('invalid', 'expectedVersion must be a whole number or null.');
    }
    if (req.action === 'unset') {
      const change: StoredChange = {
        ...slot,
        action: 'unset',
        value: null,
        valueType: 'string',
        encrypted: false,
        locked: false,
      };
      if (req.expectedVersion !== undefined) change.expectedVersion = req.expectedVersion;
      return { change, display: null };
    }
    if (req.action !== undefined && req.action !== 'set') {
      throw new StrataError('invalid', `Unknown action '${String(req.action)}'; use set or unset.`);
    }
    if (typeof req.value !== 'string')
      throw new StrataError('invalid', `The value for ${slot.key} must be text.`);
    if (req.value.length > MAX_VALUE_LENGTH) {
      throw new StrataError(
        'invalid',
        `The value for ${slot.key} is ${req.value.length} characters long; the limit is ${MAX_VALUE_LENGTH}.`,
      );
    }
    if (req.value.includes('\u0000')) {
      throw new StrataError(
        'invalid',
        `The value for ${slot.key} contains a NUL character, which cannot be stored.`,
      );
    }
    if (
      req.valueType !== undefined &&
      !(VALUE_TYPES as readonly string[]).includes(req.valueType)
    ) {
      throw new StrataError(
        'invalid',
        `Unknown value type '${String(req.valueType)}'; use ${VALUE_TYPES.join(', ')}.`,
      );
    }
    if (req.locked !== undefined && typeof req.locked !== 'boolean') {
      throw new StrataError('invalid', 'locked must be true or false.');
    }
    const meta = this.idx.metadata(slot.key);
    const existing = this.idx.get(slot) ?? null;
    const valueType: ValueType =
      req.valueType ?? meta?.valueType ?? existing?.valueType ?? 'string';
    const secret = this.isSecret(slot.key);
    const failure = validateValue(slot.key, req.value, valueType, meta, secret);
    if (failure)
      throw new StrataError('invalid', failure.message, { key: failure.key, rule: failure.rule });
    const normal = normaliseValue(req.value, valueType);
    let stored = normal;
    if (secret) {
      if (!this.codec.codec)
        throw new StrataError('invalid', `Secret ${slot.key} was not stored: ${this.codec.why}.`);
      stored = this.codec.codec.encrypt(slot, normal);
    }
    const change: StoredChange = {
      ...slot,
      action: 'set',
      value: stored,
      valueType,
      encrypted: secret,
      locked: req.locked ?? existing?.locked ?? false,
    };
    if (req.expectedVersion !== undefined) change.expectedVersion = req.expectedVersion;
    return { change, display: secret ? MASK : normal };
  }

  async history(filter: HistoryFilter): Promise<AuditRecord[]> {
    const f: HistoryFilter = { ...filter };
    if (f.key !== undefined) assertValidKey(f.key);
    if (f.level !== undefined) f.level = parseLevel(f.level);
    if (f.scope !== undefined) {
      if (f.level === undefined)
        throw new StrataError('invalid', 'A history scope needs a level too.');
      assertValidScope(f.level, f.scope);
    }
    checkHistoryWindow(f);
    const records = await this.store.history(f);
    // Audit rows of secret keys written outside Strata (psql) may hold plaintext: mask them.
    return records.map((r) =>
      this.isSecret(r.key)
        ? { ...r, oldValue: maskAudit(r.oldValue), newValue: maskAudit(r.newValue) }
        : r,
    );
  }

  async directoryHistory(filter: DirectoryHistoryFilter): Promise<DirectoryAuditRecord[]> {
    const f: DirectoryHistoryFilter = { ...filter };
    if (f.kind !== undefined && !(DIRECTORY_AUDIT_KINDS as readonly string[]).includes(f.kind)) {
      throw new StrataError(
        'invalid',
        `Unknown directory kind '${String(f.kind).slice(0, 40)}'; use one of ${DIRECTORY_AUDIT_KINDS.join(', ')}.`,
      );
    }
    // A department is 'tenant/department': two ids and the slash.
    const longest = 2 * MAX_SCOPE_LENGTH + 1;
    if (f.ref !== undefined && (f.ref === '' || f.ref.length > longest)) {
      throw new StrataError('invalid', `A directory id must have 1 to ${longest} characters.`);
    }
    checkHistoryWindow(f);
    return this.store.directoryHistory(f);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private isSecret(key: string): boolean {
    let s = this.secretCache.get(key);
    if (s === undefined) {
      s = isSecretKey(key, this.idx.metadata(key));
      this.secretCache.set(key, s);
    }
    return s;
  }

  /** Checks a read's reveal options; null when the read does not reveal. */
  private revealAudit(opts: ReadOptions): RevealAudit | null {
    if (!opts || opts.reveal !== true) return null;
    return {
      targets: [],
      reason: checkRevealReason(opts.reason),
      via: opts.via === undefined ? this.revealVia : checkRevealVia(opts.via),
    };
  }

  /** Writes the reveal records of a read; throws (and the read returns nothing) when it cannot. */
  private async recordReveals(reveal: RevealAudit | null): Promise<void> {
    if (!reveal || reveal.targets.length === 0) return;
    await this.revealLog.record(reveal.targets, {
      operator: this.op.id,
      reason: reveal.reason,
      via: reveal.via,
    });
  }

  /**
   * What a stored value looks like to the caller: secrets masked unless the read reveals, and
   * then every released slot is added to the read's reveal targets (recorded before returning).
   */
  private display(
    key: string,
    value: string | null,
    entry: ConfigEntry | null,
    reveal: RevealAudit | null,
    from: { level: SourceLevel; scope: string },
  ): string | null {
    if (value === null) return null;
    const encrypted = entry?.encrypted ?? false;
    if (!encrypted && !this.isSecret(key)) return value;
    if (!reveal) return MASK;
    reveal.targets.push({
      level: from.level,
      scope: from.scope,
      key,
      fingerprint: encrypted ? envelopeFingerprint(value) : null,
    });
    if (!encrypted || entry === null) return value;
    if (!this.codec.codec)
      throw new StrataError('invalid', `Cannot reveal ${key}: ${this.codec.why}.`);
    return this.codec.codec.decrypt(
      { level: entry.level, scope: entry.scope, key: entry.key },
      value,
    );
  }

  private entryView(e: ConfigEntry, reveal: RevealAudit | null): EntryView {
    return {
      level: e.level,
      scope: e.scope,
      key: e.key,
      value: this.display(e.key, e.value, e, reveal, e) ?? '',
      valueType: e.valueType,
      encrypted: e.encrypted,
      locked: e.locked,
      version: e.version,
      updatedAt: e.updatedAt,
      updatedBy: e.updatedBy,
      staged: this.staged.has(slotKey(e)),
    };
  }

  /** Checks a write target's syntax and that the directory or configuration knows its scope. */
  private writeSlot(req: { level: Level; scope: string; key: string }): Slot {
    if (!req || typeof req !== 'object')
      throw new StrataError('invalid', 'A write needs a level, a scope and a key.');
    const level = parseLevel(req.level);
    const scope = req.scope ?? '';
    if (typeof scope !== 'string') throw new StrataError('invalid', 'The scope must be text.');
    assertValidScope(level, scope);
    assertValidKey(req.key);
    if (level !== 'global') this.assertKnown(level, scope);
    return { level, scope, key: req.key };
  }

  /** Refuses scopes that neither the directory nor any stored value mentions (typos). */
  private assertKnown(level: Exclude<Level, 'global'>, scope: string): void {
    if (this.idx.inDirectory(level, scope) || this.idx.entriesAt(level, scope).length > 0) return;
    const what = { tenant: 'Tenant', department: 'Department', group: 'Group', user: 'User' }[
      level
    ];
    throw new StrataError(
      'invalid',
      `${what} '${scope}' is not in the directory; check the spelling or add it first.`,
    );
  }

  /** Why the operator may not write this slot, or null when they may. */
  private writeRefusal(slot: Slot): string | null {
    const decision = checkWrite(operatorOf(this.op), slot, this.idx.directory());
    if (decision.ok) return null;
    if (this.op.source === 'role' || this.op.source === 'local') {
      return `${this.op.id} is not a directory user with traits, so it may not change configuration; pass --as <user id> (or set STRATA_OPERATOR).`;
    }
    return decision.reason;
  }
}

function checkReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw new StrataError('invalid', 'The reason must be text.');
  if (reason.length > MAX_REASON_LENGTH) {
    throw new StrataError(
      'invalid',
      `The reason is ${reason.length} characters long; the limit is ${MAX_REASON_LENGTH}.`,
    );
  }
  const trimmed = reason.trim();
  return trimmed === '' ? null : trimmed;
}

function maskAudit(v: string | null): string | null {
  if (v === null || v.startsWith('secret:')) return v;
  return MASK;
}

async function resolveOperator(
  store: Store,
  index: ConfigIndex,
  requested: string | null,
): Promise<OperatorInfo> {
  if (requested !== null && requested !== '') {
    const u = index.user(requested);
    if (!u) {
      throw new StrataError(
        'invalid',
        `Operator '${requested}' is not a user in the directory; pass --as with a directory user id.`,
      );
    }
    return {
      id: u.id,
      traits: [...u.traits],
      tenantId: u.tenantId,
      department: u.department,
      source: 'directory',
    };
  }
  const ident = await store.identity();
  if (store.kind === 'postgres') {
    const mapped = index.directory().users.find((u) => u.dbRole === ident.role);
    if (mapped) {
      return {
        id: mapped.id,
        traits: [...mapped.traits],
        tenantId: mapped.tenantId,
        department: mapped.department,
        source: 'db-role',
      };
    }
    if (ident.superuser) {
      return {
        id: ident.role,
        traits: [...SUPERUSER_TRAITS],
        tenantId: null,
        department: null,
        source: 'superuser',
      };
    }
    return { id: ident.role, traits: [], tenantId: null, department: null, source: 'role' };
  }
  return { id: ident.role, traits: [], tenantId: null, department: null, source: 'local' };
}

/** Opens a target and returns its config service. */
export async function openService(opts: OpenServiceOptions): Promise<StrataConfigService> {
  const store = await openStore(opts.db);
  try {
    return await StrataConfigService.create(store, opts);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}
