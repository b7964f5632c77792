/**
 * Connections against real databases: a connection test's verdicts (OK with schema version and
 * rights, authentication failed, not migrated, unreachable, missing file) on the run's real
 * PostgreSQL server and real SQLite files, and the Connections channels of the handler table
 * switching a served workspace from a SQLite demo to PostgreSQL and back (old workspace closed,
 * `workspace-changed` sent, production only when confirmed), with the password never in an
 * answer, an event or a file.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type ServiceBridge } from '../../src-main/bridge/server.js';
import { createClient, createHttpTransport } from '../../src-main/contract/client.js';
import type { StrataEvent } from '../../src-main/contract/contract.js';
import { MemoryVault, testConnection } from '../../src-main/services/connection-profiles.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import { openPostgresDemo, openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';
import { allBytes } from '../helpers/files.js';

const temp = tempDir('strata-connections-');
let pgUrl: string;
let pgService: ConfigService;
let password: string;
let target: string;
let draftFile: string;
let draftEnv: Record<string, string | undefined>;

beforeAll(async () => {
  const opened = await openPostgresDemo();
  pgUrl = opened.db;
  pgService = opened.service;
  const u = new URL(pgUrl);
  password = decodeURIComponent(u.password);
  u.password = '';
  u.username = '';
  target = u.toString();
  const draft = await openSqliteDemo(temp.dir);
  draftFile = draft.db;
  draftEnv = draft.env;
  await draft.service.close();
}, 120_000);

afterAll(async () => {
  await pgService?.close();
  await dropTestDatabases();
  temp.cleanup();
});

describe('testConnection', () => {
  it('connects, reads the schema version and says what the operator may do', async () => {
    const result = await testConnection(
      { kind: 'postgres', target, user: 'postgres', operator: null },
      { password },
    );
    expect(result).toMatchObject({ ok: true, status: 'ok', canWrite: true });
    expect(result.schemaVersion).toMatch(/^\d{4}_/);
    expect(result.traits).toContain('super_admin');
    expect(result.message).toMatch(
      /^Connected to postgres:\/\/postgres@127\.0\.0\.1:\d+\/.* \(schema \d{4}_.*\) as postgres, who may change configuration/,
    );
    expect(result.message).not.toContain(password);
  });

  it('acts as a named directory user, with their rights', async () => {
    const result = await testConnection(
      { kind: 'postgres', target, user: 'postgres', operator: 'user123' },
      { password },
    );
    expect(result).toMatchObject({ ok: true, operator: 'user123', canWrite: false });
    expect(result.message).toMatch(/ as user123, who may only read\.$/);
    // admin_capable and config_write, but no admin trait: checkWrite allows no target.
    const ivan = await testConnection(
      { kind: 'postgres', target, user: 'postgres', operator: 'it_ivan' },
      { password },
    );
    expect(ivan).toMatchObject({ ok: true, canWrite: false });
    expect(ivan.message).toMatch(
      / as it_ivan, who may only read \(admin_capable, config_write\)\.$/,
    );
    const deptAdmin = await testConnection(
      { kind: 'postgres', target, user: 'postgres', operator: 'medical_admin' },
      { password },
    );
    expect(deptAdmin).toMatchObject({ ok: true, canWrite: true });
    expect(deptAdmin.message).toContain(
      'as medical_admin, who may change configuration of department mercy_hospital/medical (',
    );
    const unknown = await testConnection(
      { kind: 'postgres', target, user: 'postgres', operator: 'nobody_here' },
      { password },
    );
    expect(unknown).toMatchObject({ ok: false, status: 'no_operator' });
  });

  it('says authentication failed for a wrong password, without echoing it', async () => {
    const result = await testConnection(
      { kind: 'postgres', target, user: 'postgres', operator: null },
      { password: 'Wrong-Pa55word' },
    );
    expect(result).toMatchObject({ ok: false, status: 'auth_failed' });
    expect(result.message).toMatch(/authentication failed; check the user and password\.$/);
    expect(result.message).not.toContain('Wrong-Pa55word');
  });

  it('says a database is not migrated', async () => {
    const fresh = new URL(await createTestDatabase('strata_conn_fresh'));
    const result = await testConnection(
      {
        kind: 'postgres',
        target: `postgres://${fresh.host}${fresh.pathname}`,
        user: 'postgres',
        operator: null,
      },
      { password },
    );
    expect(result).toMatchObject({ ok: false, status: 'not_migrated', schemaVersion: null });
    expect(result.message).toMatch(/is not migrated .*strata db migrate/);
  });

  it('says a server is unreachable and a draft file is missing', async () => {
    const down = await testConnection(
      {
        kind: 'postgres',
        target: 'postgres://127.0.0.1:1/strata',
        user: 'postgres',
        operator: null,
      },
      { password: 'x' },
    );
    expect(down).toMatchObject({ ok: false, status: 'unreachable' });
    expect(down.message).toMatch(/refused the connection/);
    const missing = await testConnection(
      { kind: 'draft', target: join(temp.dir, 'nope.sqlite'), user: null, operator: null },
      { password: null },
    );
    expect(missing).toMatchObject({ ok: false, status: 'missing_file' });
    expect(missing.message).toMatch(/nope\.sqlite does not exist\.$/);
    const ok = await testConnection(
      { kind: 'draft', target: draftFile, user: null, operator: 'superadmin' },
      { password: null },
    );
    expect(ok).toMatchObject({ ok: true, status: 'ok', operator: 'superadmin' });
  });
});

describe('switching the served workspace', () => {
  let bridge: ServiceBridge;
  let dataDir: string;
  const events: StrataEvent[] = [];
  let stop: () => void = () => undefined;

  beforeAll(async () => {
    dataDir = join(temp.dir, 'data');
    const start = await openSqliteDemo(temp.dir);
    bridge = await startBridgeForService(start.service, {
      live: false,
      name: 'Start demo',
      connections: { dataDir, vault: new MemoryVault(), operator: 'superadmin', env: draftEnv },
    });
    const client = createClient(
      createHttpTransport({ baseUrl: bridge.origin, token: bridge.token, retryMs: 50 }),
    );
    stop = client.onEvent((e) => events.push(e));
  });

  afterAll(async () => {
    stop();
    await bridge?.close();
  });

  it('lists, saves, tests and opens profiles; the old workspace is closed', async () => {
    const h = bridge.host.handlers;
    const started = bridge.host.service;
    const list = await h['connections:list']({});
    expect(list).toMatchObject({
      ok: true,
      data: {
        profiles: [],
        vault: { persistent: false },
        current: { profileId: null, name: 'Start demo', kind: 'draft' },
      },
    });
    const saved = await h['connections:save']({
      name: 'Hospital production',
      kind: 'postgres',
      environment: 'production',
      target: `postgres://postgres:${encodeURIComponent(password)}@${new URL(target).host}${new URL(target).pathname}`,
      operator: 'superadmin',
    });
    if (!saved.ok) throw new Error(saved.error.message);
    expect(saved.data).toMatchObject({ user: 'postgres', hasPassword: true, lastOpened: null });
    expect(saved.data.target).toBe(target);
    const tested = await h['connections:test']({ id: saved.data.id });
    expect(tested).toMatchObject({ ok: true, data: { ok: true, status: 'ok' } });
    const wrong = await h['connections:test']({ id: saved.data.id, password: 'Wrong-Pa55word' });
    expect(wrong).toMatchObject({ ok: true, data: { status: 'auth_failed' } });

    const refused = await h['connections:open']({ id: saved.data.id });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/production\) needs confirmation/);
    expect(bridge.host.service).toBe(started);

    const opened = await h['connections:open']({ id: saved.data.id, confirmed: true });
    expect(opened).toMatchObject({
      ok: true,
      data: {
        profileId: saved.data.id,
        name: 'Hospital production',
        kind: 'postgres',
        environment: 'production',
      },
    });
    const info = await h['workspace:info']({});
    expect(info).toMatchObject({
      ok: true,
      data: {
        kind: 'postgres',
        operator: 'superadmin',
        // The database carries no label; the profile's production label is reported.
        environment: 'production',
        connection: { profileId: saved.data.id, name: 'Hospital production' },
      },
    });
    // The starting SQLite workspace was closed.
    await expect(started.info()).rejects.toThrow();
    await expect.poll(() => events.some((e) => e.type === 'workspace-changed')).toBe(true);
    expect(await h['connections:delete']({ id: saved.data.id })).toMatchObject({
      ok: false,
      error: { message: 'That connection is open; open another one before deleting it.' },
    });

    // Back to a draft profile; the PostgreSQL service is closed in turn.
    const draft = await h['connections:save']({
      name: 'Demo draft',
      kind: 'draft',
      environment: 'development',
      target: draftFile,
      operator: 'superadmin',
    });
    if (!draft.ok) throw new Error(draft.error.message);
    const pgOpen = bridge.host.service;
    const back = await h['connections:open']({ id: draft.data.id });
    expect(back).toMatchObject({ ok: true, data: { kind: 'draft', environment: 'development' } });
    await expect(pgOpen.info()).rejects.toThrow();
    const current = await h['connections:current']({});
    expect(current).toMatchObject({ ok: true, data: { profileId: draft.data.id } });
    const after = await h['connections:list']({});
    if (!after.ok) throw new Error(after.error.message);
    expect(after.data.profiles.find((p) => p.id === saved.data.id)?.lastOpened).not.toBeNull();

    // The password is in no answer, no event and no file of the data folder.
    const answers = JSON.stringify([
      list,
      saved,
      tested,
      wrong,
      refused,
      opened,
      info,
      draft,
      back,
      after,
      events,
    ]);
    expect(answers).not.toContain(password);
    expect(allBytes(dataDir)).not.toContain(password);
  });

  it('refuses a wrong password on open and keeps serving the open workspace', async () => {
    const h = bridge.host.handlers;
    const before = bridge.host.service;
    const saved = await h['connections:save']({
      name: 'Staging (wrong password)',
      kind: 'postgres',
      environment: 'staging',
      target: `postgres://postgres@${new URL(target).host}${new URL(target).pathname}`,
      password: 'Wrong-Pa55word',
    });
    if (!saved.ok) throw new Error(saved.error.message);
    const open = await h['connections:open']({ id: saved.data.id });
    expect(open).toMatchObject({ ok: false });
    if (!open.ok) expect(open.error.message).toMatch(/authentication failed/);
    expect(bridge.host.service).toBe(before);
    expect(await h['workspace:info']({})).toMatchObject({ ok: true, data: { kind: 'draft' } });
  });

  it('refuses bad requests before any work', async () => {
    const h = bridge.host.handlers;
    expect(
      await h['connections:save']({
        name: 'x',
        kind: 'mysql',
        environment: 'staging',
        target: 'x',
      }),
    ).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await h['connections:open']({ id: 'missing' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await h['connections:test']({ id: 'x', extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid' },
    });
  });
});
