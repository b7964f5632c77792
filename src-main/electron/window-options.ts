/**
 * Security settings of the console window and the pure checks main applies to IPC senders,
 * navigation and external links. Pure (types only from electron) so unit tests can hold them.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** CSP for the console page, sent as a response header by the session. */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Emotion (MUI's styling engine) injects <style> elements at runtime.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** https links the console itself renders; only these may open in the system browser. */
export const EXTERNAL_LINKS: ReadonlySet<string> = new Set([
  'https://github.com/DMontgomery40/faxbot',
]);

/** Options for the console window; every web preference is at its secure value. */
export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 920,
    minWidth: 1100,
    minHeight: 640,
    title: 'Strata',
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: process.env.STRATA_DEVTOOLS === '1',
    },
  };
}

/**
 * True when an IPC message comes from the console page itself: a file:// URL inside the built
 * renderer folder. Anything else (a remote page, another local file, a data: URL) is refused.
 */
export function isTrustedSender(frameUrl: string | null | undefined, appDir: string): boolean {
  if (!frameUrl) return false;
  let url: URL;
  try {
    url = new URL(frameUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'file:' || (url.host !== '' && url.host !== 'localhost')) return false;
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return false;
  }
  const rel = relative(appDir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** True for an https URL the console made (see EXTERNAL_LINKS). */
export function isAllowedExternal(
  url: string,
  allowed: ReadonlySet<string> = EXTERNAL_LINKS,
): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.username === '' && allowed.has(url);
  } catch {
    return false;
  }
}

/** True when navigating to `target` stays on the console page (only in-page hash changes). */
export function isSamePageNavigation(current: string, target: string): boolean {
  try {
    const a = new URL(current);
    const b = new URL(target);
    return a.protocol === 'file:' && a.protocol === b.protocol && a.pathname === b.pathname;
  } catch {
    return false;
  }
}
