import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  codecFromEnv,
  createCodec,
  decodeKey,
  generateKey,
  isEnvelope,
} from '../../src-main/secrets/cipher.js';
import { StrataError } from '../../src-main/core/types.js';
import type { Level, Slot } from '../../src-main/core/types.js';

const slot: Slot = { level: 'tenant', scope: 'mercy', key: 'phaxio.api_secret' };
const codec = createCodec(randomBytes(32));

function thrown(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return err as StrataError;
  }
  throw new Error('expected a StrataError');
}

const slotArb = fc.record({
  level: fc.constantFrom<Level>('global', 'tenant', 'department', 'group', 'user'),
  scope: fc.string({ maxLength: 20 }),
  key: fc.string({ minLength: 1, maxLength: 40 }),
});

describe('secret envelopes', () => {
  it('round-trips any text, with a fresh nonce every time', () => {
    fc.assert(
      fc.property(slotArb, fc.string({ unit: 'grapheme', maxLength: 200 }), (s, plain) => {
        const a = codec.encrypt(s, plain);
        const b = codec.encrypt(s, plain);
        expect(a).not.toBe(b);
        expect(isEnvelope(a)).toBe(true);
        expect(codec.decrypt(s, a)).toBe(plain);
        expect(codec.decrypt(s, b)).toBe(plain);
      }),
    );
  });

  it('has the documented format and never contains the plaintext', () => {
    const plain = 'canary-Sup3rS3cret-value';
    const env = codec.encrypt(slot, plain);
    const parts = env.split(':');
    expect(parts.slice(0, 2)).toEqual(['enc', 'v1']);
    expect(parts[2]).toBe(codec.keyId);
    expect(parts[3]).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(parts[4]!, 'base64url').length).toBe(12);
    expect(parts[5]).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const form of [
      plain,
      Buffer.from(plain).toString('base64'),
      Buffer.from(plain).toString('base64url'),
      Buffer.from(plain).toString('hex'),
    ]) {
      expect(env).not.toContain(form);
    }
  });

  it('refuses a tampered ciphertext, nonce or fingerprint without echoing anything', () => {
    const plain = 'top-secret-1';
    const env = codec.encrypt(slot, plain);
    const parts = env.split(':');
    const flip = (s: string, i: number): string => {
      const c = s[i] === 'A' ? 'B' : 'A';
      return s.slice(0, i) + c + s.slice(i + 1);
    };
    const variants = [
      [...parts.slice(0, 5), flip(parts[5]!, 3)].join(':'),
      [...parts.slice(0, 5), flip(parts[5]!, parts[5]!.length - 2)].join(':'),
      [...parts.slice(0, 4), flip(parts[4]!, 0), parts[5]].join(':'),
      [
        ...parts.slice(0, 3),
        parts[3]!.replace(/^./, (c) => (c === '0' ? '1' : '0')),
        ...parts.slice(4),
      ].join(':'),
      env.slice(0, -4),
    ];
    for (const bad of variants) {
      const e = thrown(() => codec.decrypt(slot, bad));
      expect(e.code).toBe('invalid');
      expect(e.message).toBe(
        'Secret for phaxio.api_secret at tenant mercy could not be decrypted (wrong key or tampered value).',
      );
      expect(e.message).not.toContain(plain);
    }
  });

  it('refuses a ciphertext copied to another slot', () => {
    const env = codec.encrypt(slot, 'moved');
    const others: Slot[] = [
      { ...slot, scope: 'general' },
      { ...slot, key: 'phaxio.api_key' },
      { ...slot, level: 'group' },
      { level: 'global', scope: '', key: slot.key },
    ];
    for (const other of others) {
      expect(thrown(() => codec.decrypt(other, env)).code).toBe('invalid');
    }
    expect(
      thrown(() =>
        codec.decrypt({ level: 'global', scope: '', key: 'k' }, codec.encrypt(slot, 'x')),
      ).message,
    ).toBe('Secret for k at global could not be decrypted (wrong key or tampered value).');
  });

  it('refuses the wrong key, and decrypts with a previous key after rotation', () => {
    const oldKey = randomBytes(32);
    const oldCodec = createCodec(oldKey);
    const env = oldCodec.encrypt(slot, 'rotate-me');
    const other = createCodec(randomBytes(32));
    expect(thrown(() => other.decrypt(slot, env)).code).toBe('invalid');
    const rotated = createCodec(randomBytes(32), { previousKeys: [oldKey] });
    expect(rotated.decrypt(slot, env)).toBe('rotate-me');
    expect(rotated.needsRotation(env)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt(slot, 'x'))).toBe(false);
  });

  it('fingerprints are stable for the same plaintext and differ for different ones', () => {
    const a1 = codec.encrypt(slot, 'same');
    const a2 = codec.encrypt({ ...slot, scope: 'other' }, 'same');
    const b = codec.encrypt(slot, 'different');
    expect(codec.fingerprint(a1)).toBe(codec.fingerprint(a2));
    expect(codec.fingerprint(a1)).toBe(codec.fingerprintOf('same'));
    expect(codec.fingerprint(b)).not.toBe(codec.fingerprint(a1));
    // A different master key gives unrelated fingerprints.
    expect(createCodec(randomBytes(32)).fingerprintOf('same')).not.toBe(
      codec.fingerprintOf('same'),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), (x, y) => {
        fc.pre(x !== y);
        expect(codec.fingerprintOf(x)).not.toBe(codec.fingerprintOf(y));
      }),
    );
    expect(thrown(() => codec.fingerprint('plain text')).code).toBe('invalid');
  });

  it('recognises envelopes only', () => {
    expect(isEnvelope(codec.encrypt(slot, ''))).toBe(true);
    for (const s of [
      '',
      'enc:v1:',
      'enc:v2:abcdef01:0123456789abcdef:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA',
      'hello',
    ]) {
      expect(isEnvelope(s)).toBe(false);
    }
  });
});

describe('keys from the environment', () => {
  it('is null without a key and accepts base64 and base64url, padded or not', () => {
    expect(codecFromEnv({})).toBeNull();
    expect(codecFromEnv({ CONFIG_ENCRYPTION_KEY: '  ' })).toBeNull();
    const raw = randomBytes(32);
    const forms = [
      raw.toString('base64'),
      raw.toString('base64url'),
      raw.toString('base64').replace(/=+$/, ''),
      `${raw.toString('base64url')}=`,
    ];
    const env = createCodec(raw).encrypt(slot, 'from-env');
    for (const f of forms) {
      const c = codecFromEnv({ CONFIG_ENCRYPTION_KEY: f });
      expect(c?.decrypt(slot, env)).toBe('from-env');
    }
    const generated = generateKey();
    expect(decodeKey(generated).length).toBe(32);
    expect(codecFromEnv({ CONFIG_ENCRYPTION_KEY: generated })).not.toBeNull();
  });

  it('explains a malformed key in one sentence without echoing it', () => {
    for (const bad of [
      'short',
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      `${'!'.repeat(43)}`,
    ]) {
      const e = thrown(() => codecFromEnv({ CONFIG_ENCRYPTION_KEY: bad }));
      expect(e.code).toBe('invalid');
      expect(e.message).toMatch(/^CONFIG_ENCRYPTION_KEY must be 32 random bytes/);
      expect(e.message).not.toContain(bad);
    }
    const ok = generateKey();
    const e = thrown(() =>
      codecFromEnv({
        CONFIG_ENCRYPTION_KEY: ok,
        CONFIG_ENCRYPTION_KEY_PREVIOUS: `${generateKey()},nope`,
      }),
    );
    expect(e.message).toMatch(/^CONFIG_ENCRYPTION_KEY_PREVIOUS must be/);
  });
});
