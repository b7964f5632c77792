/**
 * Preload: exposes ONE API object, `window.strata`, built from the contract. Sandboxed preloads
 * cannot load local modules, so the channel list is written out here and checked against the
 * contract at compile time: a channel added to the contract and not here fails the build.
 */
// Sandboxed preloads run as CommonJS, and verbatimModuleSyntax requires require-style imports there.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');
import type { Channel, Envelope, StrataBridgeApi, StrataEvent } from '../contract/contract.js';

const CHANNEL_LIST = [
  'workspace:info',
  'directory:get',
  'metadata:list',
  'config:resolve',
  'config:effective',
  'config:entries',
  'config:slot',
  'config:keys',
  'config:set',
  'config:unset',
  'audit:list',
  'audit:directory',
  'secret:reveal',
  'draft:staged',
  'draft:discard',
  'draft:plan',
  'draft:pull',
  'draft:resolveConflict',
  'draft:push',
  'template:list',
  'template:show',
  'template:preview',
  'template:apply',
  'template:upgrades',
  'template:upgrade',
  'template:save',
  'tenant:create',
  'bulk:set',
  'env:preview',
  'env:stage',
  'env:export',
  'env:attachLegacy',
  'env:legacyStatus',
  'env:mappings',
  'env:saveMappings',
  'impact:preview',
  'lint:run',
  'history:at',
  'connections:list',
  'connections:save',
  'connections:delete',
  'connections:test',
  'connections:open',
  'connections:current',
] as const satisfies readonly Channel[];

type Missing = Exclude<Channel, (typeof CHANNEL_LIST)[number]>;
const everyChannelListed: [Missing] extends [never] ? true : Missing = true;
void everyChannelListed;

/** Must equal EVENTS_CHANNEL in the contract (checked by a unit test). */
const EVENTS = 'strata:events';
const allowed: ReadonlySet<string> = new Set(CHANNEL_LIST);

const api = {
  invoke(channel, request) {
    if (!allowed.has(channel)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'invalid', message: 'Unknown channel.' },
      } as Envelope<never>);
    }
    return electron.ipcRenderer.invoke(channel, request);
  },
  onEvent(listener: (event: StrataEvent) => void) {
    const handler = (_event: unknown, payload: StrataEvent): void => listener(payload);
    electron.ipcRenderer.on(EVENTS, handler);
    return () => {
      electron.ipcRenderer.removeListener(EVENTS, handler);
    };
  },
} satisfies StrataBridgeApi;

electron.contextBridge.exposeInMainWorld('strata', api);
