import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import { StrataError } from '../../src-main/core/types.js';
import type { KeyMetadata, ValidationRules, ValueType } from '../../src-main/core/types.js';
import {
  inferValueType,
  normaliseValue,
  parseTyped,
  validateValue,
} from '../../src-main/core/validation.js';

function meta(key: string, rules: ValidationRules, extra: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    key,
    category: 'smtp',
    displayName: key,
    description: null,
    inputType: 'text',
    valueType: 'string',
    validationRules: rules,
    defaultValue: null,
    isRequired: false,
    sortOrder: 0,
    groupName: null,
    helpText: null,
    ...extra,
  };
}

const port = meta('smtp.port', { required: true, min: 1, max: 65535 }, { valueType: 'number' });
const host = meta('smtp.host', { pattern: '^[a-zA-Z0-9.-]+$', minLength: 1, maxLength: 20 });
const mode = meta('fax.mode', { options: ['fast', 'slow'] });
const secure = meta('smtp.secure', { options: ['true', 'false'] }, { valueType: 'boolean' });

describe('validateValue refuses each rule, naming key, rule and value', () => {
  const cases: [string, string, ValueType, KeyMetadata | undefined, string][] = [
    ['smtp.port', '', 'number', port, 'required'],
    ['smtp.port', 'abc', 'number', port, 'type'],
    ['smtp.port', '0', 'number', port, 'min'],
    ['smtp.port', '70000', 'number', port, 'max'],
    ['smtp.host', '', 'string', host, 'minLength'],
    ['smtp.host', 'a'.repeat(21), 'string', host, 'maxLength'],
    ['smtp.host', 'bad host!', 'string', host, 'pattern'],
    ['fax.mode', 'medium', 'string', mode, 'options'],
    ['smtp.secure', 'maybe', 'boolean', secure, 'type'],
    ['flag', 'nope', 'boolean', undefined, 'type'],
    ['doc', '{"a":', 'json', undefined, 'type'],
    ['smtp.port', '25', 'string', port, 'type'],
  ];
  it.each(cases)('%s = %j (%s) breaks %s', (key, value, valueType, m, rule) => {
    const failure = validateValue(key, value, valueType, m);
    expect(failure).not.toBeNull();
    expect(failure!.rule).toBe(rule);
    expect(failure!.key).toBe(key);
    expect(failure!.message).toContain(`'${key}'`);
    expect(failure!.message).toContain(`rule ${rule}`);
    expect(failure!.message).toContain(
      JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value),
    );
    expect(failure!.message.trim().endsWith('.')).toBe(true);
    expect(failure!.message).not.toContain('\n');
  });

  it('accepts good values', () => {
    expect(validateValue('smtp.port', '587', 'number', port)).toBeNull();
    expect(validateValue('smtp.host', 'smtp.gmail.com', 'string', host)).toBeNull();
    expect(validateValue('fax.mode', 'fast', 'string', mode)).toBeNull();
    expect(validateValue('smtp.secure', 'YES', 'boolean', secure)).toBeNull();
    expect(validateValue('anything', '', 'string')).toBeNull();
    expect(validateValue('doc', '{"a":[1,2]}', 'json')).toBeNull();
  });

  it('masks secret values in messages (by key pattern, metadata or flag)', () => {
    const pass = meta('smtp.auth_pass', { minLength: 8 }, { inputType: 'password' });
    const byMeta = validateValue('smtp.auth_pass', 'hunter2', 'string', pass);
    expect(byMeta?.rule).toBe('minLength');
    expect(byMeta?.message).toContain(MASK);
    expect(byMeta?.message).not.toContain('hunter2');

    const byPattern = validateValue('providers.phaxio.api_key', 'sk-123', 'number');
    expect(byPattern?.message).toContain(MASK);
    expect(byPattern?.message).not.toContain('sk-123');

    const pat = meta('x.token', { pattern: '^abc' });
    const byRegex = validateValue('x.token', 'zzz-secret-zzz', 'string', pat);
    expect(byRegex?.message).not.toContain('zzz');
    expect(byRegex?.message).not.toContain('^abc');

    const flagged = validateValue('plain', 'shh', 'number', undefined, true);
    expect(flagged?.message).not.toContain('shh');
    expect(validateValue('x.password', 'shh', 'number', undefined, false)?.message).toContain(
      '"shh"',
    );
  });

  it('reports a broken metadata pattern instead of throwing', () => {
    const broken = meta('k', { pattern: '([' });
    expect(validateValue('k', 'v', 'string', broken)?.rule).toBe('pattern');
  });
});

describe('normaliseValue and parseTyped', () => {
  it.each([
    ['TRUE', 'true'],
    ['yes', 'true'],
    ['On', 'true'],
    ['1', 'true'],
    ['false', 'false'],
    ['no', 'false'],
    ['OFF', 'false'],
    ['0', 'false'],
  ])('boolean %j -> %j', (input, out) => {
    expect(normaliseValue(input, 'boolean')).toBe(out);
  });

  it.each([
    ['007', '7'],
    ['1e3', '1000'],
    ['-0', '0'],
    [' 3.50 ', '3.5'],
    ['+2', '2'],
  ])('number %j -> %j', (input, out) => {
    expect(normaliseValue(input, 'number')).toBe(out);
  });

  it('re-serialises JSON compactly and leaves strings alone', () => {
    expect(normaliseValue('{ "a" : [1, 2] }', 'json')).toBe('{"a":[1,2]}');
    expect(normaliseValue('  spaced  ', 'string')).toBe('  spaced  ');
  });

  it.each([
    ['abc', 'number'],
    ['0x10', 'number'],
    ['Infinity', 'number'],
    ['1e999', 'number'],
    ['', 'number'],
    ['maybe', 'boolean'],
    ['{', 'json'],
  ] as [string, ValueType][])('refuses %j as %s with a StrataError', (input, type) => {
    expect(() => normaliseValue(input, type)).toThrow(StrataError);
    let caught: unknown = null;
    try {
      parseTyped(input, type);
    } catch (e) {
      caught = e;
    }
    expect((caught as StrataError).code).toBe('invalid');
    // parseTyped does not know whether the value is a secret, so it never echoes it.
    if (input.trim() !== '') expect((caught as StrataError).message).not.toContain(input.trim());
  });

  it('parses typed values', () => {
    expect(parseTyped('42', 'number')).toBe(42);
    expect(parseTyped('off', 'boolean')).toBe(false);
    expect(parseTyped('[1]', 'json')).toEqual([1]);
    expect(parseTyped('x', 'string')).toBe('x');
  });

  it('normalising is idempotent and keeps the typed value', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const once = normaliseValue(String(n), 'number');
        expect(normaliseValue(once, 'number')).toBe(once);
        expect(parseTyped(once, 'number')).toBe(Object.is(n, -0) ? 0 : n);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = normaliseValue(JSON.stringify(v, null, 2), 'json');
        expect(normaliseValue(once, 'json')).toBe(once);
      }),
    );
  });
});

describe('inferValueType', () => {
  it('uses the metadata valueType, else string', () => {
    expect(inferValueType('smtp.port', '25', port)).toBe('number');
    expect(inferValueType('smtp.port', '25')).toBe('string');
  });
});
