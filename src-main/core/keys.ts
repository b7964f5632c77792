/**
 * Key, scope and level syntax. Keys are dotted names whose first segment is the category
 * (`compliance.hipaa.enabled`); flat legacy keys (`fax_backend`) belong to category 'general'.
 */
import { LEVELS, StrataError } from './types.js';
import type { Level } from './types.js';

/** Longest key the config tables accept (VARCHAR(200)). */
export const MAX_KEY_LENGTH = 200;

/** Longest single scope id (tenant, department, group or user id). */
export const MAX_SCOPE_LENGTH = 100;

/** Category of keys that have no dot. */
export const GENERAL_CATEGORY = 'general';

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
const SCOPE_PART_RE = /^[A-Za-z0-9_.:@-]{1,100}$/;

// Segments that would reach Object.prototype if a key ever became an object path (JSON
// export, nested display trees); refused everywhere so no later layer has to care.
const RESERVED_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Quotes user input for an error message without letting a huge value flood it. */
function quote(text: string, max = 80): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return `'${shown}'`;
}

/** True when `key` is a well-formed configuration key. */
export function isValidKey(key: string): boolean {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return false;
  if (!KEY_RE.test(key)) return false;
  for (const segment of key.split('.')) {
    if (RESERVED_SEGMENTS.has(segment)) return false;
  }
  return true;
}

/** Throws StrataError('invalid') with a one-sentence reason unless `key` is well formed. */
export function assertValidKey(key: string): void {
  if (isValidKey(key)) return;
  if (typeof key !== 'string' || key.length === 0) {
    throw new StrataError('invalid', 'A configuration key must not be empty.');
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new StrataError(
      'invalid',
      `Key ${quote(key)} is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}.`,
    );
  }
  const reserved = key.split('.').find((s) => RESERVED_SEGMENTS.has(s));
  if (reserved !== undefined) {
    throw new StrataError('invalid', `Key ${quote(key)} uses the reserved segment '${reserved}'.`);
  }
  throw new StrataError(
    'invalid',
    `Key ${quote(key)} is not valid: use dot-separated segments of letters, digits, '_' and '-', starting with a letter or '_' (e.g. 'compliance.hipaa.enabled').`,
  );
}

/** The category of a key: its first dotted segment, or 'general' for a flat key. */
export function categoryOf(key: string): string {
  const dot = key.indexOf('.');
  return dot < 0 ? GENERAL_CATEGORY : key.slice(0, dot);
}

/** True when `scope` is a well-formed scope id for `level` ('' for global, `tenant/dept` for a department). */
export function isValidScope(level: Level, scope: string): boolean {
  if (typeof scope !== 'string') return false;
  switch (level) {
    case 'global':
      return scope === '';
    case 'department': {
      const slash = scope.indexOf('/');
      if (slash < 0) return false;
      return (
        SCOPE_PART_RE.test(scope.slice(0, slash)) && SCOPE_PART_RE.test(scope.slice(slash + 1))
      );
    }
    case 'tenant':
    case 'group':
    case 'user':
      return SCOPE_PART_RE.test(scope);
    default:
      return false;
  }
}

/** Throws StrataError('invalid') with a one-sentence reason unless `scope` suits `level`. */
export function assertValidScope(level: Level, scope: string): void {
  if (!(LEVELS as readonly string[]).includes(level)) parseLevel(String(level));
  if (isValidScope(level, scope)) return;
  const idRule = `1 to ${MAX_SCOPE_LENGTH} characters of letters, digits, '_', '.', ':', '@' and '-'`;
  if (level === 'global') {
    throw new StrataError(
      'invalid',
      `The global level takes no scope, but ${quote(String(scope))} was given.`,
    );
  }
  if (level === 'department') {
    throw new StrataError(
      'invalid',
      `Department scope ${quote(String(scope))} is not valid: expected 'tenant/department', each part ${idRule}.`,
    );
  }
  throw new StrataError(
    'invalid',
    `The ${level} scope ${quote(String(scope))} is not valid: expected ${idRule}.`,
  );
}

/** Parses a level name (case-insensitive); throws StrataError('invalid') listing the valid levels. */
export function parseLevel(s: string): Level {
  const wanted = typeof s === 'string' ? s.trim().toLowerCase() : '';
  for (const level of LEVELS) {
    if (level === wanted) return level;
  }
  throw new StrataError(
    'invalid',
    `Unknown level ${quote(String(s), 40)}; valid levels are ${LEVELS.join(', ')}.`,
  );
}
