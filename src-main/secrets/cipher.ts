/**
 * Secret envelopes: AES-256-GCM with a fresh 12-byte nonce per value, bound to the slot (level,
 * scope, key) through the additional authenticated data, so a ciphertext copied to another row,
 * or an envelope whose fingerprint was edited, fails to decrypt.
 *
 * Stored text: `enc:v1:<keyId>:<fingerprint>:<nonce>:<ciphertext+tag>` (base64url parts).
 * - keyId: 8 hex chars of sha256 over the derived encryption key; selects the key on decrypt,
 *   so a rotated-out key can still be configured for reading.
 * - fingerprint: 16 hex chars of HMAC-SHA256 over the plaintext with a second key derived from
 *   the master key. The audit trail, plans and diffs compare fingerprints instead of secrets.
 *
 * Both keys come from one 32-byte master key (CONFIG_ENCRYPTION_KEY, base64 or base64url, the
 * same variable and encoding as the customer's Fernet-based seed) through HKDF-SHA256 with
 * distinct info labels, so knowing the fingerprint key reveals nothing about the encryption key.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { StrataError } from '../core/types.js';
import type { Slot } from '../core/types.js';

/** Encrypts, decrypts and fingerprints secret values for one master key (plus old keys). */
export interface SecretCodec {
  /** Key id new envelopes are written with. */
  readonly keyId: string;
  /** Encrypts a plaintext for exactly this slot. */
  encrypt(slot: Slot, plaintext: string): string;
  /** Decrypts an envelope written for this slot; throws StrataError('invalid') otherwise. */
  decrypt(slot: Slot, stored: string): string;
  /** The fingerprint carried by an envelope (no key needed, nothing decrypted). */
  fingerprint(stored: string): string;
  /** The fingerprint a plaintext would get under the current key (to compare without decrypting). */
  fingerprintOf(plaintext: string): string;
  /** True when `s` is a syntactically valid v1 envelope. */
  isEnvelope(s: string): boolean;
  /** True when the envelope was written with an older configured key and should be re-encrypted. */
  needsRotation(stored: string): boolean;
}

/** Options for building a codec. */
export interface CodecOptions {
  /** Older master keys still accepted for decryption (key rotation). */
  previousKeys?: readonly Uint8Array[];
}

/** Prefix of every v1 envelope (also what the database's validation trigger checks). */
export const ENVELOPE_PREFIX = 'enc:v1:';

/** Environment variable holding the master key. */
export const KEY_ENV = 'CONFIG_ENCRYPTION_KEY';
/** Optional comma-separated older master keys, accepted for decryption only. */
export const PREVIOUS_KEYS_ENV = 'CONFIG_ENCRYPTION_KEY_PREVIOUS';

const ENVELOPE_RE =
  /^enc:v1:([0-9a-f]{8}):([0-9a-f]{16}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22,})$/;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_SALT = Buffer.from('strata/secrets', 'utf8');

interface DerivedKey {
  id: string;
  enc: Buffer;
  fp: Buffer;
}

interface Parsed {
  keyId: string;
  fingerprint: string;
  nonce: Buffer;
  sealed: Buffer;
}

function derive(master: Uint8Array): DerivedKey {
  if (master.byteLength !== KEY_BYTES) {
    throw new StrataError('invalid', `An encryption key must be exactly ${KEY_BYTES} bytes.`);
  }
  const enc = Buffer.from(hkdfSync('sha256', master, HKDF_SALT, 'strata/v1/encrypt', KEY_BYTES));
  const fp = Buffer.from(hkdfSync('sha256', master, HKDF_SALT, 'strata/v1/fingerprint', KEY_BYTES));
  const id = createHash('sha256').update(enc).digest('hex').slice(0, 8);
  return { id, enc, fp };
}

function parse(stored: string): Parsed | null {
  const m = ENVELOPE_RE.exec(stored);
  if (!m) return null;
  const nonce = Buffer.from(m[3]!, 'base64url');
  const sealed = Buffer.from(m[4]!, 'base64url');
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) return null;
  return { keyId: m[1]!, fingerprint: m[2]!, nonce, sealed };
}

// JSON keeps the parts unambiguous whatever characters a scope or key contains. The fingerprint
// is authenticated too, so the audit trail cannot be shown a fingerprint the value does not have.
function aad(slot: Slot, keyId: string, fingerprint: string): Buffer {
  return Buffer.from(
    JSON.stringify(['strata-secret', 1, keyId, fingerprint, slot.level, slot.scope, slot.key]),
    'utf8',
  );
}

function hmacHex(key: Buffer, plaintext: string): string {
  return createHmac('sha256', key).update(plaintext, 'utf8').digest('hex').slice(0, 16);
}

function where(slot: Slot): string {
  return slot.scope === '' ? slot.level : `${slot.level} ${slot.scope}`;
}

function undecryptable(slot: Slot): StrataError {
  return new StrataError(
    'invalid',
    `Secret for ${slot.key} at ${where(slot)} could not be decrypted (wrong key or tampered value).`,
  );
}

/** True when `s` is a syntactically valid v1 envelope (does not check it decrypts). */
export function isEnvelope(s: string): boolean {
  return typeof s === 'string' && parse(s) !== null;
}

/** Builds a codec from a raw 32-byte master key. */
export function createCodec(masterKey: Uint8Array, opts: CodecOptions = {}): SecretCodec {
  const current = derive(masterKey);
  const keys = new Map<string, DerivedKey>([[current.id, current]]);
  for (const old of opts.previousKeys ?? []) {
    const d = derive(old);
    if (!keys.has(d.id)) keys.set(d.id, d);
  }

  return {
    keyId: current.id,
    encrypt(slot, plaintext) {
      if (typeof plaintext !== 'string') {
        throw new StrataError('invalid', `Secret for ${slot.key} at ${where(slot)} must be text.`);
      }
      const fingerprint = hmacHex(current.fp, plaintext);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.enc, nonce, {
        authTagLength: TAG_BYTES,
      });
      cipher.setAAD(aad(slot, current.id, fingerprint));
      const body = Buffer.concat([
        cipher.update(plaintext, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return `${ENVELOPE_PREFIX}${current.id}:${fingerprint}:${nonce.toString('base64url')}:${body.toString('base64url')}`;
    },
    decrypt(slot, stored) {
      const p = typeof stored === 'string' ? parse(stored) : null;
      const key = p ? keys.get(p.keyId) : undefined;
      if (!p || !key) throw undecryptable(slot);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.enc, p.nonce, {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aad(slot, p.keyId, p.fingerprint));
        decipher.setAuthTag(p.sealed.subarray(p.sealed.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(p.sealed.subarray(0, p.sealed.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
        // The tag already covers the fingerprint; this also catches an envelope sealed by a
        // writer whose fingerprint key differs from its encryption key's master.
        const fp = Buffer.from(hmacHex(key.fp, plain), 'utf8');
        if (!timingSafeEqual(fp, Buffer.from(p.fingerprint, 'utf8'))) throw undecryptable(slot);
        return plain;
      } catch {
        throw undecryptable(slot);
      }
    },
    fingerprint(stored) {
      const p = typeof stored === 'string' ? parse(stored) : null;
      if (!p)
        throw new StrataError('invalid', 'The stored value is not an encrypted secret envelope.');
      return p.fingerprint;
    },
    fingerprintOf(plaintext) {
      return hmacHex(current.fp, plaintext);
    },
    isEnvelope,
    needsRotation(stored) {
      const p = parse(stored);
      return p !== null && p.keyId !== current.id;
    },
  };
}

/**
 * Decodes a master key written as base64 or base64url (padding optional). Throws a clear
 * StrataError that never echoes the key.
 */
export function decodeKey(text: string, name = KEY_ENV): Uint8Array {
  // Both alphabets are accepted (the seed's Fernet keys are base64url), padding optional.
  const normalised = text.trim().replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  if (!/^[A-Za-z0-9_-]{43}$/.test(normalised)) {
    throw new StrataError(
      'invalid',
      `${name} must be ${KEY_BYTES} random bytes written as base64 or base64url (43 or 44 characters); generate one with \`openssl rand -base64 32\`.`,
    );
  }
  return new Uint8Array(Buffer.from(normalised, 'base64url'));
}

/**
 * The codec configured by the environment, or null when CONFIG_ENCRYPTION_KEY is not set.
 * CONFIG_ENCRYPTION_KEY_PREVIOUS (comma-separated) adds keys accepted for decryption only.
 */
export function codecFromEnv(
  env: Record<string, string | undefined> = process.env,
): SecretCodec | null {
  const raw = env[KEY_ENV];
  if (raw === undefined || raw.trim() === '') return null;
  const master = decodeKey(raw, KEY_ENV);
  const previousKeys = (env[PREVIOUS_KEYS_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => decodeKey(s, PREVIOUS_KEYS_ENV));
  return createCodec(master, { previousKeys });
}

/** A new random master key, base64url-encoded, suitable for CONFIG_ENCRYPTION_KEY. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}
