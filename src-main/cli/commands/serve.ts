/**
 * `strata serve [--db X] [--port N] [--as U]`: serves the console on 127.0.0.1 through the local
 * web bridge. The first stdout line is the URL to open (with `#token=...`); everything else goes
 * to stderr so scripts can read the URL with `head -1`.
 */
import { parseArgs } from 'node:util';
import { StrataError } from '../../core/types.js';
import { rendererDir } from '../../bridge/paths.js';
import { startBridgeForService, type Bridge } from '../../bridge/server.js';
import { openWorkspace, userDataDir } from '../../bridge/workspace.js';
import { MemoryVault } from '../../services/connection-profiles.js';
import type { CommandImpl } from '../command.js';

/** Global flags the CLI passes down (only the ones serve reads). */
export interface ServeGlobals {
  db?: string | null;
  as?: string | null;
  json?: boolean;
  help?: boolean;
}

/** Output sinks, replaceable in tests. */
export interface ServeIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Resolves when the server should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<void>;
  /** Called once the bridge is listening. */
  onReady?: (bridge: Bridge) => void;
}

/** Usage text. */
export const SERVE_USAGE = `Usage: strata serve [--db <postgres URL | .sqlite path>] [--port N] [--as <user id>]

Serves the Strata console on http://127.0.0.1 (loopback only). The first line printed is the URL
to open; it carries a per-run access token in its #fragment. Without --db or STRATA_DB a local
demo workspace is created and opened. Stop with Ctrl+C.`;

function stopOnSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Parses serve's own flags; a bad flag is a StrataError('invalid'). */
export function parseServeArgs(argv: readonly string[]): {
  db: string | null;
  port: number;
  as: string | null;
  help: boolean;
} {
  let values: { db?: string; port?: string; as?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        db: { type: 'string' },
        port: { type: 'string' },
        as: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : 'bad arguments';
    throw new StrataError('invalid', `strata serve: ${why}`);
  }
  let port = 0;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
      throw new StrataError('invalid', 'strata serve: --port must be a number from 0 to 65535.');
    }
    port = Number(values.port);
  }
  return { db: values.db ?? null, port, as: values.as ?? null, help: values.help ?? false };
}

/** Runs `strata serve`; resolves with the exit code once stopped. */
export async function serveCommand(
  argv: readonly string[],
  globals: ServeGlobals = {},
  io: ServeIo = {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  },
): Promise<number> {
  const args = parseServeArgs(argv);
  if (args.help || globals.help) {
    io.stdout(SERVE_USAGE);
    return 0;
  }
  const workspace = await openWorkspace({
    db: args.db ?? globals.db ?? null,
    operator: args.as ?? globals.as ?? null,
  });
  let bridge: Bridge;
  const dataDir = userDataDir();
  try {
    // Passwords typed in the browser console stay in this process's memory only.
    bridge = await startBridgeForService(workspace.service, {
      port: args.port,
      staticDir: rendererDir(),
      log: (line) => io.stderr(line),
      ...(workspace.isDefaultDemo ? { name: 'Local demo' } : {}),
      connections: dataDir
        ? {
            dataDir,
            vault: new MemoryVault(),
            operator: args.as ?? globals.as ?? null,
            env: process.env,
          }
        : null,
    });
  } catch (error) {
    await workspace.service.close();
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new StrataError('invalid', `strata serve: port ${args.port} is already in use.`);
    }
    throw error;
  }
  io.stdout(bridge.url);
  const info = await workspace.service.info();
  io.stderr(
    `Serving ${info.kind === 'postgres' ? 'live database' : 'draft workspace'} ${info.target}` +
      `${info.environment ? ` (${info.environment})` : ''} as ${info.operator}; Ctrl+C stops.`,
  );
  if (workspace.demo) {
    io.stderr(`Created the demo workspace at ${workspace.db}.`);
    if (workspace.demo.skippedSecrets > 0) {
      io.stderr(
        `${workspace.demo.skippedSecrets} demo secret(s) were left out: ${workspace.demo.skippedWhy ?? ''}`,
      );
    }
  }
  io.onReady?.(bridge);
  await (io.stopSignal ?? stopOnSignal());
  // With connection profiles the bridge owns (and closes) whichever workspace is open by now.
  await bridge.close();
  if (!dataDir) await workspace.service.close();
  return 0;
}

/** `strata serve` as an entry of the CLI's command table. */
export const command: CommandImpl = {
  usage: SERVE_USAGE,
  options: { port: { type: 'string' } },
  async run(args, globals, io) {
    const port = args.values.port;
    return serveCommand(
      typeof port === 'string' ? ['--port', port] : [],
      {
        db: globals.db,
        as: globals.as,
      },
      {
        stdout: (line) => io.stdout(`${line}\n`),
        stderr: (line) => io.stderr(`${line}\n`),
      },
    );
  },
};
