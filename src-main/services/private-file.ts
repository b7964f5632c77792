/**
 * Small files only this user may read (connection profiles, the sealed encryption key, sealed
 * passwords): written beside the target and renamed over it, so a crash never leaves half a file,
 * and read back with one clear error when they cannot be parsed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `text` to `path` atomically with mode 0600, creating its folder (mode 0700) first. The
 * text goes to a fresh temporary file beside the target, which is renamed over it.
 */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    // The mode given to writeFileSync is narrowed by the umask; chmod sets it exactly.
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * The JSON in `path`, parsed but not checked (the caller checks its format and version); throws
 * `damaged()` when the file cannot be read or is not JSON.
 */
export function readJsonFile<T>(path: string, damaged: () => Error): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw damaged();
  }
}
