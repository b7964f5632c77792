/**
 * The local web bridge over a real SQLite demo workspace: loopback only, the token on every API
 * call, Host and Origin checks, no CORS, a strict CSP, error envelopes without echo, and the
 * event stream over fetch with the token header.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createHttpTransport, TOKEN_HEADER } from '../../src-main/contract/client.js';
import type { StrataEvent } from '../../src-main/contract/contract.js';
import { startBridgeForService, tokenMatches, type Bridge } from '../../src-main/bridge/server.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { defaultDemoPath, openWorkspace } from '../../src-main/bridge/workspace.js';
import { parseServeArgs, serveCommand } from '../../src-main/cli/commands/serve.js';
import { openSqliteDemo, secretEnv, tempDir } from '../e2e/workspace-fixtures.js';

const CANARY = 'CANARY_b1d93c';

/** A raw HTTP request (fetch would not let us forge Host). */
function raw(
  port: number,
  opts: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    host?: string;
  },
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

describe('web bridge', () => {
  const temp = tempDir();
  let service: ConfigService;
  let bridge: Bridge;
  let headers: Record<string, string>;

  beforeAll(async () => {
    ({ service } = await openSqliteDemo(temp.dir));
    const web = join(temp.dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Strata</title>');
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(web, '.secret'), 'hidden');
    writeFileSync(join(temp.dir, 'outside.txt'), 'outside');
    bridge = await startBridgeForService(service, { staticDir: web });
    headers = {
      host: `127.0.0.1:${bridge.port}`,
      'content-type': 'application/json',
      [TOKEN_HEADER]: bridge.token,
    };
  });

  afterAll(async () => {
    await bridge.close();
    await service.close();
    temp.cleanup();
  });

  it('prints a URL with a 32-byte token in the fragment only', () => {
    const url = new URL(bridge.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/');
    expect(url.search).toBe('');
    expect(url.hash).toBe(`#token=${bridge.token}`);
    expect(Buffer.from(bridge.token, 'base64url')).toHaveLength(32);
  });

  it('listens on the loopback interface only', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      await expect(
        raw(bridge.port, {
          host: external.address,
          path: '/',
          headers: { host: `127.0.0.1:${bridge.port}` },
        }),
      ).rejects.toThrow();
    }
    const ok = await raw(bridge.port, { path: '/', headers: { host: `localhost:${bridge.port}` } });
    expect(ok.status).toBe(200);
  });

  it('requires the token on every API call', async () => {
    for (const token of [undefined, '', 'x', `${bridge.token}x`, bridge.token.slice(1)]) {
      const h: Record<string, string> = { ...headers };
      if (token === undefined) delete h[TOKEN_HEADER];
      else h[TOKEN_HEADER] = token;
      const res = await raw(bridge.port, {
        method: 'POST',
        path: '/api/workspace:info',
        headers: h,
        body: '{}',
      });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({
        ok: false,
        error: {
          code: 'forbidden',
          message: 'Missing or wrong access token; open the URL printed at start.',
        },
      });
    }
    const events = await raw(bridge.port, {
      path: '/api/events',
      headers: { host: headers.host! },
    });
    expect(events.status).toBe(401);
    // The token is never accepted from the query string.
    const query = await raw(bridge.port, {
      path: `/api/events?token=${bridge.token}`,
      headers: { host: headers.host! },
    });
    expect(query.status).toBe(401);
    const ok = await raw(bridge.port, {
      method: 'POST',
      path: '/api/workspace:info',
      headers,
      body: '{}',
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).ok).toBe(true);
  });

  it('refuses other Host headers (DNS rebinding)', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${bridge.port}`,
      `127.0.0.1:${bridge.port + 1}`,
      `0.0.0.0:${bridge.port}`,
      `[::1]:${bridge.port}`,
      '127.0.0.1',
    ]) {
      const page = await raw(bridge.port, { path: '/', headers: { host } });
      expect(page.status, host).toBe(403);
      const api = await raw(bridge.port, {
        method: 'POST',
        path: '/api/workspace:info',
        headers: { ...headers, host },
        body: '{}',
      });
      expect(api.status, host).toBe(403);
      expect(api.body).not.toContain('"ok":true');
    }
  });

  it('refuses cross-origin calls and never answers CORS', async () => {
    const cross = await raw(bridge.port, {
      method: 'POST',
      path: '/api/workspace:info',
      headers: { ...headers, origin: 'https://evil.example' },
      body: '{}',
    });
    expect(cross.status).toBe(403);
    const preflight = await raw(bridge.port, {
      method: 'OPTIONS',
      path: '/api/workspace:info',
      headers: {
        host: headers.host!,
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
      },
    });
    expect(preflight.status).not.toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const same = await raw(bridge.port, {
      method: 'POST',
      path: '/api/workspace:info',
      headers: { ...headers, origin: `http://127.0.0.1:${bridge.port}` },
      body: '{}',
    });
    expect(same.status).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers bad payloads with an error envelope that does not echo them', async () => {
    const bodies = [
      `{"${CANARY}": 1}`,
      `{"key": "${CANARY}", "context": {"userId": 5}}`,
      `not json ${CANARY}`,
      JSON.stringify({ level: 'global', scope: '', key: 'ui.theme', value: CANARY.repeat(6000) }),
    ];
    for (const [i, body] of bodies.entries()) {
      const path =
        i === 3 ? '/api/config:set' : i === 0 ? '/api/workspace:info' : '/api/config:resolve';
      const res = await raw(bridge.port, { method: 'POST', path, headers, body });
      expect(res.status).toBe(400);
      const envelope = JSON.parse(res.body) as {
        ok: boolean;
        error: { code: string; message: string };
      };
      expect(envelope.ok).toBe(false);
      expect(envelope.error.code).toBe('invalid');
      expect(res.body).not.toContain(CANARY);
      expect(res.body).not.toMatch(/\bat .*\.ts:\d+/);
    }
    const unknown = await raw(bridge.port, {
      method: 'POST',
      path: `/api/${CANARY}`,
      headers,
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).not.toContain(CANARY);
    const wrongType = await raw(bridge.port, {
      method: 'POST',
      path: '/api/workspace:info',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    const huge = await raw(bridge.port, {
      method: 'POST',
      path: '/api/workspace:info',
      headers,
      body: `"${'x'.repeat(1_100_000)}"`,
    }).catch(() => ({ status: 413, body: '' }));
    expect(huge.status).toBe(413);
    const get = await raw(bridge.port, { path: '/api/workspace:info', headers });
    expect(get.status).toBe(405);
  });

  it('answers audit:directory: an unknown kind by name, and the draft refusal', async () => {
    const res = await raw(bridge.port, {
      method: 'POST',
      path: '/api/audit:directory',
      headers,
      body: JSON.stringify({ kind: CANARY }),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      ok: false,
      error: {
        code: 'invalid',
        message:
          "Invalid request for audit:directory: field 'kind' must be one of tenant, department, group, user, membership.",
      },
    });
    const client = createClient(
      createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }),
    );
    await expect(
      client.invoke('audit:directory', { ref: 'user123', limit: 10 }),
    ).rejects.toMatchObject({
      name: 'ClientError',
      code: 'invalid',
      message: expect.stringMatching(/^A draft keeps no directory history/) as unknown,
    });
  });

  it('serves the console with a strict CSP and refuses paths outside it', async () => {
    const page = await raw(bridge.port, { path: '/', headers: { host: headers.host! } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const asset = await raw(bridge.port, {
      path: '/assets/app.js',
      headers: { host: headers.host! },
    });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    for (const path of [
      '/../outside.txt',
      '/%2e%2e/outside.txt',
      '/.secret',
      '/assets/missing.js',
      '/%00',
    ]) {
      const res = await raw(bridge.port, { path, headers: { host: headers.host! } });
      expect(res.body, path).not.toContain('outside');
      expect(res.body, path).not.toContain('hidden');
      expect(res.status, path).toBeGreaterThanOrEqual(400);
    }
    const route = await raw(bridge.port, { path: '/some/route', headers: { host: headers.host! } });
    expect(route.status).toBe(200);
  });

  it('works through the typed client, including the event stream', async () => {
    const client = createClient(
      createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }),
    );
    const received: StrataEvent[] = [];
    const gotEvent = new Promise<void>((resolve) => {
      const stop = client.onEvent((e) => {
        received.push(e);
        stop();
        resolve();
      });
    });
    // Give the stream a moment to attach before the write that produces the event.
    for (let i = 0; i < 50 && received.length === 0; i++) {
      const info = await client.invoke('workspace:info', {});
      expect(info.kind).toBe('draft');
      await client.invoke('config:set', {
        level: 'user',
        scope: 'user123',
        key: 'ui.theme',
        value: i % 2 ? 'dark' : 'neutral',
      });
      await Promise.race([gotEvent, new Promise((r) => setTimeout(r, 100))]);
    }
    await gotEvent;
    expect(received[0]).toMatchObject({ type: 'config-changed', mode: 'staged' });
    await expect(
      client.invoke('config:resolve', { key: 'x', context: { userId: 'nobody' } }),
    ).rejects.toMatchObject({
      name: 'ClientError',
      code: 'not_found',
    });
  });

  it('compares tokens in constant time and only as strings', () => {
    expect(tokenMatches(bridge.token, bridge.token)).toBe(true);
    expect(tokenMatches(undefined, bridge.token)).toBe(false);
    expect(tokenMatches([bridge.token], bridge.token)).toBe(false);
  });
});

describe('strata serve', () => {
  const temp = tempDir();

  afterAll(() => temp.cleanup());

  it('prints the URL with the token as its first stdout line and serves until stopped', async () => {
    const { db, service, env } = await openSqliteDemo(temp.dir);
    await service.close();
    const out: string[] = [];
    const err: string[] = [];
    let stop!: () => void;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    let ready!: (b: Bridge) => void;
    const started = new Promise<Bridge>((resolve) => (ready = resolve));
    const previous = process.env.CONFIG_ENCRYPTION_KEY;
    process.env.CONFIG_ENCRYPTION_KEY = env.CONFIG_ENCRYPTION_KEY;
    const done = serveCommand(
      ['--db', db, '--as', 'superadmin'],
      {},
      {
        stdout: (l) => out.push(l),
        stderr: (l) => err.push(l),
        stopSignal,
        onReady: ready,
      },
    );
    try {
      const bridge = await started;
      expect(out[0]).toBe(bridge.url);
      expect(out[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
      expect(err.join('\n')).toMatch(/Serving draft workspace .* as superadmin/);
      const client = createClient(
        createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }),
      );
      expect((await client.invoke('workspace:info', {})).operator).toBe('superadmin');
    } finally {
      stop();
      expect(await done).toBe(0);
      if (previous === undefined) delete process.env.CONFIG_ENCRYPTION_KEY;
      else process.env.CONFIG_ENCRYPTION_KEY = previous;
    }
  });

  it('refuses bad flags with one clear sentence', async () => {
    expect(() => parseServeArgs(['--port', 'abc'])).toThrow(
      'strata serve: --port must be a number from 0 to 65535.',
    );
    expect(() => parseServeArgs(['--bogus'])).toThrow(/^strata serve: Unknown option '--bogus'/);
    expect(parseServeArgs(['--port', '8080', '--db', 'x.sqlite'])).toEqual({
      db: 'x.sqlite',
      port: 8080,
      as: null,
      help: false,
    });
  });

  it('creates and opens the local demo workspace when no database is named', async () => {
    const dataDir = join(temp.dir, 'data');
    const env = { ...secretEnv(), STRATA_DB: undefined, STRATA_OPERATOR: undefined };
    const first = await openWorkspace({ dataDir, env });
    try {
      expect(first.db).toBe(join(dataDir, '.strata-local', 'demo.sqlite'));
      expect(first.isDefaultDemo).toBe(true);
      expect(first.demo?.tenants).toBe(2);
      expect((await first.service.info()).operator).toBe('superadmin');
    } finally {
      await first.service.close();
    }
    const again = await openWorkspace({ dataDir, env });
    try {
      expect(again.demo).toBeNull();
      expect((await again.service.directory()).tenants).toHaveLength(2);
    } finally {
      await again.service.close();
    }
    expect(defaultDemoPath(dataDir)).toBe(first.db);
  });
});
