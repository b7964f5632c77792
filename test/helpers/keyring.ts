/**
 * A stand-in for Electron's safeStorage that really encrypts: AES-256-GCM with a private key of
 * its own plays the OS keyring, and it reports the Linux backend it is given.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyStoreSafeStorage, StorageBackend } from '../../src-main/electron/key-store.js';

export function keyring(
  backend: StorageBackend = 'gnome_libsecret',
  available = true,
): KeyStoreSafeStorage {
  const secret = randomBytes(32);
  return {
    isAsyncEncryptionAvailable: async () => available,
    getSelectedStorageBackend: () => backend,
    encryptStringAsync: async (plain: string) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', secret, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptStringAsync: async (sealed: Buffer) => {
      const d = createDecipheriv('aes-256-gcm', secret, sealed.subarray(0, 12));
      d.setAuthTag(sealed.subarray(12, 28));
      const result = Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
      return { result, shouldReEncrypt: false };
    },
  };
}
