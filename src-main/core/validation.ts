/**
 * Value checks: a value against its type and the key's metadata rules, plus canonical text for
 * typed values. Messages name the key, the rule and the value; secret values are masked.
 */
import { MASK } from './masking.js';
import { isSecretKey } from './secret-keys.js';
import { StrataError } from './types.js';
import type { KeyMetadata, ValidationRules, ValueType } from './types.js';

/** Why a value was refused: the key, the rule it broke and a one-sentence message. */
export interface ValidationFailure {
  key: string;
  /** 'type' | 'required' | 'minLength' | 'maxLength' | 'min' | 'max' | 'pattern' | 'options'. */
  rule: string;
  message: string;
}

// Decimal numbers only: hex, octal, Infinity and NaN are refused so a config file cannot
// smuggle in a value that other readers (PostgreSQL numeric, Python float) parse differently.
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

const patternCache = new Map<string, RegExp | null>();

function compilePattern(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

function parseNumber(value: string): number | null {
  const text = value.trim();
  if (!NUMBER_RE.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function parseBoolean(value: string): boolean | null {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}

function parseJson(value: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(value) as unknown };
  } catch {
    return { ok: false };
  }
}

function typeProblem(value: string, valueType: ValueType): string | null {
  switch (valueType) {
    case 'string':
      return null;
    case 'number':
      return parseNumber(value) === null ? 'expected a decimal number such as 42 or 3.5' : null;
    case 'boolean':
      return parseBoolean(value) === null
        ? 'expected true/false (also accepted: 1/0, yes/no, on/off)'
        : null;
    case 'json':
      return parseJson(value).ok ? null : 'expected valid JSON';
    default:
      return `unknown value type '${String(valueType)}'; expected string, number, boolean or json`;
  }
}

/** Number of characters as a person counts them (code points, not UTF-16 units). */
function charCount(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function shownValue(value: string, secret: boolean): string {
  if (secret) return `'${MASK}'`;
  const max = 60;
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  // JSON quoting keeps control characters and newlines from breaking a one-line message.
  return JSON.stringify(cut);
}

/**
 * Checks a value against its type and the key's metadata rules (type, required, min/max,
 * minLength/maxLength, pattern, options). Message names key, rule and value; secret values masked.
 * `secret` defaults to what isSecretKey() says about the key and its metadata.
 */
export function validateValue(
  key: string,
  value: string,
  valueType: ValueType,
  meta?: KeyMetadata,
  secret?: boolean,
): ValidationFailure | null {
  const isSecret = secret ?? isSecretKey(key, meta);
  const fail = (rule: string, why: string): ValidationFailure => ({
    key,
    rule,
    message: `Key '${key}' rejects value ${shownValue(String(value), isSecret)} (rule ${rule}): ${why}.`,
  });

  if (typeof value !== 'string') return fail('type', 'expected text');
  const rules: ValidationRules = meta?.validationRules ?? {};
  const required = rules.required === true || meta?.isRequired === true;
  if (required && value.trim() === '') return fail('required', 'a value is required');

  if (meta && meta.valueType !== valueType) {
    return fail('type', `the key is declared as ${meta.valueType}, not ${String(valueType)}`);
  }
  const typeWhy = typeProblem(value, valueType);
  if (typeWhy !== null) return fail('type', typeWhy);

  if (typeof rules.minLength === 'number' || typeof rules.maxLength === 'number') {
    const length = charCount(value);
    if (typeof rules.minLength === 'number' && length < rules.minLength) {
      return fail('minLength', `must be at least ${rules.minLength} characters long`);
    }
    if (typeof rules.maxLength === 'number' && length > rules.maxLength) {
      return fail('maxLength', `must be at most ${rules.maxLength} characters long`);
    }
  }

  if (typeof rules.min === 'number' || typeof rules.max === 'number') {
    const n = parseNumber(value);
    if (n === null) return fail('type', 'expected a decimal number such as 42 or 3.5');
    if (typeof rules.min === 'number' && n < rules.min) {
      return fail('min', `must be at least ${rules.min}`);
    }
    if (typeof rules.max === 'number' && n > rules.max) {
      return fail('max', `must be at most ${rules.max}`);
    }
  }

  if (typeof rules.pattern === 'string' && rules.pattern !== '') {
    const re = compilePattern(rules.pattern);
    if (re === null)
      return fail(
        'pattern',
        'the key metadata has a pattern that is not a valid regular expression',
      );
    re.lastIndex = 0;
    if (!re.test(value)) {
      // The pattern is shown only for non-secrets: for a secret it can hint at the value's shape.
      return fail(
        'pattern',
        isSecret ? 'does not match the required format' : `must match /${rules.pattern}/`,
      );
    }
  }

  if (Array.isArray(rules.options) && rules.options.length > 0) {
    const options = rules.options.map(String);
    let allowed = options.includes(value);
    if (!allowed && valueType !== 'string') {
      const canonical = normaliseValue(value, valueType);
      allowed = options.some((o) => o === canonical || safeNormalise(o, valueType) === canonical);
    }
    if (!allowed) {
      const list = isSecret
        ? `${options.length} allowed values`
        : options.map((o) => JSON.stringify(o)).join(', ');
      return fail('options', `must be one of ${list}`);
    }
  }
  return null;
}

function safeNormalise(value: string, valueType: ValueType): string | null {
  try {
    return normaliseValue(value, valueType);
  } catch {
    return null;
  }
}

/** Parses stored text into its typed value; throws StrataError('invalid') if it does not fit the type. */
export function parseTyped(
  value: string,
  valueType: ValueType,
): string | number | boolean | unknown {
  switch (valueType) {
    case 'string':
      return value;
    case 'number': {
      const n = parseNumber(value);
      if (n === null)
        throw new StrataError('invalid', 'The value is not a decimal number such as 42 or 3.5.');
      return n;
    }
    case 'boolean': {
      const b = parseBoolean(value);
      if (b === null) {
        throw new StrataError(
          'invalid',
          'The value is not a boolean (use true/false, 1/0, yes/no or on/off).',
        );
      }
      return b;
    }
    case 'json': {
      const parsed = parseJson(value);
      if (!parsed.ok) throw new StrataError('invalid', 'The value is not valid JSON.');
      return parsed.value;
    }
    default:
      throw new StrataError(
        'invalid',
        `Unknown value type '${String(valueType)}'; expected string, number, boolean or json.`,
      );
  }
}

/**
 * Canonical text for a typed value: booleans 'true'/'false', numbers in shortest decimal form,
 * JSON re-serialised compactly, strings unchanged. Throws StrataError('invalid') on a mismatch.
 */
export function normaliseValue(value: string, valueType: ValueType): string {
  const typed = parseTyped(value, valueType);
  switch (valueType) {
    case 'string':
      return value;
    case 'number':
      // Object.is keeps '-0' from surviving as a distinct value.
      return Object.is(typed, -0) ? '0' : String(typed);
    case 'boolean':
      return typed ? 'true' : 'false';
    default:
      return JSON.stringify(typed);
  }
}

/** The value type for a new value: the key's metadata valueType wins; otherwise 'string'. */
export function inferValueType(_key: string, _value: string, meta?: KeyMetadata): ValueType {
  return meta?.valueType ?? 'string';
}
