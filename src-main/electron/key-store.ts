/**
 * Where the desktop console keeps CONFIG_ENCRYPTION_KEY between runs: encrypted with Electron's
 * safeStorage (Keychain on macOS, DPAPI on Windows, the Secret Service or KWallet on Linux) in
 * one file in the app's userData folder, so the admin does not have to export the key in a shell
 * profile. On Linux without a keyring safeStorage falls back to 'basic_text', which encrypts with
 * a password built into Chromium: anyone who can read the file can read the key. Storing is
 * refused there unless the admin opts in (STRATA_ALLOW_PLAINTEXT_KEY_STORE=1 or
 * --allow-plaintext-key-store), with a message that says so.
 *
 * The decision is the pure function keyStorageDecision(); the rest receives safeStorage and the
 * folder from main.ts, and this module imports only Electron's types, so it runs under plain Node
 * (tests) and in Electron alike.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { KEY_ENV, decodeKey } from '../secrets/cipher.js';
import { readJsonFile, writePrivateFile } from '../services/private-file.js';

/** File (in userData) holding the encrypted key. */
export const KEY_STORE_FILE = 'config-encryption-key.json';
/** Environment variable that opts in to storing the key with Linux's plain-text backend. */
export const PLAINTEXT_OPT_IN_ENV = 'STRATA_ALLOW_PLAINTEXT_KEY_STORE';
/** Command-line flag with the same effect. */
export const PLAINTEXT_OPT_IN_FLAG = '--allow-plaintext-key-store';
/** Stores the CONFIG_ENCRYPTION_KEY of this run's environment for later runs. */
export const REMEMBER_KEY_FLAG = '--remember-key';
/** Deletes the stored key. */
export const FORGET_KEY_FLAG = '--forget-key';

/** safeStorage's Linux backend, or null on macOS and Windows (Keychain / DPAPI, no choice). */
export type StorageBackend = ReturnType<SafeStorage['getSelectedStorageBackend']>;

/** Whether the key may be stored, and why not. */
export type KeyStorageDecision =
  { allowed: true; warning: string | null } | { allowed: false; reason: string };

/**
 * May CONFIG_ENCRYPTION_KEY be stored with this safeStorage backend? `backend` is null on macOS
 * and Windows; `optIn` is the admin's explicit consent to Linux's plain-text backend.
 */
export function keyStorageDecision(
  backend: StorageBackend | null,
  optIn: boolean,
  encryptionAvailable = true,
): KeyStorageDecision {
  if (!encryptionAvailable) {
    return {
      allowed: false,
      reason:
        'CONFIG_ENCRYPTION_KEY was not stored: this system offers no protected storage (Electron safeStorage is unavailable); set CONFIG_ENCRYPTION_KEY in the environment for each run instead.',
    };
  }
  if (backend === 'unknown') {
    return {
      allowed: false,
      reason:
        'CONFIG_ENCRYPTION_KEY was not stored: the system key store is not ready yet (safeStorage backend unknown); try again once the console has started.',
    };
  }
  if (backend === 'basic_text') {
    if (!optIn) {
      return {
        allowed: false,
        reason: `CONFIG_ENCRYPTION_KEY was not stored: no keyring (GNOME Keyring or KWallet) is running, so it would be protected only by a password built into Electron, which is as good as plain text; start a keyring and try again, or opt in with ${PLAINTEXT_OPT_IN_ENV}=1 (or ${PLAINTEXT_OPT_IN_FLAG}) if this disk is protected otherwise.`,
      };
    }
    return {
      allowed: true,
      warning: `CONFIG_ENCRYPTION_KEY is stored with Linux's plain-text backend because ${PLAINTEXT_OPT_IN_ENV} / ${PLAINTEXT_OPT_IN_FLAG} allowed it: anyone who can read the file can read the key.`,
    };
  }
  return { allowed: true, warning: null };
}

/** Whether the admin opted in to Linux's plain-text backend (the flag or the variable set to 1). */
export function plaintextOptIn(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): boolean {
  return argv.includes(PLAINTEXT_OPT_IN_FLAG) || env[PLAINTEXT_OPT_IN_ENV] === '1';
}

/** The parts of Electron's safeStorage the key store uses. */
export type KeyStoreSafeStorage = Pick<
  SafeStorage,
  | 'isAsyncEncryptionAvailable'
  | 'encryptStringAsync'
  | 'decryptStringAsync'
  | 'getSelectedStorageBackend'
>;

/** What the key store needs from the running app. */
export interface KeyStoreDeps {
  safeStorage: KeyStoreSafeStorage;
  /** app.getPath('userData'). */
  dir: string;
  platform: NodeJS.Platform;
}

/** The backend safeStorage uses on Linux, or null on macOS and Windows. */
export function storageBackend(
  deps: Pick<KeyStoreDeps, 'safeStorage' | 'platform'>,
): StorageBackend | null {
  return deps.platform === 'linux' ? deps.safeStorage.getSelectedStorageBackend() : null;
}

/** The file's contents: the ciphertext and the backend that made it. */
interface KeyFile {
  format: 'strata-key-store';
  version: 1;
  backend: StorageBackend | null;
  ciphertext: string;
}

/** Outcome of storing the key. */
export type StoreKeyResult =
  { stored: true; warning: string | null } | { stored: false; reason: string };

/** The desktop key store over one userData folder. */
export interface KeyStore {
  /** Where the encrypted key lives. */
  readonly path: string;
  /** The backend safeStorage uses (null on macOS and Windows). */
  backend(): StorageBackend | null;
  /** Encrypts and stores a key (checked first), unless the decision refuses. */
  store(key: string, optIn: boolean): Promise<StoreKeyResult>;
  /** The stored key, or null when none is stored; throws a clear Error when it cannot be read. */
  load(): Promise<string | null>;
  /** Removes the stored key; true when there was one. */
  forget(): boolean;
}

/** The key store of the desktop app. */
export function createKeyStore(deps: KeyStoreDeps): KeyStore {
  const path = join(deps.dir, KEY_STORE_FILE);
  const backend = (): StorageBackend | null => storageBackend(deps);
  return {
    path,
    backend,
    async store(key, optIn) {
      // A malformed key is refused before anything is written (decodeKey never echoes it).
      decodeKey(key, KEY_ENV);
      const which = backend();
      const decision = keyStorageDecision(
        which,
        optIn,
        await deps.safeStorage.isAsyncEncryptionAvailable(),
      );
      if (!decision.allowed) return { stored: false, reason: decision.reason };
      const sealed = await deps.safeStorage.encryptStringAsync(key.trim());
      const file: KeyFile = {
        format: 'strata-key-store',
        version: 1,
        backend: which,
        ciphertext: sealed.toString('base64'),
      };
      // Written beside the target and renamed over it, so a crash never leaves half a file.
      writePrivateFile(path, `${JSON.stringify(file)}\n`);
      return { stored: true, warning: decision.warning };
    },
    async load() {
      if (!existsSync(path)) return null;
      const file = readJsonFile<Partial<KeyFile>>(
        path,
        () =>
          new Error(
            `The stored encryption key at ${path} is damaged; remove it with ${FORGET_KEY_FLAG} and store it again with ${REMEMBER_KEY_FLAG}.`,
          ),
      );
      if (
        file.format !== 'strata-key-store' ||
        file.version !== 1 ||
        typeof file.ciphertext !== 'string'
      ) {
        throw new Error(
          `${path} is not a Strata key store file this version understands; remove it with ${FORGET_KEY_FLAG}.`,
        );
      }
      let key: string;
      try {
        key = (await deps.safeStorage.decryptStringAsync(Buffer.from(file.ciphertext, 'base64')))
          .result;
      } catch {
        throw new Error(
          `The stored encryption key could not be decrypted by this system's key store (another user, machine or keyring?); set ${KEY_ENV} and start with ${REMEMBER_KEY_FLAG} to store it again.`,
        );
      }
      decodeKey(key, KEY_ENV);
      return key;
    },
    forget() {
      if (!existsSync(path)) return false;
      rmSync(path, { force: true });
      return true;
    },
  };
}

/** Options for keyEnvironment. */
export interface KeyEnvironmentOptions {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  /** One sentence per event (stored, refused, loaded); never the key. */
  log: (line: string) => void;
}

/**
 * The environment the console's service should see: CONFIG_ENCRYPTION_KEY from the process
 * environment when set (stored first with --remember-key), else the stored key, else none (the
 * service then says secrets need a key). --forget-key removes the stored key first. The key is
 * put in the returned object only, never in process.env, so child processes do not inherit it.
 */
export async function keyEnvironment(
  store: KeyStore,
  opts: KeyEnvironmentOptions,
): Promise<Record<string, string | undefined>> {
  const { argv, env, log } = opts;
  const optIn = plaintextOptIn(argv, env);
  if (argv.includes(FORGET_KEY_FLAG)) {
    log(store.forget() ? `Removed the stored ${KEY_ENV}.` : `No ${KEY_ENV} was stored.`);
  }
  const given = env[KEY_ENV]?.trim() ?? '';
  if (given !== '') {
    if (argv.includes(REMEMBER_KEY_FLAG)) {
      try {
        const result = await store.store(given, optIn);
        if (result.stored) {
          log(`Stored ${KEY_ENV} for later runs in ${store.path}.`);
          if (result.warning) log(result.warning);
        } else {
          log(result.reason);
        }
      } catch (error) {
        log(error instanceof Error ? error.message : `${KEY_ENV} was not stored.`);
      }
    }
    return env;
  }
  if (argv.includes(REMEMBER_KEY_FLAG)) {
    log(`${REMEMBER_KEY_FLAG} stores the ${KEY_ENV} of the environment, and none is set.`);
  }
  try {
    const stored = await store.load();
    return stored === null ? env : { ...env, [KEY_ENV]: stored };
  } catch (error) {
    log(error instanceof Error ? error.message : `The stored ${KEY_ENV} could not be read.`);
    return env;
  }
}
