/**
 * The seam between the config service and secret encryption: the service needs only a
 * SecretCodec (encrypt / decrypt / fingerprint bound to a slot); which one comes from
 * CONFIG_ENCRYPTION_KEY unless a caller (a test, an embedding service) passes its own. With no
 * codec, secret writes are refused with the reason below instead of being stored in plaintext.
 */
import { codecFromEnv } from '../secrets/cipher.js';
import type { SecretCodec } from '../secrets/cipher.js';

export type { SecretCodec };

/** A codec, or why there is none (used in the refusal of a secret write or reveal). */
export type CodecChoice = { codec: SecretCodec; why: null } | { codec: null; why: string };

/** The codec configured by CONFIG_ENCRYPTION_KEY, or the reason there is none. */
export function codecChoiceFromEnv(
  env: Record<string, string | undefined> = process.env,
): CodecChoice {
  const codec = codecFromEnv(env);
  if (codec) return { codec, why: null };
  return {
    codec: null,
    why: 'CONFIG_ENCRYPTION_KEY is not set, so secrets cannot be encrypted or revealed; set it to 32 random bytes in base64 (`openssl rand -base64 32`)',
  };
}

/** Wraps an explicit codec (or null: secrets disabled) as a CodecChoice. */
export function codecChoiceOf(codec: SecretCodec | null): CodecChoice {
  return codec
    ? { codec, why: null }
    : {
        codec: null,
        why: 'no secret codec is configured, so secrets cannot be encrypted or revealed',
      };
}
