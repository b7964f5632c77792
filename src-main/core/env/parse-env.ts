/**
 * A strict, linear-time reader for legacy `.env` files. The caller passes raw bytes so that
 * encoding problems (UTF-16, invalid UTF-8, binary content) are seen here rather than papered
 * over by a lenient decoder.
 *
 * Grammar (after a UTF-8 BOM is dropped and CRLF / CR line ends become LF):
 *   line       := blank | comment | assignment
 *   comment    := ws* '#' anything
 *   assignment := ws* ['export' ws+] KEY ws* '=' ws* value
 *               | ws* ['export' ws+] KEY ':' ws+ value
 *   value      := (empty) [ws+ comment]
 *               | unquoted [ws+ comment]      -- trimmed; a '#' must have whitespace before it
 *               | quoted ws* [comment]        -- '...', "..." or `...`, may span lines
 *   KEY        := /^[A-Za-z_][A-Za-z0-9_.-]*$/, not __proto__, constructor or prototype
 * Inside double quotes \n, \r, \t, \" and \\ are escapes; any other backslash is kept.
 * Single and backtick quotes are literal. `ws` is JavaScript whitespace (what dotenv's \s sees).
 *
 * Agreement with dotenv 17 (`dotenv.parse`), which is the oracle in test/unit/env-parse.test.ts:
 * on every file this parser accepts without a `dotenv_escape` warning, the key -> value maps are
 * equal. The deliberate differences, each the safer choice:
 *
 *  | input                                   | dotenv 17                        | Strata                |
 *  |-----------------------------------------|----------------------------------|-----------------------|
 *  | line that is not an assignment/comment  | silently dropped                 | refused (names line)  |
 *  | key not /^[A-Za-z_][A-Za-z0-9_.-]*$/    | kept (1A, .x, -y) or dropped     | refused               |
 *  | __proto__, constructor, prototype       | dropped / own property           | refused               |
 *  | unterminated quote                      | quote kept as part of the value  | refused               |
 *  | text after a closing quote  A="x" y     | whole raw text kept, quotes too  | refused               |
 *  | unquoted '#' without space  A=x#y       | value cut at '#' ("x")           | refused (quote it)    |
 *  | A= then a line starting with a quote    | next line read as A's value      | refused               |
 *  | A: with nothing after it                | the next line becomes A's value  | refused               |
 *  | KEY :v, KEY:v (no space after ':')      | dropped                          | refused               |
 *  | backslash right before a closing quote  | read as an escaped quote         | refused (ambiguous)   |
 *  | \" \\ \t inside double quotes           | backslash kept (only \n \r done) | decoded + warning     |
 *  | invalid UTF-8                           | U+FFFD substituted               | refused               |
 *  | NUL, control characters, U+2028/U+2029  | parsed (U+2028 ends a comment)   | refused               |
 *  | UTF-16 / UTF-32 (BOM or NUL-interleaved)| garbage keys                     | refused               |
 *  | larger than maxBytes (1 MiB default)    | parsed                           | refused               |
 * Duplicate keys: last one wins in both; Strata also reports every occurrence.
 */

/** Default size limit for a .env file: 1 MiB. Larger files are refused whole. */
export const DEFAULT_MAX_ENV_BYTES = 1024 * 1024;

/** Most problems reported for one refused file; the first ones are what an admin fixes first. */
export const MAX_ENV_ERRORS = 20;

/** Valid .env key name. Stricter than dotenv's /[\w.-]+/: no leading digit, dot or dash. */
export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Kinds of problem, so callers can branch without matching message text. */
export type EnvIssueCode =
  | 'bad_input'
  | 'too_large'
  | 'encoding'
  | 'binary'
  | 'syntax'
  | 'invalid_key'
  | 'reserved_key'
  | 'unterminated_quote'
  | 'ambiguous'
  | 'duplicate'
  | 'dotenv_escape';

/** A problem on one line; line 0 means the whole file. Messages never contain values. */
export interface EnvIssue {
  line: number;
  message: string;
  code?: EnvIssueCode;
}

/** One assignment that survived: the last occurrence of its key. */
export interface EnvEntry {
  /** 1-based line where the assignment starts (after CRLF/CR become one line break). */
  line: number;
  key: string;
  value: string;
  quote: '"' | "'" | '`' | null;
}

/** A key assigned more than once; `lines` lists every occurrence, the last one wins. */
export interface EnvDuplicate {
  key: string;
  lines: number[];
}

/** Result of parseEnv: entries (deduplicated, ordered by line) or the reasons for refusing. */
export type EnvParseResult =
  | { ok: true; entries: EnvEntry[]; duplicates: EnvDuplicate[]; warnings: EnvIssue[] }
  | { ok: false; errors: EnvIssue[] };

/** Options for parseEnv. */
export interface EnvParseOptions {
  /** Largest accepted file in bytes; default DEFAULT_MAX_ENV_BYTES (1 MiB). */
  maxBytes?: number;
}

function refuse(line: number, message: string, code: EnvIssueCode): EnvParseResult {
  return { ok: false, errors: [{ line, message, code }] };
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

/** JavaScript WhiteSpace without line terminators: exactly what dotenv's `\s` and trim() see. */
function isWs(c: number): boolean {
  if (c === 0x20 || c === 0x09) return true;
  if (c < 0xa0) return c === 0x0b || c === 0x0c;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function isKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x2d
  );
}

function isQuote(c: number): boolean {
  return c === 0x22 || c === 0x27 || c === 0x60;
}

const LF = 0x0a;
const HASH = 0x23;
const BACKSLASH = 0x5c;

/**
 * Guesses UTF-16 without a BOM: ASCII text in UTF-16 has a NUL in every other byte.
 * Returns 'LE' / 'BE' or null.
 */
function sniffUtf16(bytes: Uint8Array): 'LE' | 'BE' | null {
  const end = Math.min(bytes.length, 4096) & ~1;
  const pairs = end / 2;
  if (pairs === 0) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < end; i += 2) {
    if (bytes[i] === 0) even++;
    if (bytes[i + 1] === 0) odd++;
  }
  if (odd >= pairs * 0.5 && even <= pairs * 0.1) return 'LE';
  if (even >= pairs * 0.5 && odd <= pairs * 0.1) return 'BE';
  return null;
}

/**
 * Checks the bytes are well-formed UTF-8 holding no characters a text .env file may not hold.
 * Line numbers count LF, CRLF and lone CR as one break each, as the parser does.
 */
function checkBytes(bytes: Uint8Array): EnvParseResult | null {
  const n = bytes.length;
  let line = 1;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b === 0x0a) {
        line++;
      } else if (b === 0x0d) {
        line++;
        if (bytes[i + 1] === 0x0a) i++;
      } else if (b === 0) {
        return refuse(
          line,
          `Line ${line}: the file contains a NUL byte; it looks like a binary file, not a .env file.`,
          'binary',
        );
      } else if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
        return refuse(
          line,
          `Line ${line}: the file contains the control character U+${hex(b, 4)}, which a .env file cannot hold.`,
          'binary',
        );
      }
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else {
      return badUtf8(line, i, b);
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return badUtf8(line, i, b);
      if (c < lo || c > hi) return badUtf8(line, i, b);
      lo = 0x80;
      hi = 0xbf;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp <= 0x9f) {
      return refuse(
        line,
        `Line ${line}: the file contains the control character U+${hex(cp, 4)}, which a .env file cannot hold.`,
        'binary',
      );
    }
    if (cp === 0x2028 || cp === 0x2029) {
      return refuse(
        line,
        `Line ${line}: the file contains the Unicode line separator U+${hex(cp, 4)}, which tools read differently; replace it with a normal line break or remove it.`,
        'binary',
      );
    }
    if (cp === 0xfffe || cp === 0xffff) {
      return refuse(
        line,
        `Line ${line}: the file contains the non-character U+${hex(cp, 4)}; it is not a text .env file.`,
        'binary',
      );
    }
    i += need + 1;
  }
  return null;
}

function badUtf8(line: number, offset: number, b: number): EnvParseResult {
  return refuse(
    line,
    `Line ${line}: the file is not valid UTF-8 (byte 0x${hex(b, 2)} at offset ${offset}); save it as UTF-8.`,
    'encoding',
  );
}

/** Per-file parse state; one pass over the text, each character looked at a bounded number of times. */
class Scanner {
  readonly text: string;
  readonly n: number;
  i = 0;
  line = 1;
  readonly errors: EnvIssue[] = [];
  readonly warnings: EnvIssue[] = [];
  readonly entries: EnvEntry[] = [];
  /** Every line each key is set on; a Map so no key can reach Object.prototype. */
  readonly seen = new Map<string, number[]>();
  hasDuplicates = false;
  fatal = false;

  constructor(text: string) {
    this.text = text;
    this.n = text.length;
  }

  code(at: number): number {
    return at < this.n ? this.text.charCodeAt(at) : -1;
  }

  skipWs(at: number): number {
    let k = at;
    while (k < this.n && isWs(this.text.charCodeAt(k))) k++;
    return k;
  }

  /** Index of the next LF at or after `at`, or the end of the text. */
  eol(at: number): number {
    const k = this.text.indexOf('\n', at);
    return k < 0 ? this.n : k;
  }

  error(line: number, message: string, code: EnvIssueCode): void {
    this.errors.push({ line, message, code });
    if (this.errors.length >= MAX_ENV_ERRORS) this.fatal = true;
  }

  /** Abandons the rest of the current line after an error. */
  skipLine(): void {
    this.i = this.eol(this.i);
  }

  run(): void {
    while (this.i < this.n && !this.fatal) {
      this.i = this.skipWs(this.i);
      const c = this.code(this.i);
      if (c === -1) break;
      if (c === LF) {
        this.i++;
        this.line++;
        continue;
      }
      if (c === HASH) {
        this.skipLine();
        continue;
      }
      this.assignment();
    }
  }

  assignment(): void {
    const line = this.line;
    let j = this.i;
    while (isKeyChar(this.code(j))) j++;
    let key = this.text.slice(this.i, j);
    if (key === '') {
      const c = this.code(this.i);
      if (isQuote(c)) {
        this.error(
          line,
          `Line ${line}: a line cannot start with a quote; a quoted value must follow KEY= on the same line.`,
          'syntax',
        );
      } else if (c === 0x3d) {
        this.error(line, `Line ${line}: there is no key before '='.`, 'syntax');
      } else {
        this.error(
          line,
          `Line ${line}: this line is neither a comment, a blank line nor a KEY=value assignment.`,
          'syntax',
        );
      }
      this.skipLine();
      return;
    }
    if (key === 'export' && isWs(this.code(j))) {
      const k = this.skipWs(j);
      let m = k;
      while (isKeyChar(this.code(m))) m++;
      if (m > k) {
        key = this.text.slice(k, m);
        j = m;
      }
    }

    // Separator: '=' (whitespace allowed before it) or ':' directly after the key plus whitespace.
    const after = this.code(j);
    if (after === 0x3a) {
      const next = this.code(j + 1);
      if (!isWs(next)) {
        this.error(
          line,
          next === LF || next === -1
            ? `Line ${line}: 'KEY:' has no value; write KEY= for an empty value.`
            : `Line ${line}: a ':' separator must be followed by a space (KEY: value); or use KEY=value.`,
          'syntax',
        );
        this.skipLine();
        return;
      }
      j += 1;
    } else {
      const k = this.skipWs(j);
      if (this.code(k) !== 0x3d) {
        const c = this.code(k);
        let why: string;
        if (c === LF || c === -1) why = 'a key must be followed by = and a value';
        else if (c === 0x3a) why = "':' must come straight after the key (KEY: value)";
        else if (k > j) why = 'keys cannot contain spaces';
        else {
          why =
            "the key contains a character that is not allowed (use letters, digits, '_', '.' and '-')";
        }
        this.error(line, `Line ${line}: expected '=' after the key; ${why}.`, 'invalid_key');
        this.skipLine();
        return;
      }
      j = k + 1;
    }

    // The length test spares every ordinary key a hash lookup.
    if (key.length >= 9 && key.length <= 11 && RESERVED_KEYS.has(key)) {
      this.error(
        line,
        `Line ${line}: the key '${key}' is reserved and cannot be imported.`,
        'reserved_key',
      );
      this.skipLine();
      return;
    }
    if (!ENV_KEY_RE.test(key)) {
      this.error(
        line,
        `Line ${line}: the key is not a valid name; it must start with a letter or '_' and contain only letters, digits, '_', '.' and '-'.`,
        'invalid_key',
      );
      this.skipLine();
      return;
    }

    const start = j;
    j = this.skipWs(j);
    const hadWs = j > start;
    const c = this.code(j);
    let value: string;
    let quote: EnvEntry['quote'] = null;
    if (c === LF || c === -1) {
      value = '';
      this.i = j;
    } else if (c === HASH) {
      if (!hadWs) {
        this.error(
          line,
          `Line ${line}: the value of ${key} starts with '#', which dotenv reads as a comment; put the value in quotes.`,
          'ambiguous',
        );
        this.skipLine();
        return;
      }
      value = '';
      this.i = this.eol(j);
    } else if (isQuote(c)) {
      const q = this.quoted(key, line, j, c);
      if (q === null) return;
      value = q;
      quote = String.fromCharCode(c) as EnvEntry['quote'];
    } else {
      const end = this.eol(j);
      // Searched within the line only: an unbounded indexOf would make the parse quadratic.
      let hash = j;
      while (hash < end && this.text.charCodeAt(hash) !== HASH) hash++;
      let stop = end;
      if (hash < end) {
        if (!isWs(this.text.charCodeAt(hash - 1))) {
          this.error(
            line,
            `Line ${line}: the unquoted value of ${key} contains '#' with no space before it, where dotenv would cut it off; put the value in quotes.`,
            'ambiguous',
          );
          this.skipLine();
          return;
        }
        stop = hash;
      }
      value = this.text.slice(j, stop).trim();
      this.i = end;
    }

    const lines = this.seen.get(key);
    if (lines === undefined) this.seen.set(key, [line]);
    else {
      lines.push(line);
      this.hasDuplicates = true;
    }
    this.entries.push({ line, key, value, quote });
  }

  /**
   * Reads a quoted value opening at `open`; leaves `this.i` at the end of its last line.
   * Returns null after recording an error.
   */
  quoted(key: string, line: number, open: number, q: number): string | null {
    const text = this.text;
    const qc = String.fromCharCode(q);
    const kind = q === 0x22 ? 'double' : q === 0x27 ? 'single' : 'backtick';
    let value: string;
    let close: number;
    let escapes = false;
    if (q === 0x22) {
      const parts: string[] = [];
      let from = open + 1;
      let k = from;
      close = -1;
      while (k < this.n) {
        const ch = text.charCodeAt(k);
        if (ch === 0x22) {
          close = k;
          break;
        }
        if (ch === LF) {
          this.line++;
          k++;
          continue;
        }
        if (ch === BACKSLASH && k + 1 < this.n) {
          const nx = text.charCodeAt(k + 1);
          let rep: string | null = null;
          if (nx === 0x6e) rep = '\n';
          else if (nx === 0x72) rep = '\r';
          else if (nx === 0x74) rep = '\t';
          else if (nx === 0x22) rep = '"';
          else if (nx === BACKSLASH) rep = '\\';
          if (rep !== null) {
            if (nx !== 0x6e && nx !== 0x72) escapes = true;
            parts.push(text.slice(from, k), rep);
            k += 2;
            from = k;
            continue;
          }
        }
        k++;
      }
      if (close >= 0) {
        parts.push(text.slice(from, close));
        value = parts.join('');
      } else {
        value = '';
      }
    } else {
      close = text.indexOf(qc, open + 1);
      const stop = close < 0 ? this.n : close;
      for (
        let k = text.indexOf('\n', open + 1);
        k >= 0 && k < stop;
        k = text.indexOf('\n', k + 1)
      ) {
        this.line++;
      }
      value = close < 0 ? '' : text.slice(open + 1, close);
    }

    if (close < 0) {
      // Nothing after an unclosed quote can be read reliably, so parsing stops here.
      this.errors.push({
        line,
        message: `Line ${line}: the ${kind} quote (${qc}) that opens the value of ${key} is never closed.`,
        code: 'unterminated_quote',
      });
      this.fatal = true;
      this.i = this.n;
      return null;
    }
    const closeLine = this.line;
    if (text.charCodeAt(close - 1) === BACKSLASH && close - 1 > open) {
      this.error(
        closeLine,
        `Line ${closeLine}: the value of ${key} has a backslash right before its closing ${qc}, which dotenv reads as an escaped quote; write the value unquoted or end it differently.`,
        'ambiguous',
      );
      this.i = close + 1;
      this.skipLine();
      return null;
    }
    const k = this.skipWs(close + 1);
    const c = this.code(k);
    if (c !== LF && c !== -1 && c !== HASH) {
      this.error(
        closeLine,
        `Line ${closeLine}: unexpected text after the closing ${qc} of the value of ${key}; only a # comment may follow it.`,
        'syntax',
      );
      this.i = k;
      this.skipLine();
      return null;
    }
    this.i = this.eol(k);
    if (escapes) {
      this.warnings.push({
        line,
        message: `Line ${line}: the value of ${key} uses \\", \\\\ or \\t escapes, which Strata decodes but dotenv keeps as written; services that read this file with dotenv see a different value.`,
        code: 'dotenv_escape',
      });
    }
    return value;
  }
}

/**
 * Parses the bytes of a .env file. Never throws: a file that cannot be read safely is refused
 * whole (`ok: false`, no entries) with one-sentence messages that name the line (0 = whole file)
 * and never quote a value. Duplicate keys: the last one wins, as with dotenv; all are reported.
 */
export function parseEnv(bytes: Uint8Array, opts?: EnvParseOptions): EnvParseResult {
  if (!(bytes instanceof Uint8Array)) {
    return refuse(0, 'The .env content must be given as bytes (a Uint8Array).', 'bad_input');
  }
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_ENV_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    return refuse(0, 'The size limit (maxBytes) must be a whole number of bytes.', 'bad_input');
  }
  if (bytes.length > maxBytes) {
    return refuse(
      0,
      `The file is ${bytes.length} bytes; the limit for a .env file is ${maxBytes} bytes.`,
      'too_large',
    );
  }
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (
    (b0 === 0xff && b1 === 0xfe && bytes[2] === 0 && bytes[3] === 0) ||
    (b0 === 0 && b1 === 0 && bytes[2] === 0xfe && bytes[3] === 0xff)
  ) {
    return refuse(0, 'The file is UTF-32 encoded; save it as UTF-8.', 'encoding');
  }
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    return refuse(
      0,
      `The file is UTF-16${b0 === 0xff ? 'LE' : 'BE'} (it starts with a UTF-16 byte order mark); save it as UTF-8.`,
      'encoding',
    );
  }
  if (bytes.includes(0)) {
    const utf16 = sniffUtf16(bytes);
    if (utf16 !== null) {
      return refuse(
        0,
        `The file looks like UTF-16${utf16} text (every other byte is NUL); save it as UTF-8.`,
        'encoding',
      );
    }
  }
  const bad = checkBytes(bytes);
  if (bad !== null) return bad;

  // The bytes are known-good UTF-8, so a non-fatal decoder cannot substitute anything; it drops
  // a leading BOM (ignoreBOM defaults to false).
  const text = new TextDecoder('utf-8').decode(bytes).replace(/\r\n?/g, '\n');
  const scanner = new Scanner(text);
  scanner.run();
  if (scanner.errors.length > 0) return { ok: false, errors: scanner.errors };

  const duplicates: EnvDuplicate[] = [];
  const warnings: EnvIssue[] = [...scanner.warnings];
  let entries = scanner.entries;
  if (!scanner.hasDuplicates) return { ok: true, entries, duplicates, warnings };
  // Last one wins, as with dotenv; the survivors stay in line order.
  entries = entries.filter((e) => {
    const lines = scanner.seen.get(e.key)!;
    return lines[lines.length - 1] === e.line;
  });
  for (const [key, lines] of scanner.seen) {
    if (lines.length > 1) {
      duplicates.push({ key, lines });
      const last = lines[lines.length - 1]!;
      warnings.push({
        line: last,
        message: `Line ${last}: ${key} is also set on line${lines.length > 2 ? 's' : ''} ${lines.slice(0, -1).join(', ')}; the last one wins, as with dotenv.`,
        code: 'duplicate',
      });
    }
  }
  warnings.sort((a, b) => a.line - b.line);
  return { ok: true, entries, duplicates, warnings };
}

/** The entries of a successful parse as a Map (key -> value). */
export function envEntriesToMap(entries: readonly EnvEntry[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of entries) map.set(e.key, e.value);
  return map;
}
