/**
 * Which keys hold secrets. A secret is stored encrypted and shown masked everywhere (output,
 * errors, logs, audit) unless a reveal is explicitly requested.
 */
import type { KeyMetadata } from './types.js';

/** Substrings that mark a key as secret, matched against the lower-cased key. */
export const SECRET_KEY_PATTERNS: readonly string[] = Object.freeze([
  'api_key',
  'api_secret',
  'password',
  'token',
  'oauth_',
  'credentials',
  'private_key',
  'secret',
]);

/** True when the key names a secret by pattern, or its metadata declares a password input. */
export function isSecretKey(key: string, meta?: KeyMetadata | null): boolean {
  if (meta?.inputType === 'password') return true;
  const lower = key.toLowerCase();
  for (const pattern of SECRET_KEY_PATTERNS) {
    if (lower.includes(pattern)) return true;
  }
  return false;
}
