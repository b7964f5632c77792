import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertValidKey,
  assertValidScope,
  categoryOf,
  isValidKey,
  isValidScope,
  parseLevel,
} from '../../src-main/core/keys.js';
import { MASK, maskValue } from '../../src-main/core/masking.js';
import { isSecretKey, SECRET_KEY_PATTERNS } from '../../src-main/core/secret-keys.js';
import { StrataError } from '../../src-main/core/types.js';
import type { KeyMetadata } from '../../src-main/core/types.js';

function invalidMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    expect((e as StrataError).code).toBe('invalid');
    return (e as StrataError).message;
  }
  throw new Error('expected a StrataError');
}

describe('keys', () => {
  it.each(['fax_backend', 'compliance.hipaa.enabled', '_x', 'a-b.c_d.9', 'A.B'])(
    'accepts %j',
    (k) => {
      expect(isValidKey(k)).toBe(true);
      expect(() => assertValidKey(k)).not.toThrow();
    },
  );

  it.each([
    '',
    '.a',
    'a.',
    'a..b',
    '9lives',
    '-x',
    'a b',
    'a/b',
    'ключ',
    '__proto__',
    'a.__proto__',
    'constructor.x',
    'x.prototype',
    'a'.repeat(201),
  ])('refuses %j with one clear sentence', (k) => {
    expect(isValidKey(k)).toBe(false);
    const msg = invalidMessage(() => assertValidKey(k));
    expect(msg.endsWith('.')).toBe(true);
    expect(msg.length).toBeLessThan(300);
  });

  it('accepts a key of exactly 200 characters', () => {
    expect(isValidKey('a'.repeat(200))).toBe(true);
  });

  it('takes the category from the first segment, general for flat keys', () => {
    expect(categoryOf('compliance.hipaa.enabled')).toBe('compliance');
    expect(categoryOf('fax_backend')).toBe('general');
  });

  it('valid keys match the documented grammar', () => {
    const re = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (k) => {
        if (isValidKey(k)) expect(re.test(k)).toBe(true);
      }),
    );
  });
});

describe('scopes and levels', () => {
  it('validates scopes per level', () => {
    expect(isValidScope('global', '')).toBe(true);
    expect(isValidScope('global', 'x')).toBe(false);
    expect(isValidScope('tenant', 'mercy_hospital')).toBe(true);
    expect(isValidScope('tenant', '')).toBe(false);
    expect(isValidScope('tenant', 'a/b')).toBe(false);
    expect(isValidScope('user', 'dr.who@mercy:1')).toBe(true);
    expect(isValidScope('group', 'x'.repeat(101))).toBe(false);
    expect(isValidScope('department', 'mercy/medical')).toBe(true);
    expect(isValidScope('department', 'medical')).toBe(false);
    expect(isValidScope('department', 'a/b/c')).toBe(false);
    expect(isValidScope('department', '/b')).toBe(false);
    expect(isValidScope('department', 'a/')).toBe(false);
  });

  it('assertValidScope explains the expected form', () => {
    expect(invalidMessage(() => assertValidScope('department', 'medical'))).toMatch(
      /tenant\/department/,
    );
    expect(invalidMessage(() => assertValidScope('global', 'x'))).toMatch(
      /global level takes no scope/,
    );
    expect(invalidMessage(() => assertValidScope('user', 'a b'))).toMatch(/user scope 'a b'/);
    expect(() => assertValidScope('tenant', 't1')).not.toThrow();
  });

  it('parseLevel accepts level names and lists them on error', () => {
    expect(parseLevel('Department')).toBe('department');
    expect(parseLevel(' user ')).toBe('user');
    expect(invalidMessage(() => parseLevel('planet'))).toBe(
      "Unknown level 'planet'; valid levels are global, tenant, department, group, user.",
    );
  });
});

describe('secrets and masking', () => {
  const plainMeta = { inputType: 'text' } as KeyMetadata;
  it('recognises every secret pattern case-insensitively', () => {
    for (const p of SECRET_KEY_PATTERNS) {
      expect(isSecretKey(`providers.x.${p.toUpperCase()}value`)).toBe(true);
    }
    expect(isSecretKey('smtp.auth_pass')).toBe(false);
    expect(isSecretKey('smtp.auth_pass', { inputType: 'password' } as KeyMetadata)).toBe(true);
    expect(isSecretKey('fax_backend', plainMeta)).toBe(false);
    expect(isSecretKey('oauth_client.id')).toBe(true);
  });

  it('masks values with a fixed mask and keeps null', () => {
    expect(maskValue('hunter2')).toBe(MASK);
    expect(maskValue('')).toBe(MASK);
    expect(maskValue(null)).toBeNull();
  });
});
