import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ENV_BYTES, parseEnv } from '../../src-main/core/env/index.js';
import type { EnvParseResult } from '../../src-main/core/env/index.js';

const HOSTILE_DIR = join(import.meta.dirname, '..', 'fixtures', 'env', 'hostile');

interface Expectation {
  ok: boolean;
  code?: string;
  line?: number;
  keys?: string[];
}

const manifest = JSON.parse(readFileSync(join(HOSTILE_DIR, 'manifest.json'), 'utf8')) as Record<
  string,
  Expectation
>;
const files = readdirSync(HOSTILE_DIR).filter((f) => f !== 'manifest.json');

/** What every result must satisfy, whatever the input. */
function assertWellFormed(r: EnvParseResult, lineCount: number): void {
  if (r.ok) {
    expect(Array.isArray(r.entries)).toBe(true);
    for (const e of r.entries) {
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.line).toBeLessThanOrEqual(lineCount);
      expect(typeof e.value).toBe('string');
    }
    return;
  }
  expect(r).not.toHaveProperty('entries');
  expect(r.errors.length).toBeGreaterThan(0);
  for (const e of r.errors) {
    expect(Number.isInteger(e.line)).toBe(true);
    expect(e.line).toBeGreaterThanOrEqual(0);
    expect(e.line).toBeLessThanOrEqual(lineCount);
    expect(e.message).toMatch(e.line === 0 ? /^The / : new RegExp(`^Line ${e.line}: `));
    expect(e.message).toMatch(/[.]$/);
  }
}

/** Upper bound on line numbers: every LF, CRLF or lone CR starts a line. */
function countLines(buf: Uint8Array): number {
  let n = 1;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) n++;
    else if (buf[i] === 0x0d) {
      n++;
      if (buf[i + 1] === 0x0a) i++;
    }
  }
  return n;
}

describe('hostile corpus', () => {
  it('has at least 50 files, each described by the manifest', () => {
    expect(files.length).toBeGreaterThanOrEqual(50);
    expect(files.filter((f) => !(f in manifest))).toEqual([]);
    expect(Object.keys(manifest).filter((f) => !files.includes(f))).toEqual([]);
  });

  it.each(files)('%s', (file) => {
    const buf = readFileSync(join(HOSTILE_DIR, file));
    const want = manifest[file]!;
    const r = parseEnv(buf);
    assertWellFormed(r, countLines(buf));
    expect(r.ok).toBe(want.ok);
    if (!r.ok) {
      if (want.code !== undefined) expect(r.errors[0]!.code).toBe(want.code);
      if (want.line !== undefined) expect(r.errors[0]!.line).toBe(want.line);
    } else if (want.keys !== undefined) {
      expect(r.entries.map((e) => e.key)).toEqual(want.keys);
    }
  });

  it('refuses a generated file just over 1 MiB before reading it', () => {
    const line = 'KEY=some value\n';
    const text = line.repeat(Math.ceil((DEFAULT_MAX_ENV_BYTES + 1) / line.length));
    const r = parseEnv(new TextEncoder().encode(text));
    expect(r).toMatchObject({ ok: false, errors: [{ line: 0, code: 'too_large' }] });
  });

  it('parses a generated 10,000-line file completely', () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const kind = i % 5;
      if (kind === 0) lines.push(`KEY_${i}=plain_${i}`);
      else if (kind === 1) lines.push(`export KEY_${i}="quoted # ${i}\\n"`);
      else if (kind === 2) lines.push(`KEY_${i}='single ${i}' # note`);
      else if (kind === 3) lines.push(`# comment ${i}`);
      else lines.push(`KEY_${i}: spaced value ${i}   `);
    }
    const r = parseEnv(new TextEncoder().encode(lines.join('\r\n')));
    if (!r.ok) throw new Error(JSON.stringify(r.errors.slice(0, 3)));
    expect(r.entries).toHaveLength(8000);
    expect(r.entries.at(-1)).toEqual({
      line: 10_000,
      key: 'KEY_9999',
      value: 'spaced value 9999',
      quote: null,
    });
  });

  it('parses pathological inputs that would make a backtracking regex explode', () => {
    // Long runs of the characters dotenv's regex backtracks over, one line and many lines.
    const inputs = [
      `A="${'\\"'.repeat(50_000)}`,
      `A='${"\\'".repeat(50_000)}`,
      `A=${' '.repeat(200_000)}x`,
      `${'export '.repeat(20_000)}A=1`,
      `A="${'\\\\'.repeat(50_000)}`,
      '\n'.repeat(300_000),
      `A=${'#'.repeat(200_000)}`,
      'A="\n'.repeat(100_000),
    ];
    for (const text of inputs) {
      const buf = new TextEncoder().encode(text);
      assertWellFormed(parseEnv(buf), countLines(buf));
    }
  });
});

describe('random input never crashes', () => {
  it('property: random bytes give ok or line-numbered errors, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (buf) => {
        assertWellFormed(parseEnv(buf), countLines(buf));
      }),
      { numRuns: 3000 },
    );
  });

  it('property: random near-valid text gives ok or line-numbered errors', () => {
    const chunk = fc.oneof(
      fc.constantFrom(
        'A=',
        'export ',
        'B: ',
        '"',
        "'",
        '`',
        '#',
        ' ',
        '\\',
        '\n',
        '\r',
        '\r\n',
        '=',
        ':',
        '__proto__=',
        'constructor=',
        '\u2028',
        '\u0000',
        '\u00e9',
        '\ud83d\ude00',
        '\ufeff',
      ),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 40 }), (chunks) => {
        const buf = new TextEncoder().encode(chunks.join(''));
        const r = parseEnv(buf);
        assertWellFormed(r, countLines(buf));
        if (r.ok) {
          for (const e of r.entries) expect(e.key).toMatch(/^[A-Za-z_][A-Za-z0-9_.-]*$/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('property: random UTF-16 encodings of text are refused', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-ascii', minLength: 2, maxLength: 60 }),
        fc.boolean(),
        fc.boolean(),
        (text, le, bom) => {
          const units: number[] = bom ? (le ? [0xff, 0xfe] : [0xfe, 0xff]) : [];
          for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            if (le) units.push(c & 0xff, c >> 8);
            else units.push(c >> 8, c & 0xff);
          }
          const r = parseEnv(new Uint8Array(units));
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
