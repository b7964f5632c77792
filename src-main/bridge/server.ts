/**
 * The local web bridge: the console served to a browser on 127.0.0.1 when Electron is not
 * available. It is a third front door onto the same handler table as Electron IPC.
 *
 * Threat model: other local users and web pages in the operator's browser. Hence: loopback only,
 * a random per-run token on every API call (sent as a header, never in a URL; the page receives it
 * in the URL fragment, which browsers do not send), Host checking against DNS rebinding, no CORS,
 * Origin checking, a strict CSP, and error envelopes that never echo input.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { ErrorCode } from '../core/types.js';
import type { ConfigService } from '../services/types.js';
import {
  isChannel,
  type DraftService,
  type Envelope,
  type StrataEvent,
} from '../contract/contract.js';
import { TOKEN_HEADER } from '../contract/client.js';
import type { HandlerTable } from '../contract/handlers.js';
import { WorkspaceHost, type ConnectionsOptions } from './workspace-host.js';

/** Content-Security-Policy for everything the bridge serves. */
export const BRIDGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Emotion (MUI's styling engine) injects <style> elements at runtime.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Largest request body accepted (a 64 KiB value can grow when JSON-escaped). */
export const MAX_BODY_BYTES = 1024 * 1024;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': BRIDGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  internal: 500,
};

/** Options for startBridge. */
export interface BridgeOptions {
  handlers: HandlerTable;
  /** 0 (default) picks a random free port. */
  port?: number;
  /** Folder of the built console (dist-renderer); null serves the API only. */
  staticDir?: string | null;
  /** Token to require; a fresh 32-byte random token by default. */
  token?: string;
  /** One line per request (method, path, status); never headers, bodies or the token. */
  log?: (line: string) => void;
}

/** A running bridge. */
export interface Bridge {
  /** Origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The URL to open: origin + `/#token=...`. */
  url: string;
  port: number;
  token: string;
  /** Sends an event to every connected console. */
  publish(event: StrataEvent): void;
  close(): Promise<void>;
}

/** A fresh URL-safe token of 32 random bytes. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `host` (the Host header) names this bridge on loopback. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** Constant-time token comparison. */
export function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

function sendEnvelope(res: ServerResponse, status: number, envelope: Envelope<unknown>): void {
  send(res, status, JSON.stringify(envelope), 'application/json; charset=utf-8', {
    'cache-control': 'no-store',
  });
}

function sendError(res: ServerResponse, code: ErrorCode, message: string, status?: number): void {
  sendEnvelope(res, status ?? STATUS[code], { ok: false, error: { code, message } });
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function resolveStatic(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rel = normalize(decoded).replace(/^[/\\]+/, '');
  if (rel.split(/[/\\]/).some((part) => part.startsWith('.'))) return null;
  const full = resolve(root, rel);
  if (full !== root && !full.startsWith(root + sep)) return null;
  return full;
}

/** Starts the bridge on 127.0.0.1. */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const token = options.token ?? newToken();
  const log = options.log ?? (() => {});
  const staticRoot = options.staticDir ? resolve(options.staticDir) : null;
  const streams = new Set<ServerResponse>();
  let port = 0;

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string): number => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Method not allowed.', 'text/plain; charset=utf-8', { allow: 'GET, HEAD' });
      return 405;
    }
    const index = staticRoot ? join(staticRoot, 'index.html') : null;
    if (!staticRoot || !index || !existsSync(index)) {
      send(
        res,
        503,
        'The console is not built yet; run `npm run build:renderer` and reload.',
        'text/plain; charset=utf-8',
      );
      return 503;
    }
    let file = resolveStatic(staticRoot, pathname === '/' ? '/index.html' : pathname);
    if (!file) {
      send(res, 404, 'Not found.', 'text/plain; charset=utf-8');
      return 404;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      // Client-side routes fall back to the app; missing assets are plain 404s.
      if (extname(file) !== '') {
        send(res, 404, 'Not found.', 'text/plain; charset=utf-8');
        return 404;
      }
      file = index;
    }
    const type = MIME[extname(file)] ?? 'application/octet-stream';
    const cache = file === index ? 'no-store' : 'public, max-age=31536000, immutable';
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : readFileSync(file);
    send(res, 200, body, type, { 'cache-control': cache });
    return 200;
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    streams.add(res);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const done = (): void => {
      clearInterval(heartbeat);
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
  ): Promise<number> => {
    const origin = req.headers.origin;
    if (origin !== undefined && !isAllowedHost(origin.replace(/^http:\/\//, ''), port)) {
      sendError(res, 'forbidden', 'Cross-origin requests are not allowed.');
      return 403;
    }
    if (!tokenMatches(req.headers[TOKEN_HEADER], token)) {
      sendError(
        res,
        'forbidden',
        'Missing or wrong access token; open the URL printed at start.',
        401,
      );
      return 401;
    }
    const name = pathname.slice('/api/'.length);
    if (name === 'events') {
      if (req.method !== 'GET') {
        sendError(res, 'invalid', 'Use GET for the event stream.', 405);
        return 405;
      }
      openStream(req, res);
      return 200;
    }
    if (!isChannel(name)) {
      sendError(res, 'not_found', 'Unknown API channel.');
      return 404;
    }
    if (req.method !== 'POST') {
      sendError(res, 'invalid', 'Use POST for API channels.', 405);
      return 405;
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      sendError(res, 'invalid', 'Requests must be sent as application/json.', 415);
      return 415;
    }
    const body = await readBody(req);
    if (body === null) {
      sendError(res, 'invalid', 'The request body is too large.', 413);
      return 413;
    }
    let payload: unknown;
    try {
      payload = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      sendError(res, 'invalid', `Invalid request for ${name}: the body is not valid JSON.`);
      return 400;
    }
    const envelope = await options.handlers[name](payload);
    const status = envelope.ok ? 200 : STATUS[envelope.error.code];
    sendEnvelope(res, status, envelope);
    return status;
  };

  const server = createServer((req, res) => {
    let pathname = '/';
    try {
      pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    } catch {
      // Keep '/' for an unparsable target; the Host check below still applies.
    }
    if (!isAllowedHost(req.headers.host, port)) {
      send(res, 403, 'Host not allowed.', 'text/plain; charset=utf-8');
      log(`${req.method ?? '?'} ${pathname} 403 (host)`);
      return;
    }
    const work = pathname.startsWith('/api/')
      ? handleApi(req, res, pathname)
      : Promise.resolve(serveStatic(req, res, pathname));
    work.then(
      (status) => log(`${req.method ?? '?'} ${pathname} ${status}`),
      () => {
        if (!res.headersSent) sendError(res, 'internal', 'Unexpected internal error.');
        log(`${req.method ?? '?'} ${pathname} 500`);
      },
    );
  });

  // A browser (or a test client) keeps idle connections open longer than Node's 5 s default; when
  // the server closes one just as the client reuses it, the request fails with ECONNRESET. Keep
  // idle loopback connections for a minute instead (headersTimeout must stay above it).
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    url: `${origin}/#token=${token}`,
    port,
    token,
    publish(event) {
      const frame = `data: ${JSON.stringify(event)}\n\n`;
      for (const stream of streams) stream.write(frame);
    },
    close() {
      for (const stream of streams) stream.end();
      streams.clear();
      return new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Names an unexpected error for the log without its message: driver messages can quote the
 * values involved, and a value may be a secret. The class, code and stack frames are enough to
 * find the fault.
 */
export function describeInternalError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 8)
    .join('\n');
  return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}\n${frames}`;
}

/** Options for serving one config service. */
export interface ServeServiceOptions extends Omit<BridgeOptions, 'handlers'> {
  /** Default: the real draft service when the workspace is a draft (bridge/drafts.ts); null: none. */
  drafts?: DraftService | null;
  /** Listen for changes made by others (services/live.ts); default true. */
  live?: boolean;
  /**
   * Connection profiles (bridge/workspace-host.ts): the console may then open other workspaces,
   * and the bridge owns whichever is open (close() closes it). Without them the bridge serves
   * only `service`, which stays the caller's to close.
   */
  connections?: ConnectionsOptions | null;
  /** Name the banner shows for the starting workspace. */
  name?: string | null;
}

/** A bridge over a workspace host. */
export interface ServiceBridge extends Bridge {
  /** The host: the workspace open now, and the switch to another. */
  host: WorkspaceHost;
}

/** Builds the handler table for a service and serves it; events reach every open console. */
export async function startBridgeForService(
  service: ConfigService,
  options: ServeServiceOptions = {},
): Promise<ServiceBridge> {
  let bridge: Bridge | null = null;
  const host = await WorkspaceHost.start({
    service,
    ...(options.drafts !== undefined ? { drafts: options.drafts } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    connections: options.connections ?? null,
    emit: (event) => bridge?.publish(event),
    live: options.live !== false,
    onInternalError: (channel, error) =>
      (options.log ?? console.error)(`${channel} failed: ${describeInternalError(error)}`),
  });
  try {
    bridge = await startBridge({ ...options, handlers: host.handlers });
  } catch (error) {
    await host.close({ keepService: true });
    throw error;
  }
  const started = bridge;
  const close = started.close.bind(started);
  return Object.assign(started, {
    host,
    close: async () => {
      await host.close();
      await close();
    },
  });
}
