/**
 * Small pure checks shared by template parsing and rendering: names, placeholders, secret keys,
 * value types and validation rules. Every message is one clause that can follow a subject
 * ("EMAIL_USER must …"), and none contains a secret value.
 */
import { MASK } from '../masking.js';
import { isSecretKey } from '../secret-keys.js';
import type { ValidationRules, ValueType } from '../types.js';
import type { TemplateDefinition, TemplateVariableValidation } from './types.js';

/** Variable names: upper snake case. */
export const VARIABLE_NAME_RE = /^[A-Z][A-Z0-9_]*$/;
/** Template names: lower-case slugs (they double as file names). */
export const TEMPLATE_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
/** Tenant, department and group ids: no `/` (it separates tenant and department in scopes). */
export const ENTITY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Shown instead of a secret value (the project-wide mask). */
export const SECRET_MASK = MASK;

const PLACEHOLDER_RE = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;

/** Whether a key is secret by its name alone (the project-wide rule). */
export function isSecretKeyName(key: string): boolean {
  return isSecretKey(key);
}

/** Whether a key a template sets is secret: by name, or because its metadata says password. */
export function templateKeyIsSecret(
  def: Pick<TemplateDefinition, 'metadata'>,
  key: string,
): boolean {
  if (isSecretKeyName(key)) return true;
  return (def.metadata ?? []).some((m) => m.key === key && m.inputType === 'password');
}

/** The placeholders in a value and any `{{`/`}}` fragment that is not a well-formed placeholder. */
export function scanPlaceholders(value: string): { names: string[]; malformed: string | null } {
  const names: string[] = [];
  for (const m of value.matchAll(PLACEHOLDER_RE)) {
    if (!names.includes(m[1]!)) names.push(m[1]!);
  }
  const rest = value.replace(PLACEHOLDER_RE, '');
  const at = Math.min(
    ...[rest.indexOf('{{'), rest.indexOf('}}')].filter((i) => i >= 0),
    Number.POSITIVE_INFINITY,
  );
  const malformed = Number.isFinite(at) ? rest.slice(Math.max(0, at - 10), at + 20) : null;
  return { names, malformed };
}

/** Replaces placeholders in one pass, so a substituted value containing {{X}} stays literal. */
export function substitute(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(PLACEHOLDER_RE, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? vars[name]! : whole,
  );
}

/** Compiles a validation pattern, or returns null when it is not a valid regular expression. */
export function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern);
  } catch {
    return null;
  }
}

/** How a value is named in a message: quoted when it may be shown, never when secret. */
export function describeValue(value: string, secret: boolean): string {
  if (secret) return 'the secret value';
  const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
  return JSON.stringify(shown);
}

/** Problem with a value for its value type, or null. */
export function checkValueType(value: string, valueType: ValueType): string | null {
  switch (valueType) {
    case 'string':
      return null;
    case 'number':
      return /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value) ? null : 'must be a number';
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'must be true or false';
    case 'json':
      try {
        JSON.parse(value);
        return null;
      } catch {
        return 'must be valid JSON';
      }
  }
}

/** Problem with a variable value against the variable's own validation, or null. */
export function checkVariableRules(
  value: string,
  rules: TemplateVariableValidation | undefined,
): string | null {
  if (!rules) return null;
  if (rules.minLength !== undefined && rules.maxLength !== undefined) {
    if (rules.minLength === rules.maxLength && value.length !== rules.minLength) {
      return `must be exactly ${rules.minLength} characters long`;
    }
  }
  if (rules.minLength !== undefined && value.length < rules.minLength) {
    return `must be at least ${rules.minLength} characters long`;
  }
  if (rules.maxLength !== undefined && value.length > rules.maxLength) {
    return `must be at most ${rules.maxLength} characters long`;
  }
  if (rules.options !== undefined && !rules.options.includes(value)) {
    return `must be one of ${rules.options.join(', ')}`;
  }
  if (rules.pattern !== undefined) {
    const re = compilePattern(rules.pattern);
    if (re && !re.test(value)) return `must match the pattern ${rules.pattern}`;
  }
  return null;
}

/** Problem with a key's value against its metadata validation rules, or null. */
export function checkKeyRules(value: string, rules: ValidationRules | undefined): string | null {
  if (!rules) return null;
  if (rules.required && value === '') return 'must not be empty';
  const lengthProblem = checkVariableRules(value, {
    ...(rules.minLength !== undefined ? { minLength: rules.minLength } : {}),
    ...(rules.maxLength !== undefined ? { maxLength: rules.maxLength } : {}),
    ...(rules.options !== undefined ? { options: rules.options } : {}),
    ...(rules.pattern !== undefined ? { pattern: rules.pattern } : {}),
  });
  if (lengthProblem) return lengthProblem;
  if (rules.min !== undefined || rules.max !== undefined) {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) return 'must be a number';
    if (rules.min !== undefined && n < rules.min) return `must be at least ${rules.min}`;
    if (rules.max !== undefined && n > rules.max) return `must be at most ${rules.max}`;
  }
  return null;
}
