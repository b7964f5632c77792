/**
 * Handlers of the Connections channels, spread into the one handler table: thin adapters onto
 * the front door's ConnectionsApi (bridge/workspace-host.ts), which owns the profiles, the vault
 * and the switch between workspaces. A front door without one (a bare handler table in tests)
 * answers one clear sentence.
 */
import { StrataError } from '../core/types.js';
import type { ParsedRequestOf, ResponseOf } from './contract.js';
import type { ConnectionChannel, ConnectionChannelResponses } from './connection-channels.js';

type Impl<C extends ConnectionChannel> = (req: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;

/** What the Connections channels call; implemented by the workspace host of a front door. */
export interface ConnectionsApi {
  list(): Promise<ConnectionChannelResponses['connections:list']>;
  save(
    req: ParsedRequestOf<'connections:save'>,
  ): Promise<ConnectionChannelResponses['connections:save']>;
  delete(id: string): Promise<ConnectionChannelResponses['connections:delete']>;
  test(
    req: ParsedRequestOf<'connections:test'>,
  ): Promise<ConnectionChannelResponses['connections:test']>;
  open(
    req: ParsedRequestOf<'connections:open'>,
  ): Promise<ConnectionChannelResponses['connections:open']>;
  current(): Promise<ConnectionChannelResponses['connections:current']>;
}

/** The Connections channel implementations. */
export function connectionHandlers(api: ConnectionsApi | null | undefined): {
  [C in ConnectionChannel]: Impl<C>;
} {
  const host = (): ConnectionsApi => {
    if (api) return api;
    throw new StrataError(
      'invalid',
      'This console cannot switch connections; start it with `npm start` or `strata serve`.',
    );
  };
  return {
    'connections:list': () => host().list(),
    'connections:save': (r) => host().save(r),
    'connections:delete': (r) => host().delete(r.id),
    'connections:test': (r) => host().test(r),
    'connections:open': (r) => host().open(r),
    'connections:current': () => host().current(),
  };
}
