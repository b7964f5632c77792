import dotenv from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canSerializeEnvValue,
  envEntriesToMap,
  formatEnvValue,
  parseEnv,
  serializeEnv,
} from '../../src-main/core/env/index.js';
import { StrataError } from '../../src-main/core/types.js';

function strataRead(text: string): Map<string, string> {
  const r = parseEnv(new TextEncoder().encode(text));
  if (!r.ok) throw new Error(`Strata refused its own output: ${JSON.stringify(r.errors)}`);
  expect(r.warnings).toEqual([]);
  return envEntriesToMap(r.entries);
}

function dotenvRead(text: string): Map<string, string> {
  return new Map(Object.entries(dotenv.parse(text)));
}

/** Serialise, then check both readers give back exactly the input map. */
function roundTrip(map: Map<string, string>): string {
  const text = serializeEnv(map);
  expect(strataRead(text)).toEqual(map);
  expect(dotenvRead(text)).toEqual(map);
  return text;
}

describe('serializeEnv', () => {
  it('chooses quoting per value', () => {
    const text = roundTrip(
      new Map([
        ['PLAIN', 'phaxio'],
        ['EMPTY', ''],
        ['SPACES', '  padded value  '],
        ['HASH', 'abc#def'],
        ['DOLLAR', '$HOME/x'],
        ['SINGLE_INSIDE', "it's"],
        ['DOUBLE_INSIDE', 'say "hi"'],
        ['NEWLINE', 'line1\nline2'],
        ['CR', 'a\r\nb'],
        ['BACKSLASH', 'C:\\dir\\'],
        ['MIXED', 'it\'s "both"\nwith newline'],
        ['ALL_QUOTES', 'a\'b"c`d \\ e'],
        ['UNICODE', 'Bogotá 🚀'],
        ['TAB', 'a\tb'],
      ]),
    );
    expect(text).toBe(
      [
        'PLAIN=phaxio',
        'EMPTY=',
        "SPACES='  padded value  '",
        "HASH='abc#def'",
        "DOLLAR='$HOME/x'",
        'SINGLE_INSIDE="it\'s"',
        'DOUBLE_INSIDE=\'say "hi"\'',
        'NEWLINE="line1\\nline2"',
        'CR="a\\r\\nb"',
        'BACKSLASH=C:\\dir\\',
        'MIXED=`it\'s "both"\nwith newline`',
        'ALL_QUOTES=a\'b"c`d \\ e',
        "UNICODE='Bogotá 🚀'",
        "TAB='a\tb'",
        '',
      ].join('\n'),
    );
  });

  it('accepts an array of pairs and writes a header', () => {
    const text = serializeEnv(
      [
        ['B', '2'],
        ['A', '1'],
      ],
      { header: ['Exported by Strata', 'second\nthird'] },
    );
    expect(text).toBe('# Exported by Strata\n# second\n# third\nB=2\nA=1\n');
    expect(strataRead(text)).toEqual(
      new Map([
        ['B', '2'],
        ['A', '1'],
      ]),
    );
  });

  it('refuses invalid keys, repeated keys and unwritable values, without echoing the value', () => {
    const secret = 'tok_very_secret_value';
    const attempts: Array<Array<[string, string]>> = [
      [['1BAD', 'x']],
      [['__proto__', 'x']],
      [['MY KEY', 'x']],
      [
        ['A', '1'],
        ['A', '2'],
      ],
      [['A', `${secret}\u0000`]],
      [['A', `'${secret}"\`\n`]],
      [['A', `${secret}\u2028`]],
      [['A', `${secret}\ud800`]],
    ];
    for (const pairs of attempts) {
      let caught: unknown;
      try {
        serializeEnv(pairs);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(StrataError);
      expect((caught as StrataError).code).toBe('invalid');
      expect((caught as StrataError).message).not.toContain(secret);
    }
  });

  it('knows which values it cannot write', () => {
    expect(canSerializeEnvValue('plain')).toBe(true);
    expect(canSerializeEnvValue('\'"`\n')).toBe(false);
    expect(canSerializeEnvValue(' \'"` ')).toBe(false);
    expect(canSerializeEnvValue('"\'`')).toBe(false);
    expect(canSerializeEnvValue('x\'"`#')).toBe(false);
    expect(canSerializeEnvValue('x\'"`y')).toBe(true);
    expect(formatEnvValue('\u0007')).toBeNull();
  });

  // Characters that stress every quoting rule, plus arbitrary Unicode.
  const tricky = fc.constantFrom(
    ' ',
    '\t',
    '\n',
    '\r',
    '\r\n',
    '"',
    "'",
    '`',
    '#',
    ' #',
    '\\',
    '\\n',
    '$',
    '${X}',
    '=',
    ':',
    'a',
    'Z',
    '0',
    'é',
    '\u00a0',
    '\ufeff',
    '🚀',
  );
  const value = fc.oneof(
    fc.array(tricky, { maxLength: 12 }).map((p) => p.join('')),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ maxLength: 20 }),
  );
  const key = fc
    .tuple(
      fc.constantFrom(...'ABCXYZabcxyz_'),
      fc.array(fc.constantFrom(...'AZaz09_.-'), { maxLength: 12 }),
    )
    .map(([first, rest]) => first + rest.join(''));
  const envMap = fc.uniqueArray(fc.tuple(key, value), {
    selector: ([k]) => k,
    maxLength: 12,
  });

  it('property: what it writes, both parseEnv and dotenv read back identically', () => {
    let written = 0;
    fc.assert(
      fc.property(envMap, (pairs) => {
        const map = new Map(
          pairs.filter(([k]) => !['__proto__', 'constructor', 'prototype'].includes(k)),
        );
        if (![...map.values()].every(canSerializeEnvValue)) {
          expect(() => serializeEnv(map)).toThrow(StrataError);
          return;
        }
        written++;
        roundTrip(map);
      }),
      { numRuns: 3000 },
    );
    expect(written).toBeGreaterThan(1500);
  });

  it('property: a value is unwritable only when no form can carry it', () => {
    // Characters no .env file may hold: C0 controls but tab/LF/CR, DEL and C1, U+2028/9, U+FFFE/F.
    const controls = {
      test: (v: string) =>
        [...v].some((ch) => {
          const c = ch.charCodeAt(0);
          return (
            (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) ||
            (c >= 0x7f && c <= 0x9f) ||
            c === 0x2028 ||
            c === 0x2029 ||
            c === 0xfffe ||
            c === 0xffff
          );
        }),
    };
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    fc.assert(
      fc.property(value, (v) => {
        const multiline = /[\r\n]/.test(v);
        const trailingBackslash = v.endsWith('\\');
        const forms = [
          !multiline && !v.includes("'") && !trailingBackslash, // '...'
          !v.includes('"') && !v.includes('\\'), // "..." with \n \r escapes
          !v.includes('`') && !v.includes('\r') && !trailingBackslash, // `...`
          !v.includes('"') && !trailingBackslash && !/\\[nrt\\\r]/.test(v), // "..." raw
          !multiline && !v.includes('#') && v.trim() === v && !/^['"`]/.test(v), // unquoted
        ];
        const writable = !controls.test(v) && !loneSurrogate.test(v) && forms.some(Boolean);
        expect(canSerializeEnvValue(v)).toBe(writable);
      }),
      { numRuns: 5000 },
    );
  });
});
