/**
 * The typed console client, derived from the contract. It talks to main through either transport:
 * the Electron preload's `window.strata`, or the local web bridge over HTTP with the per-run
 * token. Callers cannot tell the two apart. Browser-safe: no Node APIs.
 */
import type { ErrorCode } from '../core/types.js';
import type {
  Channel,
  Envelope,
  RequestOf,
  ResponseOf,
  StrataBridgeApi,
  StrataEvent,
} from './contract.js';

/** Header that carries the bridge token on every API call. */
export const TOKEN_HEADER = 'x-strata-token';

/** A failed call: the code and the safe sentence from the envelope. */
export class ClientError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
  }
}

/** The typed client every part of the console uses. */
export interface StrataClient {
  /** Calls a channel; resolves with its data or rejects with a ClientError. */
  invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: StrataEvent) => void): () => void;
}

/** Wraps a transport (preload API or HTTP) into the typed client. */
export function createClient(api: StrataBridgeApi): StrataClient {
  return {
    async invoke(channel, request) {
      const envelope = await api.invoke(channel, request);
      if (envelope.ok) return envelope.data;
      throw new ClientError(envelope.error.code, envelope.error.message);
    },
    onEvent: (listener) => api.onEvent(listener),
  };
}

/** Options for the HTTP transport. */
export interface HttpTransportOptions {
  /** Origin of the bridge; '' means the page's own origin. */
  baseUrl?: string;
  token: string;
  fetch?: typeof fetch;
  /** Delay before reconnecting the event stream. */
  retryMs?: number;
}

function networkError(): Envelope<never> {
  return {
    ok: false,
    error: {
      code: 'internal',
      message: 'The Strata bridge is not reachable; is it still running?',
    },
  };
}

/** Splits a text/event-stream buffer into complete `data:` payloads and the unfinished rest. */
export function parseSseChunk(buffer: string): { events: string[]; rest: string } {
  const events: string[] = [];
  const blocks = buffer.replace(/\r\n/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0) events.push(data.join('\n'));
  }
  return { events, rest };
}

/**
 * The bridge transport: POST /api/<channel> with the token header, and a fetch-streamed
 * /api/events (EventSource cannot send headers, and the token must never ride in a URL).
 */
export function createHttpTransport(options: HttpTransportOptions): StrataBridgeApi {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const retryMs = options.retryMs ?? 2000;
  return {
    async invoke(channel, request) {
      let response: Response;
      try {
        response = await doFetch(`${base}/api/${channel}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TOKEN_HEADER]: options.token },
          body: JSON.stringify(request ?? {}),
          credentials: 'omit',
          cache: 'no-store',
        });
      } catch {
        return networkError();
      }
      try {
        return (await response.json()) as Envelope<ResponseOf<typeof channel>>;
      } catch {
        return {
          ok: false,
          error: { code: 'internal', message: `The bridge answered ${response.status}.` },
        };
      }
    },
    onEvent(listener) {
      const controller = new AbortController();
      let stopped = false;
      const connect = async (): Promise<void> => {
        while (!stopped) {
          try {
            const response = await doFetch(`${base}/api/events`, {
              headers: { [TOKEN_HEADER]: options.token, accept: 'text/event-stream' },
              signal: controller.signal,
              credentials: 'omit',
              cache: 'no-store',
            });
            if (!response.ok || !response.body) throw new Error('stream refused');
            const reader = response.body.getReader();
            const decoder = new TextDecoder();
            let buffer = '';
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, { stream: true });
              const parsed = parseSseChunk(buffer);
              buffer = parsed.rest;
              for (const data of parsed.events) {
                try {
                  listener(JSON.parse(data) as StrataEvent);
                } catch {
                  // A malformed event is dropped; the stream itself stays usable.
                }
              }
            }
          } catch {
            if (stopped) return;
          }
          if (!stopped) await new Promise((r) => setTimeout(r, retryMs));
        }
      };
      void connect();
      return () => {
        stopped = true;
        controller.abort();
      };
    },
  };
}
