/**
 * Finds folders shipped beside the code (migrations/, templates/). The code runs from src-main
 * through tsx, from dist/ after tsc, and from an Electron bundle whose data files are
 * extraResources, so the location is searched for rather than assumed.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The first folder at or above this module that contains `relative`, or null. */
function findUpwards(relative: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * Absolute path of a shipped folder such as `migrations/postgres`. Looks upwards from this
 * module, then in Electron's resources folder.
 */
export function shippedPath(relative: string): string | null {
  const found = findUpwards(relative);
  if (found) return found;
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (typeof resourcesPath === 'string') {
    const candidate = resolve(resourcesPath, relative);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
