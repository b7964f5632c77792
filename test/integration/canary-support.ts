/**
 * Helpers for the canary tests: a random canary secret, the forms it could leak in (UTF-8,
 * base64, base64url, hex, UTF-16), the CLI run in-process with captured stdout/stderr, raw calls
 * to the web bridge, and one realistic request for every contract channel. The request table is
 * typed against the contract, so a channel added to the contract without a request here fails
 * the typecheck (and the tests), and the canary check cannot silently skip it.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { main } from '../../src-main/cli/main.js';
import { TOKEN_HEADER } from '../../src-main/contract/client.js';
import type { Channel, RequestOf } from '../../src-main/contract/contract.js';

/** A fresh canary: 16 characters, so it also fits a 16-character App Password field. */
export function newCanary(label = 'cnry'): string {
  return `${label}${randomBytes(8).toString('hex')}`.slice(0, 16);
}

/** The byte forms a leaked canary could take. */
export function canaryForms(canary: string): Array<{ form: string; bytes: Buffer }> {
  const utf8 = Buffer.from(canary, 'utf8');
  return [
    { form: 'utf8', bytes: utf8 },
    { form: 'base64', bytes: Buffer.from(utf8.toString('base64').replace(/=+$/, '')) },
    { form: 'base64url', bytes: Buffer.from(utf8.toString('base64url')) },
    { form: 'hex', bytes: Buffer.from(utf8.toString('hex')) },
    { form: 'utf16le', bytes: Buffer.from(canary, 'utf16le') },
  ];
}

/** The forms of `canary` found in `hay` (empty: not there). */
export function leaks(hay: Buffer | string, canary: string): string[] {
  const buf = typeof hay === 'string' ? Buffer.from(hay, 'utf8') : hay;
  const found: string[] = [];
  for (const { form, bytes } of canaryForms(canary)) {
    if (buf.includes(bytes)) found.push(form);
    else if (form === 'hex' && buf.includes(Buffer.from(bytes.toString().toUpperCase()))) {
      found.push('HEX');
    }
  }
  return found;
}

/** Occurrences of `needle` in `hay`. */
export function count(hay: string, needle: string): number {
  return hay.split(needle).length - 1;
}

/** One CLI run, in-process, with what it printed. */
export interface CliRun {
  argv: string[];
  code: number;
  out: string;
  err: string;
}

/** Runs `strata <argv>` in-process with `env` (STRATA_DB/STRATA_OPERATOR/STRATA_DEBUG cleared). */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    env: { ...env, STRATA_DB: undefined, STRATA_OPERATOR: undefined, STRATA_DEBUG: undefined },
  });
  return { argv, code, out, err };
}

/** A raw HTTP answer. */
export interface RawAnswer {
  status: number;
  body: string;
}

/** POSTs a JSON body to the bridge (with the token unless `token` is null). */
export function callBridge(
  port: number,
  path: string,
  body: unknown,
  token: string | null,
  extra: Record<string, string> = {},
  method = 'POST',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token !== null ? { [TOKEN_HEADER]: token } : {}),
      ...extra,
    };
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Every channel except the explicit reveal, which the canary tests call on their own. */
export type NonRevealChannel = Exclude<Channel, 'secret:reveal'>;

/** Where the canary sits, and who to look at it as. */
export interface CanaryScene {
  canary: string;
  /** A secret key the canary is set at (tenant level). */
  secretKey: string;
  tenant: string;
  userId: string;
  /** A live write is made at this free user-level slot. */
  writeUser: string;
  now: string;
}

/**
 * One realistic request per channel, several of them carrying the canary as input (a staged
 * secret, a .env file, an impact preview, a template variable) so a response that echoes input
 * is caught too.
 */
export function channelRequests(s: CanaryScene): { [C in NonRevealChannel]: RequestOf<C> } {
  const envFile = `PHAXIO_API_KEY=${s.canary}\nFAX_BACKEND=phaxio\n`;
  return {
    'workspace:info': {},
    'directory:get': {},
    'metadata:list': {},
    'config:resolve': { key: s.secretKey, context: { userId: s.userId } },
    'config:effective': { context: { userId: s.userId } },
    'config:entries': { level: 'tenant', scope: s.tenant },
    'config:slot': { level: 'tenant', scope: s.tenant },
    'config:keys': {},
    'config:set': {
      level: 'user',
      scope: s.writeUser,
      key: 'providers.sip.password',
      value: s.canary,
      reason: 'canary write through the bridge',
    },
    'config:unset': {
      level: 'user',
      scope: s.writeUser,
      key: 'providers.sip.password',
      reason: 'canary unset through the bridge',
    },
    'audit:list': { key: s.secretKey },
    'audit:directory': { ref: s.userId },
    'draft:staged': {},
    // Ids that name no staged change: discarding the canary would empty the scene.
    'draft:discard': { ids: ['999999999'] },
    'draft:plan': {},
    'draft:pull': {},
    'draft:resolveConflict': { planId: 'p1', itemId: 'i1', choice: 'mine' },
    'draft:push': { planId: 'p1', confirm: 'production' },
    'template:list': {},
    'template:show': { name: 'gmail-smtp' },
    'template:preview': {
      template: 'gmail-smtp',
      level: 'tenant',
      scope: s.tenant,
      vars: { EMAIL_USER: 'canary.test@gmail.com', EMAIL_PASS: s.canary },
    },
    'template:apply': {
      template: 'gmail-smtp',
      level: 'tenant',
      scope: s.tenant,
      vars: { EMAIL_USER: 'canary.test@gmail.com', EMAIL_PASS: s.canary },
      dryRun: true,
    },
    'template:upgrades': {},
    'template:upgrade': { template: 'healthcare', level: 'tenant', scope: s.tenant, dryRun: true },
    'template:save': {
      name: 'canary-overrides',
      level: 'tenant',
      scope: s.tenant,
      description: 'overrides saved by the canary test',
    },
    'tenant:create': {
      id: 'canary_clinic',
      name: 'Canary Clinic',
      template: 'healthcare',
      dryRun: true,
    },
    'bulk:set': {
      key: s.secretKey,
      action: 'set',
      value: s.canary,
      level: 'tenant',
      scopes: [s.tenant],
      dryRun: true,
    },
    'env:preview': { fileName: 'canary.env', content: envFile },
    'env:stage': {
      fileName: 'canary.env',
      content: envFile,
      placement: { level: 'tenant', scope: s.tenant },
      reason: 'canary .env import',
    },
    'env:export': { context: { userId: s.userId } },
    'env:attachLegacy': {
      fileName: 'legacy.env',
      content: `API_KEY=${s.canary}\nLEGACY_ONLY_FLAG=on\n`,
    },
    'env:legacyStatus': {},
    'env:mappings': {},
    'env:saveMappings': { mapping: [{ envKey: 'CANARY_FAX_KEY', key: s.secretKey }] },
    'impact:preview': {
      changes: [
        {
          level: 'tenant',
          scope: s.tenant,
          key: s.secretKey,
          action: 'set',
          value: s.canary,
        },
      ],
      includeUsers: true,
    },
    'lint:run': {},
    'history:at': { at: s.now, context: { userId: s.userId } },
    'connections:list': {},
    'connections:save': {
      name: 'canary profile',
      kind: 'postgres',
      environment: 'staging',
      target: `postgres://admin:${s.canary}@127.0.0.1:1/canary`,
    },
    'connections:delete': { id: 'no-such-profile' },
    'connections:test': {
      profile: { kind: 'postgres', target: 'postgres://admin@127.0.0.1:1/canary' },
      password: s.canary,
    },
    'connections:open': { id: 'no-such-profile', password: s.canary },
    'connections:current': {},
  };
}
