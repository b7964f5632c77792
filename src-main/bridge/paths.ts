/**
 * Locates the package root and the built console, whether running from src-main via tsx or from
 * dist/ after tsc (the two sit at different depths).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding Strata's package.json, searched upwards from this module. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'strata') {
          return dir;
        }
      } catch {
        // An unreadable manifest is not ours; keep climbing.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** The built console folder (dist-renderer) under the package root. */
export function rendererDir(root: string = packageRoot()): string {
  return join(root, 'dist-renderer');
}
