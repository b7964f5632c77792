/**
 * Canary in a draft: a production database is pulled into a draft workspace and a random secret
 * is staged in it through the real CLI (CONFIG_ENCRYPTION_KEY set). The canary must appear zero
 * times in plaintext (or base64, hex, UTF-16) in the draft's bytes (.sqlite, -wal, -shm), in the
 * stdout and stderr of resolve, effective, history, users, plan and diff, in the bridge's answers
 * on every contract channel called without reveal over the draft, and in the logs; it must
 * appear exactly in an explicit reveal, which the draft records in draft_reveals. A plaintext
 * control value staged the same way must be found by the same byte scan.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../src-main/contract/contract.js';
import { COMMANDS } from '../../src-main/cli/commands/index.js';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService, type StrataConfigService } from '../../src-main/services/config-service.js';
import { migratePostgres } from '../../src-main/store/migrations.js';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import { secretEnv, tempDir } from '../e2e/workspace-fixtures.js';
import {
  callBridge,
  channelRequests,
  count,
  leaks,
  newCanary,
  runCli,
  type CliRun,
  type NonRevealChannel,
} from './canary-support.js';

const CANARY = newCanary();
const CONTROL = newCanary('ctrl');
const SECRET_KEY = 'providers.phaxio.api_key';
const TENANT = 'mercy_hospital';

const hasCommand = (name: string): boolean => COMMANDS.some((c) => c.name === name);

describe('canary secret in a draft workspace', () => {
  const temp = tempDir('strata-canary-');
  let db: string;
  let draft: string;
  let env: Record<string, string | undefined>;
  const logs: string[] = [];
  const runs: CliRun[] = [];

  const draftBytes = (): Buffer =>
    Buffer.concat(
      [draft, `${draft}-wal`, `${draft}-shm`, `${draft}-journal`]
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f)),
    );

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[method].bind(console);
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logs.push(
          args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(' '),
        );
        original(...args);
      });
    }
    env = secretEnv();
    db = await createTestDatabase('strata_canary_draft');
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      await migratePostgres(c);
    } finally {
      await c.end();
    }
    await loadDemo(db, { env });
    draft = join(temp.dir, 'canary.sqlite');
    if (hasCommand('pull')) {
      const pulled = await runCli(['pull', db, draft], env);
      expect(pulled.code, pulled.err).toBe(0);
      runs.push(pulled);
    } else {
      await loadDemo(draft, { env });
    }
    const base = ['--db', draft, '--as', 'superadmin'];
    for (const argv of [
      ['set', SECRET_KEY, CANARY, '--level', 'tenant', '--scope', TENANT, '--reason', 'canary'],
      [
        'set',
        'smtp.auth_pass',
        CANARY,
        '--level',
        'user',
        '--scope',
        'user123',
        '--reason',
        'canary',
      ],
      [
        'set',
        'providers.sip.host',
        CONTROL,
        '--level',
        'user',
        '--scope',
        'user123',
        '--reason',
        'control',
      ],
    ]) {
      const run = await runCli([...argv, ...base], env);
      expect(run.code, run.err).toBe(0);
      runs.push(run);
    }
  });

  afterAll(async () => {
    await dropTestDatabases();
    temp.cleanup();
    vi.restoreAllMocks();
  });

  it('keeps the draft file free of it, while the staged control is there in plaintext', () => {
    const bytes = draftBytes();
    expect(bytes.length).toBeGreaterThan(4096);
    expect(leaks(bytes, CANARY)).toEqual([]);
    expect(bytes.includes(Buffer.from(CONTROL))).toBe(true);
  });

  it('never prints it from resolve, effective, history, users, plan or diff', async () => {
    const base = ['--db', draft, '--as', 'superadmin'];
    for (const argv of [
      ['resolve', SECRET_KEY, '--user', 'user123', ...base],
      ['resolve', SECRET_KEY, '--user', 'user123', '--json', ...base],
      ['resolve', 'smtp.auth_pass', '--user', 'user123', '--json', ...base],
      ['effective', '--user', 'user123', ...base],
      ['effective', '--user', 'user123', '--json', ...base],
      ['effective', '--user', 'user123', '--format', 'env', ...base],
      ['history', SECRET_KEY, ...base],
      ['history', SECRET_KEY, '--json', ...base],
      ['history', 'smtp.auth_pass', '--json', ...base],
      ['users', ...base],
      ['users', '--json', ...base],
    ]) {
      runs.push(await runCli(argv, env));
    }
    const lifecycle: string[][] = [];
    // --to names the source with its password (the draft records its URL without one).
    if (hasCommand('plan')) {
      lifecycle.push(['plan', draft, '--to', db], ['plan', draft, '--to', db, '--json']);
    }
    if (hasCommand('diff')) {
      lifecycle.push(
        ['diff', db, draft],
        ['diff', db, draft, '--json'],
        ['diff', `base:${draft}`, draft, '--json'],
      );
    }
    for (const argv of lifecycle) runs.push(await runCli(argv, env));
    for (const run of runs) {
      expect(run.code, `${run.argv.join(' ')}: ${run.err}`).toBe(0);
      expect(run.out.length, run.argv.join(' ')).toBeGreaterThan(0);
      expect(leaks(run.out, CANARY), `stdout of ${run.argv.join(' ')}`).toEqual([]);
      expect(leaks(run.err, CANARY), `stderr of ${run.argv.join(' ')}`).toEqual([]);
    }
    // The plan and diff did list the staged secret (masked) and the control in plaintext.
    for (const run of runs.filter((r) => r.argv[0] === 'plan' || r.argv[0] === 'diff')) {
      expect(run.out, run.argv.join(' ')).toContain(SECRET_KEY);
      expect(run.out, run.argv.join(' ')).toContain(CONTROL);
    }
    expect(leaks(draftBytes(), CANARY)).toEqual([]);
  });

  it('answers every contract channel without reveal over the draft without it', async () => {
    const service = (await openService({
      db: draft,
      operator: 'superadmin',
      env,
    })) as StrataConfigService;
    let bridge: Bridge | null = null;
    // draft:plan connects to the draft's source, recorded without its password; the driver
    // reads PGPASSWORD from the process environment.
    const previous = process.env.PGPASSWORD;
    process.env.PGPASSWORD = decodeURIComponent(new URL(db).password);
    try {
      bridge = await startBridgeForService(service, { log: (line) => logs.push(line) });
      const requests = channelRequests({
        canary: CANARY,
        secretKey: SECRET_KEY,
        tenant: TENANT,
        userId: 'user123',
        writeUser: 'dr_grey',
        now: new Date().toISOString(),
      });
      let answered = 0;
      let plan: { status: number; body: string } | undefined;
      for (const channel of CHANNELS) {
        if (channel === 'secret:reveal') continue;
        const answer = await callBridge(
          bridge.port,
          `/api/${channel}`,
          requests[channel as NonRevealChannel],
          bridge.token,
        );
        expect(leaks(answer.body, CANARY), `answer of ${channel}`).toEqual([]);
        if (answer.status === 200) answered++;
        if (channel === 'draft:plan') plan = answer;
      }
      expect(answered).toBeGreaterThan(20);
      expect(plan?.status, plan?.body.slice(0, 300)).toBe(200);
      expect(plan?.body).toContain(SECRET_KEY);
      const effective = await callBridge(
        bridge.port,
        '/api/config:effective',
        { context: { userId: 'user123' } },
        bridge.token,
      );
      expect(effective.body).toContain(CONTROL);

      // The explicit reveal shows it exactly, and is recorded before it is shown.
      const revealed = await callBridge(
        bridge.port,
        '/api/secret:reveal',
        { level: 'tenant', scope: TENANT, key: SECRET_KEY, reason: 'draft canary reveal' },
        bridge.token,
      );
      expect(JSON.parse(revealed.body)).toEqual({
        ok: true,
        data: { level: 'tenant', scope: TENANT, key: SECRET_KEY, value: CANARY },
      });
      expect(count(revealed.body, CANARY)).toBe(1);
      const [record] = await service.reveals({ key: SECRET_KEY });
      expect(record).toMatchObject({
        scope: TENANT,
        via: 'console',
        reason: 'draft canary reveal',
        revealedBy: 'superadmin',
      });
    } finally {
      if (previous === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = previous;
      await bridge?.close();
      await service.close();
    }
    expect(leaks(draftBytes(), CANARY)).toEqual([]);
  });

  it('shows it exactly with --reveal on the CLI, recorded in draft_reveals', async () => {
    const run = await runCli(
      [
        'resolve',
        'smtp.auth_pass',
        '--user',
        'user123',
        '--reveal',
        '--reason',
        'cli canary',
        '--json',
        '--db',
        draft,
        '--as',
        'superadmin',
      ],
      env,
    );
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out).value).toBe(CANARY);
    expect(count(run.out, CANARY)).toBe(2); // "value" and the winning link of "chain"
    const service = (await openService({
      db: draft,
      operator: 'superadmin',
      env,
    })) as StrataConfigService;
    try {
      const [latest] = await service.reveals();
      expect(latest).toMatchObject({
        key: 'smtp.auth_pass',
        scope: 'user123',
        via: 'cli',
        reason: 'cli canary',
      });
    } finally {
      await service.close();
    }
    expect(leaks(draftBytes(), CANARY)).toEqual([]);
  });

  it('writes no plaintext canary to the logs', () => {
    expect(logs.some((l) => /POST \/api\/config:effective 200/.test(l))).toBe(true);
    for (const line of logs) expect(leaks(line, CANARY), line).toEqual([]);
  });
});
