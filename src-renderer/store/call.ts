/** The one place store actions reach main: a typed call through the client. */
import { ClientError } from '../../src-main/contract/client.js';
import type { Channel, RequestOf, ResponseOf } from '../../src-main/contract/contract.js';
import type { StoreDeps } from './types.js';

/** Calls a channel; a missing client is reported like any other failure. */
export function call<C extends Channel>(
  deps: StoreDeps,
  channel: C,
  request: RequestOf<C>,
): Promise<ResponseOf<C>> {
  if (!deps.client) {
    return Promise.reject(
      new ClientError('forbidden', 'The console is not connected; open the URL printed at start.'),
    );
  }
  return deps.client.invoke(channel, request);
}

/** The sentence to show for a failed action. */
export function errorMessage(error: unknown): string {
  if (error instanceof ClientError) return error.message;
  return 'Something went wrong; the details are in the log.';
}
