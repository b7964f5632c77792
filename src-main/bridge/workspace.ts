/**
 * Which workspace a console opens: `--db`, else STRATA_DB, else a local demo workspace
 * (`.strata-local/demo.sqlite` in the user's data folder, or the working folder when there is no
 * usable home) that is created with the demo hospital network on first use. Shared by
 * `strata serve`, `npm start` and the Electron main process.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadDemo, type DemoSummary } from '../demo/load-demo.js';
import { hospitalNetwork } from '../demo/hospital-network.js';
import { openService } from '../services/config-service.js';
import type { ConfigService } from '../services/types.js';

/** Options for openWorkspace. */
export interface OpenWorkspaceOptions {
  db?: string | null;
  operator?: string | null;
  env?: Record<string, string | undefined>;
  /** Folder for the default demo workspace (overrides the user data folder). */
  dataDir?: string | null;
}

/** An opened workspace. */
export interface OpenedWorkspace {
  service: ConfigService;
  /** The target actually opened (a URL or a file path). */
  db: string;
  /** True when this is the default local demo workspace. */
  isDefaultDemo: boolean;
  /** Set when the demo was loaded just now. */
  demo: DemoSummary | null;
}

/** The per-user data folder for Strata (platform conventions), or null without a home. */
export function userDataDir(env: Record<string, string | undefined> = process.env): string | null {
  if (env.STRATA_HOME) return env.STRATA_HOME;
  let home: string;
  try {
    home = homedir();
  } catch {
    return null;
  }
  if (!home) return null;
  if (process.platform === 'win32')
    return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'strata');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'strata');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'strata');
}

/** Path of the default demo workspace. */
export function defaultDemoPath(dataDir?: string | null, env = process.env): string {
  const base = dataDir ?? userDataDir(env) ?? process.cwd();
  return join(base, '.strata-local', 'demo.sqlite');
}

/** The demo network's super admin, who the local demo console acts as unless told otherwise. */
export function demoOperator(): string | null {
  return (
    hospitalNetwork().directory.users.find((u) => u.traits.includes('super_admin'))?.id ?? null
  );
}

/** Opens the workspace named by options/env, creating the local demo when nothing is named. */
export async function openWorkspace(opts: OpenWorkspaceOptions = {}): Promise<OpenedWorkspace> {
  const env = opts.env ?? process.env;
  const named = opts.db?.trim() || env.STRATA_DB?.trim() || '';
  const operator = opts.operator ?? env.STRATA_OPERATOR ?? null;
  if (named) {
    const service = await openService({ db: named, operator, env });
    return { service, db: named, isDefaultDemo: false, demo: null };
  }
  const db = defaultDemoPath(opts.dataDir, env);
  let demo: DemoSummary | null = null;
  if (!existsSync(db)) {
    mkdirSync(join(db, '..'), { recursive: true, mode: 0o700 });
    demo = await loadDemo(db, { env });
  }
  const service = await openService({ db, operator: operator ?? demoOperator(), env });
  return { service, db, isDefaultDemo: true, demo };
}
