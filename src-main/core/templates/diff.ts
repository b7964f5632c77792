/**
 * Comparing a rendered template with what a scope holds, and computing the changes that move a
 * scope from one template version to the next.
 */
import type { Change, Slot, ValueType } from '../types.js';
import { SECRET_MASK, scanPlaceholders, templateKeyIsSecret } from './rules.js';
import { renderKey, resolveVariables, targetErrors } from './render.js';
import { configValueType } from './schema.js';
import type { TemplateChange, TemplateDefinition, TemplateError, TemplateTarget } from './types.js';

/** A value stored at a slot, as the diff needs it. `value` is plaintext (decrypted by the caller). */
export interface StoredValue {
  value: string;
  valueType: ValueType;
  locked: boolean;
}

/**
 * create: the slot holds nothing and the value differs from what it inherits;
 * update: the slot holds something else; unchanged: the slot already holds exactly this;
 * redundant: the slot holds nothing and the value equals what it inherits anyway.
 */
export type TemplateDiffAction = 'create' | 'update' | 'unchanged' | 'redundant';

/** One rendered value compared with the slot it would be written to. */
export interface TemplateDiffItem extends TemplateChange {
  action: TemplateDiffAction;
  /** What the slot holds now (plaintext), or null. Mask it when `secret`. */
  currentValue: string | null;
  currentValueType: ValueType | null;
  currentLocked: boolean | null;
  /** What the slot would inherit from more general levels, or null. Mask it when `secret`. */
  inheritedValue: string | null;
}

/**
 * Classifies each rendered change against the slot it targets. `current` returns the value set at
 * exactly that slot; `inherited` returns the effective value the slot would get from more general
 * levels if it held nothing.
 */
export function diffTemplateChanges(
  changes: readonly TemplateChange[],
  current: (slot: Slot) => StoredValue | undefined,
  inherited: (slot: Slot) => string | null,
): TemplateDiffItem[] {
  return changes.map((c) => {
    const slot: Slot = { level: c.level, scope: c.scope, key: c.key };
    const cur = current(slot);
    const inh = inherited(slot);
    let action: TemplateDiffAction;
    if (cur) {
      const same =
        cur.value === c.value && cur.valueType === c.valueType && cur.locked === c.locked;
      action = same ? 'unchanged' : 'update';
    } else {
      // A locked value is not redundant even when equal: it stops more specific overrides.
      action = inh !== null && inh === c.value && !c.locked ? 'redundant' : 'create';
    }
    return {
      ...c,
      action,
      currentValue: cur?.value ?? null,
      currentValueType: cur?.valueType ?? null,
      currentLocked: cur?.locked ?? null,
      inheritedValue: inh,
    };
  });
}

/** A diff item as it may be displayed: every value masked when the key is secret. */
export function displayDiffItem(item: TemplateDiffItem): TemplateDiffItem {
  if (!item.secret) return item;
  const mask = (v: string | null) => (v === null ? null : SECRET_MASK);
  return {
    ...item,
    value: SECRET_MASK,
    currentValue: mask(item.currentValue),
    inheritedValue: mask(item.inheritedValue),
  };
}

/** One step of a template upgrade: set a value, or remove a key the new version no longer sets. */
export interface TemplateUpgradeChange {
  action: 'set' | 'unset';
  level: TemplateChange['level'];
  scope: string;
  key: string;
  /** Plaintext for a set; null for an unset. */
  value: string | null;
  valueType: ValueType;
  locked: boolean;
  secret: boolean;
}

/** The result of planning a template upgrade. */
export type UpgradeResult =
  { ok: true; changes: TemplateUpgradeChange[] } | { ok: false; errors: TemplateError[] };

// A key renders identically in both versions whatever the variables are when its text, type,
// lock, secrecy and the defaults and secrecy of the variables it uses are all the same.
function sameRecipe(a: TemplateDefinition, b: TemplateDefinition, key: string): boolean {
  const ca = a.configs[key];
  const cb = b.configs[key];
  if (!ca || !cb) return false;
  if (
    ca.value !== cb.value ||
    (ca.literal ?? false) !== (cb.literal ?? false) ||
    (ca.locked ?? false) !== (cb.locked ?? false) ||
    configValueType(a, key) !== configValueType(b, key) ||
    templateKeyIsSecret(a, key) !== templateKeyIsSecret(b, key)
  ) {
    return false;
  }
  if (ca.literal) return true;
  return scanPlaceholders(ca.value).names.every((n) => {
    const va = a.variables.find((v) => v.name === n);
    const vb = b.variables.find((v) => v.name === n);
    return (
      !!va && !!vb && va.default === vb.default && (va.secret ?? false) === (vb.secret ?? false)
    );
  });
}

/**
 * The exact set/unset changes that bring a scope rendered from `oldDef` to `newDef`: keys added,
 * removed or rendered differently. Keys the template does not own are never touched. `vars` are
 * the variable values for the scope; only variables used by keys that change are required, so an
 * upgrade that leaves the password key alone does not ask for the password again.
 */
export function upgradeChanges(
  oldDef: TemplateDefinition,
  newDef: TemplateDefinition,
  vars: Readonly<Record<string, string>>,
  target: TemplateTarget,
): UpgradeResult {
  const errors: TemplateError[] = [];
  if (oldDef.name !== newDef.name) {
    errors.push({
      variable: '',
      message: `Cannot upgrade template "${oldDef.name}" to a different template ("${newDef.name}").`,
    });
    return { ok: false, errors };
  }
  errors.push(...targetErrors(newDef, target));

  const declaredNew = new Set(newDef.variables.map((v) => v.name));
  const declaredOld = new Set(oldDef.variables.map((v) => v.name));
  const forNew: Record<string, string> = {};
  const forOld: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (declaredNew.has(name)) forNew[name] = value;
    if (declaredOld.has(name)) forOld[name] = value;
    if (!declaredNew.has(name) && !declaredOld.has(name)) {
      errors.push({
        variable: name,
        message: `${name} is not a variable of template "${newDef.name}".`,
      });
    }
  }

  const dirty = Object.keys(newDef.configs).filter((k) => !sameRecipe(oldDef, newDef, k));
  const needed = new Set<string>(Object.keys(forNew));
  for (const key of dirty) {
    const cfg = newDef.configs[key]!;
    if (!cfg.literal) for (const n of scanPlaceholders(cfg.value).names) needed.add(n);
  }
  const resolvedNew = resolveVariables(newDef, forNew, needed);
  errors.push(...resolvedNew.errors);
  if (errors.length > 0) return { ok: false, errors };
  // The old rendering is only for comparison: a variable the caller no longer supplies just makes
  // the old value unknown, which turns the key into a set.
  const resolvedOld = resolveVariables(oldDef, forOld);

  const changes: TemplateUpgradeChange[] = [];
  for (const key of dirty) {
    const next = renderKey(newDef, key, resolvedNew.values, target);
    if (next && 'error' in next) {
      errors.push(next.error);
      continue;
    }
    const prev = oldDef.configs[key] ? renderKey(oldDef, key, resolvedOld.values, target) : null;
    const prevKnownAbsent =
      !oldDef.configs[key] || (prev === null && !missingRequired(oldDef, key, resolvedOld.values));
    if (next === null) {
      if (!prevKnownAbsent) changes.push(unsetOf(oldDef, key, target));
      continue;
    }
    const c = next.change;
    if (prev && 'change' in prev && sameChange(prev.change, c)) continue;
    changes.push({ action: 'set', ...c });
  }
  for (const key of Object.keys(oldDef.configs)) {
    if (Object.prototype.hasOwnProperty.call(newDef.configs, key)) continue;
    // A key the old version left out (its optional variable unset) has nothing to remove.
    const prev = renderKey(oldDef, key, resolvedOld.values, target);
    if (prev === null && !missingRequired(oldDef, key, resolvedOld.values)) continue;
    changes.push(unsetOf(oldDef, key, target));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, changes };
}

// True when the old key could not be rendered because a required variable has no known value
// (as opposed to an optional variable being deliberately unset).
function missingRequired(
  def: TemplateDefinition,
  key: string,
  values: Readonly<Record<string, string>>,
): boolean {
  const cfg = def.configs[key]!;
  if (cfg.literal) return false;
  return scanPlaceholders(cfg.value).names.some(
    (n) =>
      !Object.prototype.hasOwnProperty.call(values, n) &&
      def.variables.find((v) => v.name === n)?.required !== false,
  );
}

function sameChange(a: TemplateChange, b: TemplateChange): boolean {
  return (
    a.value === b.value &&
    a.valueType === b.valueType &&
    a.locked === b.locked &&
    a.secret === b.secret
  );
}

function unsetOf(
  def: TemplateDefinition,
  key: string,
  target: TemplateTarget,
): TemplateUpgradeChange {
  return {
    action: 'unset',
    level: target.level,
    scope: target.scope,
    key,
    value: null,
    valueType: configValueType(def, key),
    locked: false,
    secret: templateKeyIsSecret(def, key),
  };
}

/** Converts template output to the core Change the draft and push machinery apply. */
export function toChange(c: TemplateChange | TemplateUpgradeChange, reason: string | null): Change {
  const action = 'action' in c ? c.action : 'set';
  return {
    level: c.level,
    scope: c.scope,
    key: c.key,
    action,
    value: action === 'unset' ? null : c.value,
    valueType: c.valueType,
    locked: c.locked,
    reason,
  };
}
