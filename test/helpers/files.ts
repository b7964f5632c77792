/**
 * File helpers shared by tests that prove a secret never reached the disk.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every byte of every file under a folder, as one string (to search for a password). */
export function allBytes(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)).toString('latin1'))
    .join('\n');
}
