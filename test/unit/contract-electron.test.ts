/**
 * Electron front door, held without Electron's binary: the window keeps every security setting,
 * IPC senders are validated, navigation and external links are refused, and the preload's
 * channel list is exactly the contract's.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHANNELS, EVENTS_CHANNEL } from '../../src-main/contract/contract.js';
import {
  APP_CSP,
  isAllowedExternal,
  isSamePageNavigation,
  isTrustedSender,
  windowOptions,
} from '../../src-main/electron/window-options.js';

const appDir = resolve('/opt/strata/resources/app.asar/dist-renderer');
const page = pathToFileURL(join(appDir, 'index.html')).href;

describe('window options', () => {
  it('keep the secure web preferences', () => {
    const opts = windowOptions('/x/preload.cjs');
    expect(opts.webPreferences).toMatchObject({
      preload: '/x/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
  });

  it('ship a CSP without inline or remote scripts', () => {
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).toContain("default-src 'none'");
    expect(APP_CSP).not.toMatch(/script-src[^;]*unsafe/);
    expect(APP_CSP).not.toMatch(/https?:/);
  });
});

describe('IPC sender validation', () => {
  it('accepts the console page and its in-app routes', () => {
    expect(isTrustedSender(page, appDir)).toBe(true);
    expect(isTrustedSender(`${page}#/audit`, appDir)).toBe(true);
  });

  it('refuses everything else', () => {
    for (const url of [
      null,
      undefined,
      '',
      'not a url',
      'https://evil.example/index.html',
      'http://127.0.0.1:5173/',
      'data:text/html,<script>1</script>',
      'about:blank',
      'devtools://devtools/bundled/inspector.html',
      pathToFileURL('/etc/passwd').href,
      pathToFileURL(join(appDir, '..', 'other.html')).href,
      pathToFileURL(`${appDir}-evil/index.html`).href,
      pathToFileURL(appDir).href,
      `file://evil.example${pathToFileURL(join(appDir, 'index.html')).pathname}`,
    ]) {
      expect(isTrustedSender(url, appDir), String(url)).toBe(false);
    }
  });

  it('refuses any remote URL (property)', () => {
    fc.assert(
      fc.property(fc.webUrl(), (url) => {
        expect(isTrustedSender(url, appDir)).toBe(false);
      }),
    );
  });
});

describe('navigation and external links', () => {
  it('opens only https links the app made', () => {
    expect(isAllowedExternal('https://github.com/DMontgomery40/faxbot')).toBe(true);
    expect(isAllowedExternal('https://evil.example/')).toBe(false);
    expect(isAllowedExternal('http://github.com/DMontgomery40/faxbot')).toBe(false);
    expect(isAllowedExternal('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternal('javascript:alert(1)')).toBe(false);
    expect(isAllowedExternal('https://x', new Set(['https://x']))).toBe(true);
  });

  it('allows only in-page navigation', () => {
    expect(isSamePageNavigation(page, `${page}#x`)).toBe(true);
    expect(isSamePageNavigation(page, 'https://evil.example/')).toBe(false);
    expect(isSamePageNavigation(page, pathToFileURL('/etc/passwd').href)).toBe(false);
    expect(isSamePageNavigation(page, 'garbage')).toBe(false);
  });
});

describe('preload', () => {
  const source = readFileSync(
    new URL('../../src-main/electron/preload.cts', import.meta.url),
    'utf8',
  );

  it('lists exactly the contract channels', () => {
    const list = /const CHANNEL_LIST = \[([\s\S]*?)\] as const/.exec(source)?.[1] ?? '';
    const names = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(names).toEqual([...CHANNELS]);
  });

  it('uses the contract events channel and exposes one API object', () => {
    expect(source).toContain(`const EVENTS = '${EVENTS_CHANNEL}';`);
    expect(source.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(source).toContain('satisfies StrataBridgeApi');
  });
});
