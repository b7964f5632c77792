/**
 * Canary on PostgreSQL: a random secret planted through the real service (CONFIG_ENCRYPTION_KEY
 * set) must appear zero times in plaintext (or base64, hex, UTF-16) in the database (every table
 * and every function's text, read with SQL because the installed pg_dump is older than the
 * server), in config_audit, in the server's data files and WAL when they are reachable, in the
 * CLI's stdout and stderr, in the bridge's answers on every contract channel called without
 * reveal, in its event stream and in the logs; and it must appear exactly, and recorded, in an
 * explicit reveal. A plaintext control value is planted the same way and must be found by the
 * same scans, so a scan that reads nothing cannot pass.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOKEN_HEADER } from '../../src-main/contract/client.js';
import { CHANNELS } from '../../src-main/contract/contract.js';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService, type StrataConfigService } from '../../src-main/services/config-service.js';
import { migratePostgres } from '../../src-main/store/migrations.js';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import { secretEnv } from '../e2e/workspace-fixtures.js';
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

describe('canary secret on PostgreSQL', () => {
  let db: string;
  let env: Record<string, string | undefined>;
  let service: StrataConfigService;
  let bridge: Bridge;
  const logs: string[] = [];
  const events: string[] = [];
  const answers = new Map<string, { status: number; body: string }>();
  let stopEvents: (() => void) | null = null;

  const query = async <T extends pg.QueryResultRow>(sql: string, values?: unknown[]) => {
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      return (await c.query<T>(sql, values)).rows;
    } finally {
      await c.end();
    }
  };

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
    db = await createTestDatabase('strata_canary');
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      await migratePostgres(c);
    } finally {
      await c.end();
    }
    await loadDemo(db, { env });
    service = await openService({ db, operator: 'superadmin', env });
    // The canary: a secret by name (api_key) and a secret by metadata only (smtp.auth_pass).
    await service.set({
      level: 'tenant',
      scope: TENANT,
      key: SECRET_KEY,
      value: CANARY,
      reason: 'plant canary',
    });
    await service.set({
      level: 'user',
      scope: 'user123',
      key: 'smtp.auth_pass',
      value: CANARY,
      reason: 'plant canary',
    });
    // The control: the same way, but not a secret, so it is stored as it is.
    await service.set({
      level: 'user',
      scope: 'user123',
      key: 'providers.sip.host',
      value: CONTROL,
      reason: 'plant control',
    });
    bridge = await startBridgeForService(service, { log: (line) => logs.push(line) });
  });

  afterAll(async () => {
    stopEvents?.();
    await bridge?.close();
    await service?.close();
    await dropTestDatabases();
    vi.restoreAllMocks();
  });

  it('stores it only as a ciphertext envelope, masked on every plain read', async () => {
    const stored = service.index.get({ level: 'tenant', scope: TENANT, key: SECRET_KEY })!;
    expect(stored.encrypted).toBe(true);
    expect(stored.value).toMatch(/^enc:v1:/);
    expect(leaks(stored.value, CANARY)).toEqual([]);
    const r = await service.resolve(SECRET_KEY, { userId: 'user123' });
    expect(r.value).not.toBe(CANARY);
    expect(leaks(JSON.stringify(r), CANARY)).toEqual([]);
  });

  it('never prints it on the CLI without --reveal', async () => {
    const base = ['--db', db, '--as', 'superadmin'];
    const runs: CliRun[] = [];
    for (const argv of [
      ['resolve', SECRET_KEY, '--user', 'user123'],
      ['resolve', SECRET_KEY, '--user', 'user123', '--json'],
      ['resolve', 'smtp.auth_pass', '--user', 'user123', '--json'],
      ['resolve', SECRET_KEY, '--tenant', TENANT],
      ['effective', '--user', 'user123'],
      ['effective', '--user', 'user123', '--json'],
      ['effective', '--user', 'user123', '--format', 'env'],
      ['effective', '--tenant', TENANT, '--department', 'medical'],
      ['history', SECRET_KEY],
      ['history', SECRET_KEY, '--json'],
      ['history', 'smtp.auth_pass', '--json'],
      ['history', '--directory'],
      ['history', '--directory', '--json'],
      ['users'],
      ['users', '--json'],
      ['export-env', '--user', 'user123'],
      ['export-env', '--user', 'user123', '--json'],
      ['lint', '--json'],
    ]) {
      runs.push(await runCli([...argv, ...base], env));
    }
    // A secret given on the command line is echoed masked.
    runs.push(
      await runCli(
        [
          'set',
          SECRET_KEY,
          CANARY,
          '--level',
          'tenant',
          '--scope',
          'general_hospital',
          '--reason',
          'cli canary',
          ...base,
        ],
        env,
      ),
    );
    for (const run of runs) {
      // lint exits 2 when it finds rule violations (the demo network has some).
      const ok = run.argv[0] === 'lint' ? [0, 2] : [0];
      expect(ok, `${run.argv.join(' ')}: ${run.err}`).toContain(run.code);
      expect(run.out.length, run.argv.join(' ')).toBeGreaterThan(0);
      expect(leaks(run.out, CANARY), `stdout of ${run.argv.join(' ')}`).toEqual([]);
      expect(leaks(run.err, CANARY), `stderr of ${run.argv.join(' ')}`).toEqual([]);
    }
    // The outputs did show the secret slots (masked) and the control value.
    expect(runs[1]!.out).toContain('"level": "tenant"');
    expect(runs[5]!.out).toContain(CONTROL);
    expect(runs[9]!.out).toContain('secret:fp=');
  });

  it('answers every contract channel without reveal without it, events included', async () => {
    const controller = new AbortController();
    const stream = fetch(`${bridge.origin}/api/events`, {
      headers: { [TOKEN_HEADER]: bridge.token },
      signal: controller.signal,
    }).then(async (res) => {
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        events.push(decoder.decode(value));
      }
    });
    stopEvents = () => controller.abort();
    void stream.catch(() => undefined);

    const requests = channelRequests({
      canary: CANARY,
      secretKey: SECRET_KEY,
      tenant: TENANT,
      userId: 'user123',
      writeUser: 'dr_grey',
      now: new Date().toISOString(),
    });
    const names = Object.keys(requests).sort();
    expect(names).toEqual(CHANNELS.filter((c) => c !== 'secret:reveal').sort());
    for (const channel of CHANNELS) {
      if (channel === 'secret:reveal') continue;
      const answer = await callBridge(
        bridge.port,
        `/api/${channel}`,
        requests[channel as NonRevealChannel],
        bridge.token,
      );
      answers.set(channel, answer);
      expect(leaks(answer.body, CANARY), `answer of ${channel}`).toEqual([]);
    }
    // The channels that read or write configuration answered for real (not only with errors).
    for (const channel of [
      'workspace:info',
      'config:resolve',
      'config:effective',
      'config:entries',
      'config:slot',
      'config:set',
      'config:unset',
      'audit:list',
      'template:preview',
      'template:save',
      'bulk:set',
      'env:preview',
      'env:stage',
      'env:export',
      'env:attachLegacy',
      'impact:preview',
      'history:at',
    ]) {
      expect(
        answers.get(channel)?.status,
        `${channel}: ${answers.get(channel)?.body.slice(0, 300)}`,
      ).toBe(200);
    }
    expect(answers.get('config:effective')!.body).toContain(CONTROL);
    await new Promise((r) => setTimeout(r, 200));
    expect(events.join('')).toContain('config-changed');
    expect(leaks(events.join(''), CANARY)).toEqual([]);
  });

  it('holds no plaintext canary in any table, function, view, trigger, setting or comment', async () => {
    const tables = await query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%'`,
    );
    expect(tables.map((t) => t.t)).toEqual(
      expect.arrayContaining([
        'public.config_tenant',
        'public.config_audit',
        'public.config_reveals',
        'public.config_templates',
      ]),
    );
    const texts: Array<{ where: string; text: string }> = [];
    for (const { t } of tables) {
      const rows = await query<{ row: string }>(`SELECT x::text AS row FROM ${t} x`);
      texts.push({ where: t, text: rows.map((r) => r.row).join('\n') });
    }
    const fns = await query<{ f: string; def: string }>(
      `SELECT p.oid::regprocedure::text AS f, pg_get_functiondef(p.oid) AS def
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')`,
    );
    expect(fns.length).toBeGreaterThan(20);
    for (const f of fns) texts.push({ where: `function ${f.f}`, text: f.def });
    for (const [label, sql] of [
      [
        'views',
        `SELECT string_agg(definition, E'\\n') AS t FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
      ],
      [
        'triggers',
        `SELECT string_agg(pg_get_triggerdef(oid), E'\\n') AS t FROM pg_trigger WHERE NOT tgisinternal`,
      ],
      [
        'policies',
        `SELECT string_agg(coalesce(qual, '') || coalesce(with_check, ''), E'\\n') AS t FROM pg_policies`,
      ],
      [
        'settings',
        `SELECT string_agg(array_to_string(setconfig, ','), E'\\n') AS t FROM pg_db_role_setting`,
      ],
      ['comments', `SELECT string_agg(description, E'\\n') AS t FROM pg_description`],
      [
        'large objects',
        `SELECT string_agg(encode(data, 'escape'), E'\\n') AS t FROM pg_largeobject`,
      ],
      ['sessions', `SELECT string_agg(coalesce(query, ''), E'\\n') AS t FROM pg_stat_activity`],
    ] as const) {
      const [row] = await query<{ t: string | null }>(sql);
      texts.push({ where: label, text: row?.t ?? '' });
    }
    for (const { where, text } of texts) expect(leaks(text, CANARY), where).toEqual([]);
    // The same scan finds the plaintext control, in the config table and in the audit trail.
    const all = texts.map((t) => t.text).join('\n');
    expect(count(all, CONTROL)).toBeGreaterThan(1);
    const audit = texts.find((t) => t.where === 'public.config_audit')!.text;
    expect(audit).toContain(CONTROL);
    const planted = await query<{ new_value: string; reason: string }>(
      `SELECT new_value, reason FROM config_audit WHERE key = $1 AND config_id = $2 ORDER BY seq DESC LIMIT 1`,
      [SECRET_KEY, TENANT],
    );
    expect(planted[0]!.new_value).toMatch(/^secret:fp=[0-9a-f]{16}$/);
  });

  it('leaves no plaintext canary in the server’s data files and WAL (when reachable)', async () => {
    const [{ dir }] = await query<{ dir: string }>(
      `SELECT current_setting('data_directory') AS dir`,
    );
    const [{ oid }] = await query<{ oid: string }>(
      `SELECT oid::text FROM pg_database WHERE datname = current_database()`,
    );
    await query('CHECKPOINT');
    if (!existsSync(dir!)) return; // A server on another machine (STRATA_TEST_PG): SQL checks only.
    const files: string[] = [];
    const walk = (d: string): void => {
      if (!existsSync(d)) return;
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) files.push(p);
      }
    };
    for (const sub of [join('base', oid!), 'global', 'pg_wal', 'log', 'pg_log'])
      walk(join(dir!, sub));
    expect(files.length).toBeGreaterThan(10);
    let sawControl = false;
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(leaks(bytes, CANARY), f).toEqual([]);
      if (bytes.includes(Buffer.from(CONTROL))) sawControl = true;
    }
    expect(sawControl).toBe(true);
  });

  it('shows it exactly in an explicit reveal, and records the reveal', async () => {
    const before = await query<{ n: string }>('SELECT count(*)::text AS n FROM config_reveals');
    const revealed = await callBridge(
      bridge.port,
      '/api/secret:reveal',
      { level: 'tenant', scope: TENANT, key: SECRET_KEY, reason: 'canary reveal' },
      bridge.token,
    );
    expect(revealed.status).toBe(200);
    expect(JSON.parse(revealed.body)).toEqual({
      ok: true,
      data: { level: 'tenant', scope: TENANT, key: SECRET_KEY, value: CANARY },
    });
    expect(count(revealed.body, CANARY)).toBe(1);
    const cli = await runCli(
      [
        'resolve',
        'smtp.auth_pass',
        '--user',
        'user123',
        '--reveal',
        '--reason',
        'canary cli',
        '--json',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      env,
    );
    expect(cli.code, cli.err).toBe(0);
    expect(JSON.parse(cli.out).value).toBe(CANARY);
    const rows = await query<{
      key: string;
      scope: string;
      via: string;
      reason: string;
      revealed_by: string;
    }>(
      'SELECT key::text, scope, via::text, reason, revealed_by FROM config_reveals ORDER BY seq OFFSET $1',
      [Number(before[0]!.n)],
    );
    expect(rows).toEqual([
      {
        key: SECRET_KEY,
        scope: TENANT,
        via: 'console',
        reason: 'canary reveal',
        revealed_by: 'superadmin',
      },
      {
        key: 'smtp.auth_pass',
        scope: 'user123',
        via: 'cli',
        reason: 'canary cli',
        revealed_by: 'superadmin',
      },
    ]);
    // The reveal records hold no value.
    const [dump] = await query<{ t: string }>(
      `SELECT string_agg(r::text, E'\\n') AS t FROM config_reveals r`,
    );
    expect(leaks(dump!.t, CANARY)).toEqual([]);
  });

  it('writes no plaintext canary to the logs', () => {
    expect(logs.some((l) => /POST \/api\/config:set 200/.test(l))).toBe(true);
    for (const line of logs) expect(leaks(line, CANARY), line).toEqual([]);
  });
});
