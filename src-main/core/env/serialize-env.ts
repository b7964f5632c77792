/**
 * Writes .env text that both parseEnv and dotenv 17 read back as exactly the given map, so an
 * exported file can be handed to legacy services that still load it with dotenv.
 */
import { StrataError } from '../types.js';
import { ENV_KEY_RE } from './parse-env.js';

/** Options for serializeEnv. */
export interface SerializeEnvOptions {
  /** Comment lines written first (each prefixed with '# '); newlines split into more lines. */
  header?: readonly string[];
}

const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// Plain text that needs no quotes: no whitespace, quotes, '#', '$' or backslash, so neither
// reader (nor a shell or dotenv-expand, should one be in the path) can take it differently.
const BARE_RE = /^[^\s'"`#$\\]+$/;

/**
 * True when the character cannot live in a .env file that parseEnv accepts (control characters
 * other than tab, LF and CR, U+2028/U+2029, U+FFFE/U+FFFF) or cannot be encoded (lone surrogates).
 */
function hasUnwritableChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return true;
    } else if (c >= 0x7f && c <= 0x9f) {
      return true;
    } else if (c === 0x2028 || c === 0x2029 || c === 0xfffe || c === 0xffff) {
      return true;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = value.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/**
 * The text after `KEY=` for one value, or null when no quoting makes parseEnv and dotenv read it
 * identically: characters a .env file cannot hold, or (rare) a value that defeats every form at
 * once, e.g. one holding ', ` and " together with a line break, '#' or surrounding spaces.
 * Forms, in order of preference: bare, '...', "..." with \n/\r escapes, `...`, "..." with raw
 * line breaks and kept backslashes, unquoted.
 */
export function formatEnvValue(value: string): string | null {
  if (typeof value !== 'string' || hasUnwritableChar(value)) return null;
  if (value === '') return '';
  if (BARE_RE.test(value)) return value;
  const multiline = value.includes('\n') || value.includes('\r');
  const endsWithBackslash = value.endsWith('\\');
  // Single quotes are literal in both readers; a trailing backslash would read as \' in dotenv.
  if (!multiline && !value.includes("'") && !endsWithBackslash) return `'${value}'`;
  // Double quotes: both readers expand \n and \r, and only those when no other backslash is there.
  if (!value.includes('"') && !value.includes('\\')) {
    return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  }
  // Backticks are literal and may span lines; a raw CR would become LF on reading.
  if (!value.includes('`') && !value.includes('\r') && !endsWithBackslash) return `\`${value}\``;
  // Double quotes again, for multi-line values with backslashes: both readers keep a backslash
  // that no n, r, t, \ or CR follows, so those may stay, with LF written raw.
  if (!value.includes('"') && !endsWithBackslash && !/\\[nrt\\\r]/.test(value)) {
    return `"${value.replace(/\r/g, '\\r')}"`;
  }
  // Unquoted: read verbatim by both when trimmed, single-line, '#'-free and not opening with a quote.
  const first = value.charCodeAt(0);
  if (
    !multiline &&
    !value.includes('#') &&
    value.trim() === value &&
    first !== 0x22 &&
    first !== 0x27 &&
    first !== 0x60
  ) {
    return value;
  }
  return null;
}

/** True when serializeEnv can write this value so both parseEnv and dotenv read it back unchanged. */
export function canSerializeEnvValue(value: string): boolean {
  return formatEnvValue(value) !== null;
}

/**
 * Serialises key/value pairs as .env text (one `KEY=value` line each, LF line ends, in the given
 * order), choosing per value the quoting that parseEnv and dotenv 17 both read back exactly.
 * Throws StrataError('invalid') for an invalid or repeated key or a value no quoting can carry;
 * the message names the key, never the value.
 */
export function serializeEnv(
  map: ReadonlyMap<string, string> | ReadonlyArray<readonly [string, string]>,
  opts?: SerializeEnvOptions,
): string {
  const pairs: Iterable<readonly [string, string]> = map instanceof Map ? map.entries() : map;
  const out: string[] = [];
  for (const line of opts?.header ?? []) {
    for (const part of String(line).split(/\r\n|\r|\n/)) {
      if (hasUnwritableChar(part)) {
        throw new StrataError(
          'invalid',
          'A header line contains characters a .env file cannot hold.',
        );
      }
      out.push(part === '' ? '#' : `# ${part}`);
    }
  }
  const seen = new Set<string>();
  for (const [key, value] of pairs) {
    if (typeof key !== 'string' || !ENV_KEY_RE.test(key) || RESERVED_KEYS.has(key)) {
      const shown = typeof key === 'string' && key.length <= 80 ? ` ${JSON.stringify(key)}` : '';
      throw new StrataError(
        'invalid',
        typeof key === 'string' && RESERVED_KEYS.has(key)
          ? `Cannot write the key${shown} to a .env file: the name is reserved.`
          : `Cannot write the key${shown} to a .env file: names must start with a letter or '_' and contain only letters, digits, '_', '.' and '-'.`,
      );
    }
    if (seen.has(key)) {
      throw new StrataError('invalid', `Cannot write ${key} twice to one .env file.`);
    }
    seen.add(key);
    const text = formatEnvValue(value);
    if (text === null) {
      throw new StrataError(
        'invalid',
        `The value of ${key} cannot be written to a .env file that dotenv reads the same way (it holds control characters, or all three quote characters together with a line break, '#' or surrounding spaces).`,
      );
    }
    out.push(`${key}=${text}`);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
