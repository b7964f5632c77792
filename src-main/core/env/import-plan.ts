/**
 * Turns parsed .env entries into a reviewable import plan: which key each name maps to, where it
 * lands, its typed value and what writing it would do. Pure: the caller supplies lookups for the
 * stored and inherited values, so the same plan serves the CLI, the console wizard and tests.
 */
import { isValidKey, isValidScope } from '../keys.js';
import { MASK } from '../masking.js';
import { isSecretKey } from '../secret-keys.js';
import { LEVELS, StrataError } from '../types.js';
import type { Change, KeyMetadata, Level, Slot, ValueType } from '../types.js';
import { inferValueType, normaliseValue, validateValue } from '../validation.js';
import type { EnvEntry } from './parse-env.js';
import { createEnvKeyMapper } from './mapping.js';
import type { EnvKeySource } from './mapping.js';
import { suggestPlacement } from './placement.js';

/** Where imported values go: per key by suggestPlacement ('auto'), or all to one slot. */
export type ImportPlacement = 'auto' | { level: Level; scope: string };

/** An admin's per-name correction, keyed by the .env name in ImportPlanOptions.overrides. */
export interface ImportKeyOverride {
  /** Configuration key to use instead of the mapped one. */
  key?: string;
  /** Level to place at; scope defaults to '' for global and the chosen tenant for tenant. */
  level?: Level;
  scope?: string;
  /** Value type to use when the key has no metadata. */
  valueType?: ValueType;
}

/** Inputs for planEnvImport. */
export interface ImportPlanOptions {
  placement: ImportPlacement;
  /** Tenant id for tenant-level keys under 'auto' placement (and tenant overrides without a scope). */
  tenant?: string | null;
  /** Custom env name -> config key mapping; wins over the built-in table. */
  mapping?: ReadonlyMap<string, string> | null;
  /** Keys the store knows, so exported dotted keys map back to themselves. */
  knownKeys?: Iterable<string> | null;
  /** Per-name corrections, keyed by .env name. */
  overrides?: ReadonlyMap<string, ImportKeyOverride> | null;
  /** Metadata for a configuration key, if any. */
  metadata?: (key: string) => KeyMetadata | undefined;
  /** Plaintext value stored at exactly this slot, or undefined when the slot does not set it. */
  current: (slot: Slot) => string | undefined;
  /** Effective value the slot would inherit from more general levels, or null for none. */
  inherited: (slot: Slot) => string | null;
  /**
   * Compares a value `current` or `inherited` returned with the new value, for stored forms
   * that are not plaintext (an encrypted secret compared by fingerprint, so a preview never
   * decrypts). Returns null to fall back to the plain comparison (equal once normalised).
   */
  equals?: (stored: string, value: string, valueType: ValueType) => boolean | null;
}

/**
 * What importing one entry would do: create or update the slot, nothing (`unchanged`: the slot
 * already holds the value; `redundant`: the slot is unset and would inherit the same value, so
 * an override adds nothing), or cannot (`invalid`, see message).
 */
export type ImportAction = 'create' | 'update' | 'unchanged' | 'redundant' | 'invalid';

/** One planned import. Secret values are plaintext here: show items through maskImportItem(). */
export interface ImportPlanItem {
  line: number;
  envKey: string;
  key: string;
  keySource: EnvKeySource | 'override';
  level: Level;
  scope: string;
  /** Value to write, normalised for its type (the raw .env value when invalid). */
  value: string;
  valueType: ValueType;
  secret: boolean;
  action: ImportAction;
  /** Value stored at the slot now, or null. */
  current: string | null;
  /** Value the slot inherits now, or null. */
  inherited: string | null;
  /** Why the item is invalid; never contains a secret value. */
  message?: string;
  /** A placement fallback worth showing (e.g. no tenant chosen for a tenant-level key). */
  note?: string;
}

function safeNormalise(value: string, valueType: ValueType): string | null {
  try {
    return normaliseValue(value, valueType);
  } catch {
    return null;
  }
}

function sameValue(a: string, b: string, valueType: ValueType): boolean {
  if (a === b) return true;
  const na = safeNormalise(a, valueType);
  return na !== null && na === safeNormalise(b, valueType);
}

function shortKey(key: string): string {
  return JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
}

function assertPlacement(opts: ImportPlanOptions): void {
  const { placement, tenant } = opts;
  if (tenant !== undefined && tenant !== null && tenant !== '' && !isValidScope('tenant', tenant)) {
    throw new StrataError('invalid', `The tenant id ${shortKey(String(tenant))} is not valid.`);
  }
  if (placement === 'auto') return;
  if (
    typeof placement !== 'object' ||
    placement === null ||
    !(LEVELS as readonly string[]).includes(placement.level)
  ) {
    throw new StrataError(
      'invalid',
      `Placement must be 'auto' or a level (${LEVELS.join(', ')}) with a scope.`,
    );
  }
  if (!isValidScope(placement.level, placement.scope)) {
    throw new StrataError(
      'invalid',
      `The scope ${shortKey(String(placement.scope))} is not valid for the ${placement.level} level.`,
    );
  }
}

/**
 * Plans the import of parsed .env entries, one item per entry in file order. Throws
 * StrataError('invalid') only for a bad placement or tenant; everything wrong with a single
 * entry (unmappable key, bad scope, value breaking metadata, two names landing on one slot)
 * becomes an `invalid` item with a message that never shows a secret value.
 */
export function planEnvImport(
  entries: readonly EnvEntry[],
  opts: ImportPlanOptions,
): ImportPlanItem[] {
  assertPlacement(opts);
  const mapper = createEnvKeyMapper({
    custom: opts.mapping ?? null,
    knownKeys: opts.knownKeys ?? null,
  });
  const tenant = opts.tenant ?? '';
  const overrides = opts.overrides ?? null;
  const auto = opts.placement === 'auto';
  const fixed = opts.placement === 'auto' ? null : opts.placement;
  const placementOpts = { tenant };
  const equals = opts.equals ?? null;
  const same = (stored: string, value: string, valueType: ValueType): boolean =>
    (equals === null ? null : equals(stored, value, valueType)) ??
    sameValue(stored, value, valueType);
  const items: ImportPlanItem[] = [];

  for (const entry of entries) {
    const override = overrides?.get(entry.key);
    let key: string;
    let keySource: ImportPlanItem['keySource'];
    if (override?.key !== undefined) {
      key = override.key;
      keySource = 'override';
    } else {
      const mapped = mapper(entry.key);
      key = mapped.key;
      keySource = mapped.source;
    }
    const validKey = isValidKey(key);
    const meta = validKey ? opts.metadata?.(key) : undefined;
    // The name is checked too (PHAXIO_TOKEN mapped to fax.auth stays a secret); a key that is
    // just the lower-cased name gives the same answer, so it is checked once.
    const secret = isSecretKey(key, meta) || (keySource !== 'lowercase' && isSecretKey(entry.key));

    let level: Level;
    let scope: string;
    let note: string | undefined;
    if (override?.level !== undefined) {
      level = override.level;
      scope = override.scope ?? (level === 'global' ? '' : level === 'tenant' ? tenant : '');
    } else if (auto) {
      const suggestion = suggestPlacement(key, placementOpts);
      level = suggestion.level;
      scope = suggestion.scope;
      note = suggestion.note;
    } else {
      level = fixed!.level;
      scope = override?.scope ?? fixed!.scope;
    }

    // One object per entry, filled in below (rows are many; spreads and closures add up).
    const item: ImportPlanItem = {
      line: entry.line,
      envKey: entry.key,
      key,
      keySource,
      level,
      scope,
      value: entry.value,
      valueType: 'string',
      secret,
      action: 'invalid',
      current: null,
      inherited: null,
    };
    if (note !== undefined) item.note = note;
    items.push(item);

    if (!validKey) {
      item.message = `Line ${entry.line}: ${entry.key} maps to ${shortKey(key)}, which is not a valid configuration key; map it to another key.`;
      continue;
    }
    if (!(LEVELS as readonly string[]).includes(level) || !isValidScope(level, scope)) {
      item.message =
        scope === '' && level !== 'global'
          ? `Line ${entry.line}: ${key} is placed at the ${String(level)} level but no ${String(level)} was chosen.`
          : `Line ${entry.line}: the scope ${shortKey(scope)} is not valid for the ${String(level)} level.`;
      continue;
    }

    const valueType: ValueType = meta
      ? meta.valueType
      : (override?.valueType ?? inferValueType(key, entry.value, meta));
    item.valueType = valueType;
    // A plain string with no metadata has no rule to break (validateValue would say the same).
    const failure =
      meta === undefined && valueType === 'string'
        ? null
        : validateValue(key, entry.value, valueType, meta, secret);
    if (failure !== null) {
      item.message = `Line ${entry.line}: ${failure.message}`;
      continue;
    }
    const value = valueType === 'string' ? entry.value : safeNormalise(entry.value, valueType);
    if (value === null) {
      item.message = `Line ${entry.line}: the value of ${key} is not a valid ${valueType}.`;
      continue;
    }

    const slot: Slot = { level, scope, key };
    const stored = opts.current(slot);
    const current = stored === undefined || stored === null ? null : stored;
    const inherited = opts.inherited(slot) ?? null;
    let action: ImportAction;
    if (current !== null) action = same(current, value, valueType) ? 'unchanged' : 'update';
    else if (inherited !== null && same(inherited, value, valueType)) action = 'redundant';
    else action = 'create';
    item.value = value;
    item.action = action;
    item.current = current;
    item.inherited = inherited;
  }

  markCollisions(items);
  return items;
}

/** Two names that land on the same slot would silently overwrite each other: refuse both. */
function markCollisions(items: ImportPlanItem[]): void {
  // Grouped by key first: keys are almost always distinct, so slot ids are built only for the
  // few keys set by more than one name.
  const byKey = new Map<string, ImportPlanItem | ImportPlanItem[]>();
  for (const item of items) {
    if (item.action === 'invalid') continue;
    const prev = byKey.get(item.key);
    if (prev === undefined) byKey.set(item.key, item);
    else if (Array.isArray(prev)) prev.push(item);
    else byKey.set(item.key, [prev, item]);
  }
  for (const group of byKey.values()) {
    if (!Array.isArray(group)) continue;
    const bySlot = new Map<string, ImportPlanItem[]>();
    for (const item of group) {
      const id = `${item.level}\u0000${item.scope}`;
      const list = bySlot.get(id);
      if (list === undefined) bySlot.set(id, [item]);
      else list.push(item);
    }
    for (const list of bySlot.values()) {
      if (list.length < 2) continue;
      const who = list.map((i) => `${i.envKey} (line ${i.line})`).join(' and ');
      const all = list.length === 2 ? 'both' : 'all';
      for (const item of list) {
        item.action = 'invalid';
        item.message = `Line ${item.line}: ${who} ${all} set ${item.key} at ${item.level}${item.scope === '' ? '' : ` ${item.scope}`}; keep one or map the others elsewhere.`;
      }
    }
  }
}

/**
 * What a preview shows of one of an item's texts: the mask for a secret key, or for a stored
 * value that is an encrypted envelope (`sealed`), else the text itself.
 */
export function shownImportText(
  text: string | null,
  secret: boolean,
  sealed: (stored: string) => boolean = () => false,
): string | null {
  return text === null ? null : secret || sealed(text) ? MASK : text;
}

/** A copy of the item safe to display: value, current and inherited masked for secrets. */
export function maskImportItem(item: ImportPlanItem): ImportPlanItem {
  if (!item.secret) return { ...item };
  return {
    ...item,
    value: MASK,
    current: shownImportText(item.current, true),
    inherited: shownImportText(item.inherited, true),
  };
}

/** Counts items per action. */
export function summarizeImportPlan(
  items: readonly ImportPlanItem[],
): Record<ImportAction, number> {
  const counts: Record<ImportAction, number> = {
    create: 0,
    update: 0,
    unchanged: 0,
    redundant: 0,
    invalid: 0,
  };
  for (const item of items) counts[item.action]++;
  return counts;
}

/** Options for importPlanChanges. */
export interface ImportChangeOptions {
  /** Also write `redundant` overrides (skipped by default). */
  includeRedundant?: boolean;
  /** Audit reason recorded with each change. */
  reason?: string | null;
  /** Keep only items this returns true for (e.g. the rows ticked in a wizard). */
  select?: (item: ImportPlanItem) => boolean;
}

/** The set-changes an import applies: creates and updates (and redundant ones if asked). */
export function importPlanChanges(
  items: readonly ImportPlanItem[],
  opts: ImportChangeOptions = {},
): Change[] {
  const changes: Change[] = [];
  for (const item of items) {
    const wanted =
      item.action === 'create' ||
      item.action === 'update' ||
      (item.action === 'redundant' && opts.includeRedundant === true);
    if (!wanted || (opts.select && !opts.select(item))) continue;
    changes.push({
      level: item.level,
      scope: item.scope,
      key: item.key,
      action: 'set',
      value: item.value,
      valueType: item.valueType,
      reason: opts.reason ?? null,
    });
  }
  return changes;
}
