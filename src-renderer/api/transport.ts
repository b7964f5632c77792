/**
 * Picks the transport once: the Electron preload's `window.strata` when present, otherwise the
 * local web bridge over HTTP with the token the page received in its URL fragment. Everything
 * else in the console sees only the typed client.
 */
import {
  createClient,
  createHttpTransport,
  type StrataClient,
} from '../../src-main/contract/client.js';
import type { StrataBridgeApi } from '../../src-main/contract/contract.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser. */
    strata?: StrataBridgeApi;
  }
}

const TOKEN_STORAGE = 'strata.bridge-token';

/**
 * Reads the bridge token from `#token=...`, keeps it for reloads of this tab only, and removes it
 * from the address bar so it is not copied, bookmarked or captured in screenshots.
 */
export function takeBridgeToken(win: Window = window): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]{16,128})(?:&|$)/.exec(win.location.hash);
  if (match?.[1]) {
    try {
      win.sessionStorage.setItem(TOKEN_STORAGE, match[1]);
    } catch {
      // Storage can be disabled; the token still works for this page load.
    }
    win.history.replaceState(null, '', win.location.pathname + win.location.search);
    return match[1];
  }
  try {
    return win.sessionStorage.getItem(TOKEN_STORAGE);
  } catch {
    return null;
  }
}

/** The client for this page, or null when neither transport is available. */
export function connect(win: Window = window): StrataClient | null {
  if (win.strata) return createClient(win.strata);
  const token = takeBridgeToken(win);
  if (!token) return null;
  return createClient(createHttpTransport({ token }));
}
