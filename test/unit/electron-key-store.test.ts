/**
 * The desktop key store without Electron's binary: the storage decision as a pure function, and
 * the file handling over a stand-in for safeStorage that really encrypts (AES-256-GCM with a key
 * of its own, playing the OS keyring) and reports a chosen Linux backend.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FORGET_KEY_FLAG,
  KEY_STORE_FILE,
  PLAINTEXT_OPT_IN_ENV,
  PLAINTEXT_OPT_IN_FLAG,
  REMEMBER_KEY_FLAG,
  createKeyStore,
  keyEnvironment,
  keyStorageDecision,
  type StorageBackend,
} from '../../src-main/electron/key-store.js';
import { generateKey } from '../../src-main/secrets/cipher.js';
import { keyring } from '../helpers/keyring.js';

const BACKENDS: StorageBackend[] = [
  'basic_text',
  'gnome_libsecret',
  'kwallet',
  'kwallet5',
  'kwallet6',
  'unknown',
];

const dirs: string[] = [];
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-keystore-'));
  dirs.push(d);
  return join(d, 'userData');
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('keyStorageDecision', () => {
  it('refuses the Linux plain-text backend unless the admin opts in', () => {
    const refused = keyStorageDecision('basic_text', false);
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) {
      expect(refused.reason).toMatch(/^CONFIG_ENCRYPTION_KEY was not stored: no keyring/);
      expect(refused.reason).toContain(`${PLAINTEXT_OPT_IN_ENV}=1`);
      expect(refused.reason).toContain(PLAINTEXT_OPT_IN_FLAG);
    }
    const opted = keyStorageDecision('basic_text', true);
    expect(opted.allowed).toBe(true);
    if (opted.allowed) expect(opted.warning).toMatch(/plain-text backend/);
  });

  it('allows real keyrings and macOS/Windows without a warning', () => {
    for (const backend of ['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6', null] as const) {
      expect(keyStorageDecision(backend, false)).toEqual({ allowed: true, warning: null });
    }
  });

  it('refuses when safeStorage is unavailable or not ready', () => {
    expect(keyStorageDecision(null, true, false)).toMatchObject({ allowed: false });
    expect(keyStorageDecision('unknown', true)).toMatchObject({ allowed: false });
  });

  it('allows exactly: available, known backend, and basic_text only with opt-in (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<StorageBackend | null>(null, ...BACKENDS),
        fc.boolean(),
        fc.boolean(),
        (backend, optIn, available) => {
          const d = keyStorageDecision(backend, optIn, available);
          const expected =
            available && backend !== 'unknown' && (backend !== 'basic_text' || optIn);
          expect(d.allowed).toBe(expected);
          if (!d.allowed) expect(d.reason).toMatch(/^CONFIG_ENCRYPTION_KEY was not stored: .+\.$/);
        },
      ),
    );
  });
});

describe('key store file', () => {
  it('stores the key encrypted, owner-only, and loads it back', async () => {
    const dir = folder();
    const safe = keyring('gnome_libsecret');
    const store = createKeyStore({ safeStorage: safe, dir, platform: 'linux' });
    const key = generateKey();
    expect(await store.load()).toBeNull();
    expect(await store.store(key, false)).toEqual({ stored: true, warning: null });
    expect(store.path).toBe(join(dir, KEY_STORE_FILE));
    const bytes = readFileSync(store.path);
    expect(bytes.includes(Buffer.from(key))).toBe(false);
    expect(bytes.includes(Buffer.from(Buffer.from(key, 'base64url').toString('base64')))).toBe(
      false,
    );
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({
      format: 'strata-key-store',
      version: 1,
      backend: 'gnome_libsecret',
    });
    if (process.platform !== 'win32') {
      expect(statSync(store.path).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o077).toBe(0);
    }
    expect(await store.load()).toBe(key);
    // Another keyring (user, machine) cannot read it, and says so without the key.
    const elsewhere = createKeyStore({ safeStorage: keyring(), dir, platform: 'linux' });
    await expect(elsewhere.load()).rejects.toThrow(
      /^The stored encryption key could not be decrypted by this system's key store/,
    );
    expect(store.forget()).toBe(true);
    expect(existsSync(store.path)).toBe(false);
    expect(store.forget()).toBe(false);
  });

  it('writes nothing for the plain-text backend without opt-in, and warns with it', async () => {
    const dir = folder();
    const store = createKeyStore({ safeStorage: keyring('basic_text'), dir, platform: 'linux' });
    const key = generateKey();
    const refused = await store.store(key, false);
    expect(refused.stored).toBe(false);
    expect(existsSync(store.path)).toBe(false);
    const opted = await store.store(key, true);
    expect(opted).toMatchObject({ stored: true });
    if (opted.stored) expect(opted.warning).toMatch(/anyone who can read the file/);
    expect(await store.load()).toBe(key);
  });

  it('ignores the Linux backend on macOS and Windows', async () => {
    const safe = keyring('basic_text');
    const store = createKeyStore({ safeStorage: safe, dir: folder(), platform: 'darwin' });
    expect(store.backend()).toBeNull();
    expect(await store.store(generateKey(), false)).toEqual({ stored: true, warning: null });
  });

  it('refuses a malformed key before writing, without echoing it', async () => {
    const store = createKeyStore({ safeStorage: keyring(), dir: folder(), platform: 'linux' });
    const bad = 'not-a-key-CANARY-91f2';
    await expect(store.store(bad, false)).rejects.toThrow(
      /^CONFIG_ENCRYPTION_KEY must be 32 random bytes/,
    );
    await store.store(bad, false).catch((e: Error) => expect(e.message).not.toContain('CANARY'));
    expect(existsSync(store.path)).toBe(false);
  });

  it('explains a damaged or foreign file', async () => {
    const store = createKeyStore({ safeStorage: keyring(), dir: folder(), platform: 'linux' });
    await store.store(generateKey(), false);
    writeFileSync(store.path, '{not json');
    await expect(store.load()).rejects.toThrow(/is damaged; remove it with --forget-key/);
    writeFileSync(store.path, JSON.stringify({ format: 'other' }));
    await expect(store.load()).rejects.toThrow(/is not a Strata key store file/);
  });
});

describe('keyEnvironment', () => {
  it('stores the environment key with --remember-key and uses it later without the variable', async () => {
    const dir = folder();
    const safe = keyring('kwallet5');
    const key = generateKey();
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const first = await keyEnvironment(
      createKeyStore({ safeStorage: safe, dir, platform: 'linux' }),
      {
        argv: ['electron', 'main.js', REMEMBER_KEY_FLAG],
        env: { CONFIG_ENCRYPTION_KEY: key, HOME: '/home/x' },
        log,
      },
    );
    expect(first.CONFIG_ENCRYPTION_KEY).toBe(key);
    const before = process.env.CONFIG_ENCRYPTION_KEY;
    const later = await keyEnvironment(
      createKeyStore({ safeStorage: safe, dir, platform: 'linux' }),
      {
        argv: ['electron', 'main.js'],
        env: { HOME: '/home/x' },
        log,
      },
    );
    expect(later).toEqual({ HOME: '/home/x', CONFIG_ENCRYPTION_KEY: key });
    // The key goes to the returned environment only.
    expect(process.env.CONFIG_ENCRYPTION_KEY).toBe(before);
    expect(lines.join('\n')).toMatch(/^Stored CONFIG_ENCRYPTION_KEY for later runs in /);
    expect(lines.join('\n')).not.toContain(key);
    const forgot = await keyEnvironment(
      createKeyStore({ safeStorage: safe, dir, platform: 'linux' }),
      {
        argv: ['electron', 'main.js', FORGET_KEY_FLAG],
        env: {},
        log,
      },
    );
    expect(forgot.CONFIG_ENCRYPTION_KEY).toBeUndefined();
    expect(lines).toContain('Removed the stored CONFIG_ENCRYPTION_KEY.');
  });

  it('says why the key was not stored and still runs with the environment key', async () => {
    const dir = folder();
    const key = generateKey();
    const lines: string[] = [];
    const store = createKeyStore({ safeStorage: keyring('basic_text'), dir, platform: 'linux' });
    const env = await keyEnvironment(store, {
      argv: ['electron', 'main.js', REMEMBER_KEY_FLAG],
      env: { CONFIG_ENCRYPTION_KEY: key },
      log: (l) => void lines.push(l),
    });
    expect(env.CONFIG_ENCRYPTION_KEY).toBe(key);
    expect(existsSync(store.path)).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^CONFIG_ENCRYPTION_KEY was not stored: no keyring/);
    const opted = await keyEnvironment(store, {
      argv: ['electron', 'main.js', REMEMBER_KEY_FLAG],
      env: { CONFIG_ENCRYPTION_KEY: key, [PLAINTEXT_OPT_IN_ENV]: '1' },
      log: (l) => void lines.push(l),
    });
    expect(opted.CONFIG_ENCRYPTION_KEY).toBe(key);
    expect(existsSync(store.path)).toBe(true);
    expect(lines.join('\n')).not.toContain(key);
  });
});
