import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ENV_BYTES,
  MAX_ENV_ERRORS,
  envEntriesToMap,
  parseEnv,
} from '../../src-main/core/env/index.js';
import type { EnvParseResult } from '../../src-main/core/env/index.js';

const enc = new TextEncoder();
const bytes = (text: string): Uint8Array => enc.encode(text);
const VALID_DIR = join(import.meta.dirname, '..', 'fixtures', 'env', 'valid');

function ok(text: string | Uint8Array): Extract<EnvParseResult, { ok: true }> {
  const r = parseEnv(typeof text === 'string' ? bytes(text) : text);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.errors)}`);
  return r;
}

function refused(text: string | Uint8Array): Extract<EnvParseResult, { ok: false }> {
  const r = parseEnv(typeof text === 'string' ? bytes(text) : text);
  if (r.ok) throw new Error(`expected refusal, got ${JSON.stringify(r.entries)}`);
  return r;
}

function values(text: string): Record<string, string> {
  return Object.fromEntries(envEntriesToMap(ok(text).entries));
}

/** dotenv's reading as a Map, so key order and prototype keys cannot skew the comparison. */
function dotenvMap(input: string | Uint8Array): Map<string, string> {
  const parsed = dotenv.parse(Buffer.from(input));
  return new Map(Object.entries(parsed));
}

function sorted(map: ReadonlyMap<string, string>): Array<[string, string]> {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('parseEnv: supported syntax', () => {
  it('reads KEY=value, export, KEY: value, comments and empty values', () => {
    expect(
      values(
        '# comment\nA=1\nexport B=two\nC: three\nD=\nE=  spaced out  \n  # indented\nF=x # trailing\n',
      ),
    ).toEqual({ A: '1', B: 'two', C: 'three', D: '', E: 'spaced out', F: 'x' });
  });

  it('reads the three kinds of quote, keeping # and spaces inside them', () => {
    expect(values(`A='a # b'\nB="c # d"\nC=\`e # f\`\nD="  pad  "\nE=''\n`)).toEqual({
      A: 'a # b',
      B: 'c # d',
      C: 'e # f',
      D: '  pad  ',
      E: '',
    });
  });

  it('reads multi-line quoted values as one value', () => {
    const r = ok('KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1\n');
    expect(r.entries).toEqual([
      { line: 1, key: 'KEY', value: '-----BEGIN-----\nabc\n-----END-----', quote: '"' },
      { line: 4, key: 'NEXT', value: '1', quote: null },
    ]);
  });

  it('decodes \\n \\r \\t \\" \\\\ inside double quotes only', () => {
    expect(values('A="1\\n2\\r3\\t4\\"5\\\\6\\q"\nB=\'1\\n2\'\nC=1\\n2\n')).toEqual({
      A: '1\n2\r3\t4"5\\6\\q',
      B: '1\\n2',
      C: '1\\n2',
    });
  });

  it('handles CRLF and CR line ends and a UTF-8 BOM, counting lines once per break', () => {
    const r = ok(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('A=1\r\nB="x\r\ny"\rC=3')]));
    expect(r.entries).toEqual([
      { line: 1, key: 'A', value: '1', quote: null },
      { line: 2, key: 'B', value: 'x\ny', quote: '"' },
      { line: 4, key: 'C', value: '3', quote: null },
    ]);
  });

  it('keeps a smuggled assignment inside quotes as part of one value', () => {
    expect(values('A="x\nB=y"\n')).toEqual({ A: 'x\nB=y' });
    expect(values('A="x\\nB=y"\n')).toEqual({ A: 'x\nB=y' });
    expect(values("A='x\nB=y'\nC=1\n")).toEqual({ A: 'x\nB=y', C: '1' });
  });

  it('reports duplicates with every line; the last one wins like dotenv', () => {
    const r = ok('A=1\nB=2\nA=3\nexport A=4\n');
    expect(envEntriesToMap(r.entries)).toEqual(
      new Map([
        ['B', '2'],
        ['A', '4'],
      ]),
    );
    expect(r.entries.map((e) => e.line)).toEqual([2, 4]);
    expect(r.duplicates).toEqual([{ key: 'A', lines: [1, 3, 4] }]);
    expect(r.warnings).toEqual([
      expect.objectContaining({
        line: 4,
        code: 'duplicate',
        message: expect.stringContaining('A'),
      }),
    ]);
  });

  it('is prototype-pollution safe for keys named like Object members', () => {
    const r = ok('hasOwnProperty=1\ntoString=2\n');
    expect(envEntriesToMap(r.entries).get('toString')).toBe('2');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseEnv: refusals', () => {
  const cases: Array<[string, string | Uint8Array, number, string]> = [
    ['__proto__', 'A=1\n__proto__=x\n', 2, 'reserved_key'],
    ['constructor', 'constructor=x\n', 1, 'reserved_key'],
    ['prototype', 'export prototype=x\n', 1, 'reserved_key'],
    ['leading digit', '9A=1\n', 1, 'invalid_key'],
    ['space in key', 'MY KEY=1\n', 1, 'invalid_key'],
    ['unicode key', 'KÉY=1\n', 1, 'invalid_key'],
    ['unterminated double', 'A=1\nB="x\n', 2, 'unterminated_quote'],
    ['unterminated single', "A='x\n", 1, 'unterminated_quote'],
    ['unterminated backtick', 'A=`x\n', 1, 'unterminated_quote'],
    ['garbage line', 'A=1\n\nnot an assignment\n', 3, 'invalid_key'],
    ['lone =', '=\n', 1, 'syntax'],
    ['text after quote', 'A="x" y\n', 1, 'syntax'],
    ['NUL byte', new Uint8Array([0x41, 0x3d, 0x0a, 0x42, 0x3d, 0x00]), 2, 'binary'],
    ['invalid UTF-8', new Uint8Array([0x41, 0x3d, 0xc3, 0x28]), 1, 'encoding'],
    ['UTF-16LE BOM', new Uint8Array([0xff, 0xfe, 0x41, 0, 0x3d, 0, 0x31, 0]), 0, 'encoding'],
    ['UTF-16LE without BOM', new Uint8Array([0x41, 0, 0x3d, 0, 0x31, 0]), 0, 'encoding'],
  ];
  it.each(cases)(
    'refuses %s, naming the line and returning no entries',
    (_name, input, line, code) => {
      const r = refused(input);
      expect(r).not.toHaveProperty('entries');
      expect(r.errors[0]).toMatchObject({ line, code });
      expect(r.errors[0]!.message).toMatch(
        line === 0 ? /^The file / : new RegExp(`^Line ${line}: `),
      );
    },
  );

  it('refuses files over 1 MiB by default and honours maxBytes', () => {
    const big = new Uint8Array(DEFAULT_MAX_ENV_BYTES + 1).fill(0x23);
    expect(refused(big).errors).toEqual([expect.objectContaining({ line: 0, code: 'too_large' })]);
    expect(parseEnv(new Uint8Array(DEFAULT_MAX_ENV_BYTES).fill(0x23)).ok).toBe(true);
    expect(parseEnv(bytes('A=1\n'), { maxBytes: 3 })).toMatchObject({ ok: false });
    expect(parseEnv(bytes('A=1\n'), { maxBytes: -1 })).toMatchObject({ ok: false });
  });

  it('refuses input that is not bytes without throwing', () => {
    expect(parseEnv('A=1' as unknown as Uint8Array)).toMatchObject({
      ok: false,
      errors: [{ line: 0, code: 'bad_input' }],
    });
  });

  it('reports several problems at once, up to a cap', () => {
    const r = refused('A=1\nbad one\nB=2\nbad two\n');
    expect(r.errors.map((e) => e.line)).toEqual([2, 4]);
    const many = refused(Array.from({ length: 100 }, (_, i) => `bad ${i}`).join('\n'));
    expect(many.errors).toHaveLength(MAX_ENV_ERRORS);
  });

  it('never puts a value into an error message', () => {
    const secret = 'sk_live_DoNotLeakThis123';
    for (const text of [
      `A="${secret}`,
      `A=${secret}#x`,
      `A='${secret}' junk`,
      `${secret}`,
      `A=1\n${secret} oops\n`,
      `A='${secret}\\'`,
    ]) {
      const r = refused(text);
      for (const e of r.errors) expect(e.message).not.toContain(secret);
    }
  });
});

/**
 * Every documented difference from dotenv 17 (see the table at the top of parse-env.ts): what
 * dotenv reads, and that Strata refuses (or decodes and warns) instead.
 */
describe('parseEnv: documented differences from dotenv', () => {
  const table: Array<{ input: string; dotenv: Record<string, string>; strata: string }> = [
    { input: 'not an assignment\nA=1\n', dotenv: { A: '1' }, strata: 'refuse' },
    { input: '1A=x\n', dotenv: { '1A': 'x' }, strata: 'refuse' },
    { input: '__proto__=x\nA=1\n', dotenv: { A: '1' }, strata: 'refuse' },
    { input: 'A="abc\n', dotenv: { A: '"abc' }, strata: 'refuse' },
    { input: 'A="x" y\n', dotenv: { A: '"x" y' }, strata: 'refuse' },
    { input: 'A=x#y\n', dotenv: { A: 'x' }, strata: 'refuse' },
    { input: 'COLOR=#fff\n', dotenv: { COLOR: '' }, strata: 'refuse' },
    { input: 'A=\n"x"\n', dotenv: { A: 'x' }, strata: 'refuse' },
    { input: 'A:\nB=1\n', dotenv: { A: 'B=1' }, strata: 'refuse' },
    { input: 'A:b\nC :d\n', dotenv: {}, strata: 'refuse' },
    { input: "A='x\\' # '\n", dotenv: { A: "x\\' # " }, strata: 'refuse' },
    { input: 'A="x\\\\"\nB="y"\n', dotenv: { A: 'x\\\\', B: 'y' }, strata: 'refuse' },
    { input: 'A=x #c\u2028B=2\n', dotenv: { A: 'x', B: '2' }, strata: 'refuse' },
    { input: 'A=1\u0000\n', dotenv: { A: '1\u0000' }, strata: 'refuse' },
    { input: 'A="say \\"hi\\""\n', dotenv: { A: 'say \\"hi\\"' }, strata: 'A=say "hi"' },
    { input: 'A="a\\tb"\n', dotenv: { A: 'a\\tb' }, strata: 'A=a\tb' },
    { input: 'A="a\\\\b"\n', dotenv: { A: 'a\\\\b' }, strata: 'A=a\\b' },
  ];
  it.each(table)('$input', ({ input, dotenv: expected, strata }) => {
    expect(Object.fromEntries(dotenvMap(input))).toEqual(expected);
    const r = parseEnv(bytes(input));
    if (strata === 'refuse') {
      expect(r.ok).toBe(false);
    } else {
      if (!r.ok) throw new Error('expected ok');
      const eq = strata.indexOf('=');
      expect(envEntriesToMap(r.entries)).toEqual(
        new Map([[strata.slice(0, eq), strata.slice(eq + 1)]]),
      );
      expect(r.warnings.map((w) => w.code)).toContain('dotenv_escape');
    }
  });

  it('dotenv also silently reads invalid UTF-8 and UTF-16, which Strata refuses', () => {
    const latin1 = new Uint8Array([...bytes('CITY=Bogot'), 0xe1]);
    expect(dotenvMap(latin1).get('CITY')).toBe('Bogot\ufffd');
    expect(parseEnv(latin1).ok).toBe(false);
  });
});

describe('parseEnv agrees with dotenv', () => {
  const files = readdirSync(VALID_DIR).filter((f) => f.endsWith('.env'));
  it('has a valid corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });
  it.each(files)('valid/%s: accepted and read exactly as dotenv reads it', (file) => {
    const buf = readFileSync(join(VALID_DIR, file));
    const r = parseEnv(buf);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.warnings.filter((w) => w.code === 'dotenv_escape')).toEqual([]);
    expect(sorted(envEntriesToMap(r.entries))).toEqual(sorted(dotenvMap(buf)));
  });

  it('reads the faxbot legacy file as expected', () => {
    const r = parseEnv(readFileSync(join(VALID_DIR, 'faxbot-legacy.env')));
    if (!r.ok) throw new Error('expected ok');
    const map = envEntriesToMap(r.entries);
    expect(map.get('PHAXIO_API_SECRET')).toBe('s3cr3t with spaces');
    expect(map.get('FAX_TIMEOUT')).toBe('30');
    expect(map.get('PUBLIC_URL')).toBe('https://fax.example.org/');
  });

  // Near-valid files built from the characters that matter to both grammars. Whenever Strata
  // accepts one (without a dotenv_escape warning), dotenv must read the very same map.
  const piece = fc.constantFrom(
    'A',
    'b',
    'KEY',
    'x.y',
    'k-1',
    '_',
    '9',
    'export ',
    'export',
    '=',
    ' = ',
    ':',
    ': ',
    ' :',
    '"',
    "'",
    '`',
    '#',
    ' #',
    ' ',
    '\t',
    '\\',
    '\\n',
    '\\"',
    '\\\\',
    '\n',
    '\r\n',
    '\r',
    '$',
    '\u00a0',
    '\ufeff',
    'é',
    '=1',
    '="',
    "='",
    '=`',
  );
  const line = fc
    .tuple(
      fc.constantFrom('', ' ', 'export ', '#', '\t'),
      fc.constantFrom('A', 'B', 'C_D', 'e.f', 'G-h'),
      fc.constantFrom('=', ' = ', ': ', '=', '='),
      fc.array(piece, { maxLength: 8 }),
    )
    .map(([lead, key, sep, rest]) => `${lead}${key}${sep}${rest.join('')}`);
  const file = fc.array(
    fc.oneof(
      line,
      fc.array(piece, { maxLength: 6 }).map((p) => p.join('')),
    ),
    {
      maxLength: 8,
    },
  );

  it('property: accepted near-valid files read the same as dotenv', () => {
    let accepted = 0;
    fc.assert(
      fc.property(file, (lines) => {
        const text = lines.join('\n');
        const r = parseEnv(bytes(text));
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          return;
        }
        if (r.warnings.some((w) => w.code === 'dotenv_escape')) return;
        accepted++;
        expect(sorted(envEntriesToMap(r.entries))).toEqual(sorted(dotenvMap(text)));
      }),
      { numRuns: 4000 },
    );
    // The generator must actually exercise accepted files, not only refusals.
    expect(accepted).toBeGreaterThan(400);
  });
});
