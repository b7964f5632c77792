/**
 * The local web bridge's perimeter, checked for every contract channel rather than one sample:
 * the page and its assets load without the token (a browser cannot send a header when it opens
 * the URL), but every /api call, on every channel and the event stream, needs this run's token in
 * the x-strata-token header: no token, a wrong or near-miss token, or the token anywhere else
 * (query string, cookie, Authorization) is refused with 401 before the request is read, and does
 * nothing. The server listens on 127.0.0.1 alone (checked in the kernel's socket table on Linux,
 * by connecting from other addresses elsewhere). Extends test/unit/contract-bridge.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS } from '../../src-main/contract/contract.js';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';
import { callBridge, newCanary } from './canary-support.js';

const REFUSED = {
  ok: false,
  error: {
    code: 'forbidden',
    message: 'Missing or wrong access token; open the URL printed at start.',
  },
};

/** Resolves true when a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Local addresses (hex, as /proc/net shows them) of LISTEN sockets on `port`. */
function listeners(file: string, port: number): string[] {
  if (!existsSync(file)) return [];
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A')
    .map((f) => f[1]!.split(':')[0]!);
}

describe('web bridge perimeter', () => {
  const temp = tempDir('strata-perimeter-');
  let service: StrataConfigService;
  let bridge: Bridge;
  const canary = newCanary();

  beforeAll(async () => {
    service = (await openSqliteDemo(temp.dir)).service as StrataConfigService;
    const web = join(temp.dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Strata</title>');
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
    bridge = await startBridgeForService(service, { staticDir: web, live: false });
  });

  afterAll(async () => {
    await bridge?.close();
    await service?.close();
    temp.cleanup();
  });

  it('serves the page and its assets without the token', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', '/some/client/route']) {
      const page = await callBridge(bridge.port, path, undefined, null, {}, 'GET');
      expect(page.status, path).toBe(200);
    }
  });

  it('refuses every channel and the event stream without the right token, doing nothing', async () => {
    const t = bridge.token;
    const flipped = `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
    const variants: Array<{
      label: string;
      token: string | null;
      extra?: Record<string, string>;
      query?: string;
    }> = [
      { label: 'no token', token: null },
      { label: 'empty token', token: '' },
      { label: 'one character changed', token: flipped },
      { label: 'token plus a character', token: `${t}x` },
      { label: 'token minus a character', token: t.slice(1) },
      { label: 'token in the query string', token: null, query: `?token=${t}` },
      { label: 'token as a cookie', token: null, extra: { cookie: `token=${t}` } },
      { label: 'token as a bearer', token: null, extra: { authorization: `Bearer ${t}` } },
    ];
    const staged = service.index.get({
      level: 'user',
      scope: 'user123',
      key: 'providers.sip.password',
    });
    let refused = 0;
    for (const path of [...CHANNELS.map((c) => `/api/${c}`), '/api/events', '/api/not-a-channel']) {
      for (const v of variants) {
        for (const method of ['POST', 'GET']) {
          const body =
            method === 'POST'
              ? { level: 'user', scope: 'user123', key: 'providers.sip.password', value: canary }
              : undefined;
          const answer = await callBridge(
            bridge.port,
            `${path}${v.query ?? ''}`,
            body,
            v.token,
            v.extra,
            method,
          );
          expect(answer.status, `${method} ${path} with ${v.label}`).toBe(401);
          expect(JSON.parse(answer.body), `${method} ${path} with ${v.label}`).toEqual(REFUSED);
          refused++;
        }
      }
    }
    expect(refused).toBe((CHANNELS.length + 2) * variants.length * 2);
    // None of those calls reached a handler: the write they carried did not happen.
    await service.reload();
    expect(
      service.index.get({ level: 'user', scope: 'user123', key: 'providers.sip.password' }),
    ).toEqual(staged);
    // And with the token the same call goes through.
    const ok = await callBridge(bridge.port, '/api/workspace:info', {}, t);
    expect(ok.status).toBe(200);
  });

  it('listens on 127.0.0.1 only', async () => {
    const v4 = listeners('/proc/net/tcp', bridge.port);
    const v6 = listeners('/proc/net/tcp6', bridge.port);
    if (existsSync('/proc/net/tcp')) {
      // Exactly one listening socket, bound to 127.0.0.1 (0100007F), and none on IPv6.
      expect(v4).toEqual(['0100007F']);
      expect(v6).toEqual([]);
      // Another loopback address of 127/8 is not 127.0.0.1: refused when not bound to all.
      expect(await accepts('127.0.0.2', bridge.port)).toBe(false);
    }
    expect(await accepts('127.0.0.1', bridge.port)).toBe(true);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((i): i is NonNullable<typeof i> => !!i && !i.internal);
    for (const i of external) {
      expect(await accepts(i.address, bridge.port), i.address).toBe(false);
    }
  });
});
