/**
 * Impact preview for the console, the CLI and the web bridge: for a staged change set (the open
 * draft's staged changes, a draft file's plan, or changes proposed in a request: an import, a
 * template application, a single edit) the exact users, groups, departments and tenants whose
 * effective value changes per key, with a drill-down to one user's before -> after and where
 * each value comes from, plus the guardrails the change set trips (locks, policies, values).
 *
 * Everything is computed from the in-memory index (core/impact.ts); the only reads are the
 * draft's base rows (to know what the staged changes replace) and the policy rules.
 */
import { ConfigIndex } from '../core/config-index.js';
import type { RawResolution } from '../core/config-index.js';
import {
  OverlayView,
  computeImpact,
  computeImpactBetween,
  impactForUserBetween,
  indexView,
} from '../core/impact.js';
import type { ConfigView, ImpactReport, KeyImpact, SlotChange } from '../core/impact.js';
import { assertValidKey, assertValidScope, parseLevel } from '../core/keys.js';
import { lintChanges, lintChangesBetween } from '../core/lint.js';
import type { LintReport } from '../core/lint.js';
import { MASK } from '../core/masking.js';
import { isSecretKey } from '../core/secret-keys.js';
import { StrataError, VALUE_TYPES } from '../core/types.js';
import type { ChainLink, Level, Resolution, ValueType } from '../core/types.js';
import { normaliseValue, validateValue } from '../core/validation.js';
import { policyRulesOf, slotId, stagedChangeSet, undoChanges } from './lint-service.js';
import { codecChoiceFromEnv } from './secret-codec.js';
import type { CodecChoice, SecretCodec } from './secret-codec.js';
import type { StrataConfigService } from './config-service.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';

/** A proposed change as a caller names it (plaintext value; the service normalises and encrypts). */
export interface ProposedChange {
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  value?: string | null;
  valueType?: ValueType;
  locked?: boolean;
}

/** What to preview. */
export interface ImpactRequest {
  /** Proposed changes on top of the workspace; omitted: the open draft's staged changes. */
  changes?: ProposedChange[];
  /** List affected user ids per key and per slot. */
  includeUsers?: boolean;
  /** Drill-down: this user's before -> after for every changed key (or only `key`). */
  userId?: string;
  key?: string;
}

/** One user's before -> after for one key, values masked for secrets. */
export interface UserImpactItem {
  key: string;
  changed: boolean;
  before: Resolution;
  after: Resolution;
}

/** The drill-down of one user. */
export interface UserImpactView {
  userId: string;
  items: UserImpactItem[];
}

/** An impact preview. */
export interface ImpactPreview {
  /** Where the change set came from. */
  source: 'staged' | 'request' | 'draft-file';
  /** Number of changed slots. */
  changes: number;
  usersAffected: number;
  totalUsers: number;
  /** Contexts and users resolved (grows with distinct contexts, not users). */
  evaluations: number;
  keys: KeyImpact[];
  user: UserImpactView | null;
  /** Locks, policies and value checks the change set trips (errors block a push). */
  guardrails: LintReport;
}

const MAX_CHANGES = 100_000;

function codecOf(config: StrataConfigService): CodecChoice {
  // The config service keeps its codec private; template-service reads it the same way.
  const own = (config as unknown as { codec?: unknown }).codec;
  if (own && typeof own === 'object' && 'why' in own && 'codec' in own) return own as CodecChoice;
  return codecChoiceFromEnv(process.env);
}

/**
 * Turns proposed changes into stored form, checking each like a write would (key, scope,
 * type and metadata rules). Secrets are encrypted when a codec is configured; without one they
 * get a placeholder that compares as "changed" (the preview cannot know better).
 */
export function storedChanges(
  index: ConfigIndex,
  changes: readonly ProposedChange[],
  codec: SecretCodec | null,
): SlotChange[] {
  if (!Array.isArray(changes)) throw new StrataError('invalid', 'changes must be a list.');
  if (changes.length > MAX_CHANGES) {
    throw new StrataError('invalid', `At most ${MAX_CHANGES} changes can be previewed at once.`);
  }
  return changes.map((c, i) => {
    if (!c || typeof c !== 'object')
      throw new StrataError('invalid', `Change ${i + 1} is not an object.`);
    const level = parseLevel(c.level);
    const scope = c.scope ?? '';
    assertValidScope(level, scope);
    assertValidKey(c.key);
    const slot = { level, scope, key: c.key };
    const existing = index.get(slot) ?? null;
    if (c.action === 'unset') {
      return {
        ...slot,
        action: 'unset',
        value: null,
        valueType: 'string',
        encrypted: false,
        locked: false,
      };
    }
    if (c.action !== 'set') {
      throw new StrataError(
        'invalid',
        `Change ${i + 1} has action '${String(c.action)}'; use set or unset.`,
      );
    }
    if (typeof c.value !== 'string') {
      throw new StrataError(
        'invalid',
        `The change to ${c.key} at ${level} ${scope} needs a text value.`,
      );
    }
    if (c.valueType !== undefined && !(VALUE_TYPES as readonly string[]).includes(c.valueType)) {
      throw new StrataError(
        'invalid',
        `Unknown value type '${String(c.valueType)}'; use ${VALUE_TYPES.join(', ')}.`,
      );
    }
    const meta = index.metadata(c.key);
    const valueType: ValueType = c.valueType ?? meta?.valueType ?? existing?.valueType ?? 'string';
    const secret = isSecretKey(c.key, meta);
    const failure = validateValue(c.key, c.value, valueType, meta, secret);
    if (failure !== null)
      throw new StrataError('invalid', failure.message, { key: failure.key, rule: failure.rule });
    const normal = normaliseValue(c.value, valueType);
    let value = normal;
    if (secret) {
      value =
        codec !== null
          ? codec.encrypt(slot, normal)
          : `enc:v1:00000000:preview-${i}:unknown:unknown`;
    }
    return {
      ...slot,
      action: 'set',
      value,
      valueType,
      encrypted: secret,
      locked: c.locked ?? existing?.locked ?? false,
    };
  });
}

/** Masks a resolution for display (secrets never leave in plaintext here). */
function maskedResolution(r: RawResolution, index: ConfigIndex): Resolution {
  const secret = r.encrypted || isSecretKey(r.key, index.metadata(r.key));
  const show = (v: string | null, enc: boolean): string | null =>
    v === null ? null : secret || enc ? MASK : v;
  const chain: ChainLink[] = r.chain.map((l) => ({
    level: l.level,
    scope: l.scope,
    value: show(l.value, l.entry?.encrypted ?? false),
    valueType: l.entry?.valueType ?? (l.value !== null ? r.valueType : null),
    encrypted: l.entry?.encrypted ?? false,
    locked: l.entry?.locked ?? false,
    winner: l.winner,
    shadowed: l.shadowed,
  }));
  return {
    key: r.key,
    value: show(r.value, r.encrypted),
    valueType: r.valueType,
    level: r.level,
    scope: r.scope,
    encrypted: r.encrypted,
    chain,
  };
}

function finish(
  source: ImpactPreview['source'],
  report: ImpactReport,
  changes: number,
  user: UserImpactView | null,
  guardrails: LintReport,
): ImpactPreview {
  return {
    source,
    changes,
    usersAffected: report.usersAffected,
    totalUsers: report.totalUsers,
    evaluations: report.evaluations,
    keys: report.keys,
    user,
    guardrails,
  };
}

function drillDown(
  before: ConfigView,
  after: ConfigView,
  index: ConfigIndex,
  userId: string,
  keys: readonly string[],
): UserImpactView {
  if (typeof userId !== 'string' || userId === '')
    throw new StrataError('invalid', 'userId must be a user id.');
  const items = impactForUserBetween(before, after, userId, keys).map((x) => ({
    key: x.key,
    changed: x.changed,
    before: maskedResolution(x.before, index),
    after: maskedResolution(x.after, index),
  }));
  return { userId, items };
}

/** The impact service of one open workspace. */
export class ImpactService {
  constructor(readonly config: StrataConfigService) {}

  /** Previews the open draft's staged changes, or the changes a request proposes. */
  async preview(req: ImpactRequest = {}): Promise<ImpactPreview> {
    const index = this.config.index;
    const store: Store = this.config.store;
    const rules = await policyRulesOf(store);
    if (req.key !== undefined) assertValidKey(req.key);
    if (req.changes !== undefined) {
      const changes = storedChanges(index, req.changes, codecOf(this.config).codec);
      const after = new OverlayView(index, changes);
      const report = computeImpact(index, after, { includeUsers: req.includeUsers === true });
      const user =
        req.userId !== undefined
          ? drillDown(
              indexView(index),
              after,
              index,
              req.userId,
              req.key !== undefined ? [req.key] : after.changedKeys(),
            )
          : null;
      return finish('request', report, changes.length, user, lintChanges(index, after, { rules }));
    }
    if (!(store instanceof SqliteStore)) {
      throw new StrataError(
        'invalid',
        'A live database has no staged changes; pass the changes to preview, or open a draft.',
      );
    }
    const { staged, base } = stagedChangeSet(store);
    // The index already holds the staged changes: put the base back to get "before".
    const before = new OverlayView(index, undoChanges(staged, base));
    const after = indexView(index);
    const report = computeImpactBetween(before, after, staged, {
      includeUsers: req.includeUsers === true,
    });
    const keys = [...new Set(staged.map((c) => c.key))].sort();
    const user =
      req.userId !== undefined
        ? drillDown(before, after, index, req.userId, req.key !== undefined ? [req.key] : keys)
        : null;
    const guardrails = lintChangesBetween(before, after, staged, { rules });
    return finish('staged', report, staged.length, user, guardrails);
  }
}

const services = new WeakMap<object, ImpactService>();

/** The impact service of a config service (one per config service). */
export function impactServiceFor(config: StrataConfigService): ImpactService {
  let s = services.get(config);
  if (!s) {
    s = new ImpactService(config);
    services.set(config, s);
  }
  return s;
}

/**
 * `strata impact <draft.sqlite>`: the impact of a draft file's staged changes on its base,
 * without opening a config service (no operator needed: a preview changes nothing).
 */
export async function impactOfDraftFile(
  path: string,
  opts: { includeUsers?: boolean; userId?: string; key?: string } = {},
): Promise<ImpactPreview> {
  const store = SqliteStore.open(path);
  try {
    const snap = await store.snapshot();
    const { staged, base } = stagedChangeSet(store);
    const stagedIds = new Set(staged.map(slotId));
    const baseEntries = snap.entries.filter((e) => !stagedIds.has(slotId(e)));
    for (const e of base.values()) baseEntries.push(e);
    const baseIndex = ConfigIndex.build({
      entries: baseEntries,
      directory: snap.directory,
      metadata: snap.metadata,
    });
    const after = new OverlayView(baseIndex, staged);
    const report = computeImpact(baseIndex, after, { includeUsers: opts.includeUsers === true });
    if (opts.key !== undefined) assertValidKey(opts.key);
    const user =
      opts.userId !== undefined
        ? drillDown(
            indexView(baseIndex),
            after,
            baseIndex,
            opts.userId,
            opts.key !== undefined ? [opts.key] : after.changedKeys(),
          )
        : null;
    const rules = await policyRulesOf(store);
    return finish(
      'draft-file',
      report,
      staged.length,
      user,
      lintChanges(baseIndex, after, { rules }),
    );
  } finally {
    await store.close();
  }
}
