/**
 * Rendering: validate the supplied variables, fill defaults and substitute placeholders,
 * producing the values a template sets at one level and scope.
 */
import { assertValidScope } from '../keys.js';
import { LEVELS, StrataError } from '../types.js';
import type { Level } from '../types.js';
import {
  checkKeyRules,
  checkValueType,
  checkVariableRules,
  describeValue,
  SECRET_MASK,
  scanPlaceholders,
  substitute,
  templateKeyIsSecret,
} from './rules.js';
import { configValueType, templateLevels } from './schema.js';
import type {
  RenderResult,
  TemplateChange,
  TemplateDefinition,
  TemplateError,
  TemplateTarget,
} from './types.js';

/** Problem with a scope id for a level (one sentence), or null. */
export function scopeProblem(level: Level, scope: string): string | null {
  try {
    assertValidScope(level, scope);
    return null;
  } catch (e) {
    if (e instanceof StrataError) return e.message;
    throw e;
  }
}

/** Problems with where a template is applied (level allowed by the template, scope well formed). */
export function targetErrors(def: TemplateDefinition, target: TemplateTarget): TemplateError[] {
  const levels = templateLevels(def);
  if (!levels.includes(target.level)) {
    const ordered = LEVELS.filter((l) => levels.includes(l));
    const list =
      ordered.length > 1
        ? `${ordered.slice(0, -1).join(', ')} or ${ordered[ordered.length - 1]}`
        : ordered[0];
    return [
      {
        variable: '',
        message: `Template "${def.name}" applies at the ${list} level, not ${target.level}.`,
      },
    ];
  }
  const bad = scopeProblem(target.level, target.scope);
  return bad ? [{ variable: '', message: `Cannot apply template "${def.name}": ${bad}` }] : [];
}

/**
 * Resolves every variable's value (supplied, else default). Absent optional variables are left
 * out; the keys that use them are not set. Messages never contain a secret value.
 */
export function resolveVariables(
  def: TemplateDefinition,
  vars: Readonly<Record<string, string>>,
  only?: ReadonlySet<string>,
): { values: Record<string, string>; errors: TemplateError[] } {
  const errors: TemplateError[] = [];
  const values: Record<string, string> = {};
  for (const name of Object.keys(vars)) {
    if (!def.variables.some((v) => v.name === name)) {
      errors.push({
        variable: name,
        message: `${name} is not a variable of template "${def.name}".`,
      });
    }
  }
  for (const v of def.variables) {
    if (only && !only.has(v.name)) continue;
    const supplied = Object.prototype.hasOwnProperty.call(vars, v.name) ? vars[v.name] : undefined;
    if (supplied !== undefined && typeof supplied !== 'string') {
      errors.push({ variable: v.name, message: `${v.name} must be given as text.` });
      continue;
    }
    const value = supplied !== undefined && supplied !== '' ? supplied : v.default;
    if (value === undefined) {
      if (v.required) {
        errors.push({ variable: v.name, message: `${v.name} is required (${v.description}).` });
      }
      continue;
    }
    const bad = checkVariableRules(value, v.validation);
    if (bad) {
      const hint = v.example !== undefined ? ` (example: ${v.example})` : '';
      const shown = v.secret ? '' : ` ${describeValue(value, false)}`;
      errors.push({ variable: v.name, message: `${v.name}${shown} ${bad}${hint}.` });
      continue;
    }
    values[v.name] = value;
  }
  return { values, errors };
}

/** Renders one key, or reports why its value is unusable; null when an optional variable is unset. */
export function renderKey(
  def: TemplateDefinition,
  key: string,
  values: Readonly<Record<string, string>>,
  target: TemplateTarget,
): { change: TemplateChange } | { error: TemplateError } | null {
  const cfg = def.configs[key]!;
  const names = cfg.literal ? [] : scanPlaceholders(cfg.value).names;
  if (names.some((n) => !Object.prototype.hasOwnProperty.call(values, n))) return null;
  const value = cfg.literal ? cfg.value : substitute(cfg.value, values);
  const valueType = configValueType(def, key);
  const secret =
    templateKeyIsSecret(def, key) ||
    names.some((n) => def.variables.find((v) => v.name === n)?.secret === true);
  const meta = def.metadata?.find((m) => m.key === key);
  const bad = checkValueType(value, valueType) ?? checkKeyRules(value, meta?.validationRules);
  if (bad) {
    const by = names.length > 0 ? names.join(' and ') : 'The template';
    return {
      error: {
        variable: names[0] ?? '',
        message: `${by} gives ${key} ${describeValue(value, secret)}, which ${bad}.`,
      },
    };
  }
  return {
    change: {
      level: target.level,
      scope: target.scope,
      key,
      value,
      valueType,
      locked: cfg.locked ?? false,
      secret,
    },
  };
}

/**
 * Renders a template for one level and scope: every variable is validated (missing required,
 * pattern, lengths, options, unknown names), defaults are filled and placeholders substituted in
 * one pass. Returns all problems at once; secret values never appear in a message.
 */
export function renderTemplate(
  def: TemplateDefinition,
  vars: Readonly<Record<string, string>>,
  target: TemplateTarget,
): RenderResult {
  const errors = [...targetErrors(def, target)];
  const { values, errors: varErrors } = resolveVariables(def, vars);
  errors.push(...varErrors);
  if (errors.length > 0) return { ok: false, errors };
  const changes: TemplateChange[] = [];
  for (const key of Object.keys(def.configs)) {
    const r = renderKey(def, key, values, target);
    if (r === null) continue;
    if ('error' in r) errors.push(r.error);
    else changes.push(r.change);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, changes };
}

/** A rendered change as it may be displayed: the value masked when secret. */
export function displayChange(change: TemplateChange): TemplateChange {
  return change.secret ? { ...change, value: SECRET_MASK } : change;
}
