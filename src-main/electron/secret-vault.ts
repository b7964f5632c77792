/**
 * The desktop console's password vault for connection profiles: each password encrypted with
 * Electron's safeStorage (Keychain, DPAPI, the Secret Service or KWallet) and kept as ciphertext
 * in its own file in userData, apart from the profiles themselves. Where safeStorage would only
 * obfuscate (Linux without a keyring: 'basic_text') or is unavailable, the same refusal as the
 * encryption key store applies (key-store.ts): passwords are then kept in memory for the session,
 * and the console says so.
 *
 * Imports only Electron's types, so it runs under plain Node in tests as well.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryVault, type SecretVault } from '../services/connection-profiles.js';
import { readJsonFile, writePrivateFile } from '../services/private-file.js';
import {
  PLAINTEXT_OPT_IN_ENV,
  PLAINTEXT_OPT_IN_FLAG,
  keyStorageDecision,
  storageBackend,
  type KeyStoreSafeStorage,
  type StorageBackend,
} from './key-store.js';

/** File (in userData) holding the encrypted passwords. */
export const VAULT_FILE = 'connection-secrets.json';

interface VaultFile {
  format: 'strata-connection-secrets';
  version: 1;
  backend: StorageBackend | null;
  /** Profile id -> base64 ciphertext. */
  secrets: Record<string, string>;
}

/** What the vault needs from the running app. */
export interface SafeStorageVaultDeps {
  safeStorage: KeyStoreSafeStorage;
  /** app.getPath('userData'). */
  dir: string;
  platform: NodeJS.Platform;
  /** The admin allowed Linux's plain-text backend (the same opt-in as the key store). */
  optIn: boolean;
}

class SafeStorageVault implements SecretVault {
  readonly persistent = true;
  readonly note: string;
  readonly path: string;

  constructor(
    private readonly deps: SafeStorageVaultDeps,
    private readonly backend: StorageBackend | null,
    warning: string | null,
  ) {
    this.path = join(deps.dir, VAULT_FILE);
    this.note = warning
      ? `Password stored with Linux's plain-text backend because ${PLAINTEXT_OPT_IN_ENV} / ${PLAINTEXT_OPT_IN_FLAG} allowed it: anyone who can read ${VAULT_FILE} can read it.`
      : 'Password kept encrypted with the system key store (never in the profiles file).';
  }

  private read(): VaultFile {
    const empty: VaultFile = {
      format: 'strata-connection-secrets',
      version: 1,
      backend: this.backend,
      secrets: {},
    };
    if (!existsSync(this.path)) return empty;
    const doc = readJsonFile<Partial<VaultFile>>(
      this.path,
      () =>
        new Error(
          `The saved connection passwords at ${this.path} are damaged; remove the file and enter the passwords again.`,
        ),
    );
    if (
      doc.format !== 'strata-connection-secrets' ||
      doc.version !== 1 ||
      typeof doc.secrets !== 'object' ||
      doc.secrets === null
    ) {
      throw new Error(`${this.path} is not a Strata password file this version understands.`);
    }
    return { ...empty, secrets: { ...doc.secrets } };
  }

  private write(doc: VaultFile): void {
    writePrivateFile(this.path, `${JSON.stringify(doc)}\n`);
  }

  async get(id: string): Promise<string | null> {
    const sealed = this.read().secrets[id];
    if (typeof sealed !== 'string') return null;
    try {
      return (await this.deps.safeStorage.decryptStringAsync(Buffer.from(sealed, 'base64'))).result;
    } catch {
      // Sealed by another user, machine or keyring: ask for the password again.
      return null;
    }
  }

  async set(id: string, secret: string): Promise<void> {
    const sealed = await this.deps.safeStorage.encryptStringAsync(secret);
    const doc = this.read();
    doc.secrets[id] = sealed.toString('base64');
    this.write(doc);
  }

  delete(id: string): Promise<void> {
    const doc = this.read();
    if (id in doc.secrets) {
      delete doc.secrets[id];
      this.write(doc);
    }
    return Promise.resolve();
  }
}

/**
 * The vault of the desktop app: safeStorage when it really protects the passwords, otherwise a
 * session-only memory vault whose note says why.
 */
export async function createSecretVault(deps: SafeStorageVaultDeps): Promise<SecretVault> {
  const backend = storageBackend(deps);
  const decision = keyStorageDecision(
    backend,
    deps.optIn,
    await deps.safeStorage.isAsyncEncryptionAvailable(),
  );
  if (!decision.allowed) {
    const why =
      backend === 'basic_text'
        ? `no keyring (GNOME Keyring or KWallet) is running; start one, or opt in with ${PLAINTEXT_OPT_IN_ENV}=1 (or ${PLAINTEXT_OPT_IN_FLAG})`
        : 'this system offers no protected storage';
    return new MemoryVault(
      `Password kept for this session only: ${why}, so it is never written to disk.`,
    );
  }
  return new SafeStorageVault(deps, backend, decision.warning);
}
