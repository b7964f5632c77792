/**
 * Electron main: one hardened window showing the built console from file://, the contract's
 * handler table registered on ipcMain (sender checked, request parsed by zod in the handler), and
 * events sent to the window through the same contract.
 */
import {
  app,
  BrowserWindow,
  ipcMain,
  safeStorage,
  session,
  shell,
  type IpcMainInvokeEvent,
} from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeInternalError } from '../bridge/server.js';
import { rendererDir } from '../bridge/paths.js';
import { openWorkspace } from '../bridge/workspace.js';
import { WorkspaceHost } from '../bridge/workspace-host.js';
import { CHANNELS, EVENTS_CHANNEL, type Envelope } from '../contract/contract.js';
import { createKeyStore, keyEnvironment, plaintextOptIn } from './key-store.js';
import { createSecretVault } from './secret-vault.js';
import {
  APP_CSP,
  isAllowedExternal,
  isSamePageNavigation,
  isTrustedSender,
  windowOptions,
} from './window-options.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const appDir = rendererDir();
let host: WorkspaceHost | null = null;
let mainWindow: BrowserWindow | null = null;

function flag(name: string): string | null {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? null) : null;
}

function harden(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternal(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    contents.on('will-navigate', (event, url) => {
      if (!isSamePageNavigation(contents.getURL(), url)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

/** Registers the host's stable table: after a switch it serves the newly opened workspace. */
function registerIpc(handlers: WorkspaceHost['handlers']): void {
  const refused: Envelope<never> = {
    ok: false,
    error: { code: 'forbidden', message: 'This page may not call the Strata service.' },
  };
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, request: unknown) => {
      const frame = event.senderFrame;
      if (!frame || frame.parent !== null || !isTrustedSender(frame.url, appDir)) {
        return refused;
      }
      return handlers[channel](request);
    });
  }
}

async function createWindow(): Promise<void> {
  mainWindow = new BrowserWindow(windowOptions(join(here, 'preload.cjs')));
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  await mainWindow.loadFile(join(appDir, 'index.html'));
}

async function start(): Promise<void> {
  app.enableSandbox();
  harden();
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) =>
    callback(false),
  );
  // Checks (navigator.permissions, clipboard, notifications) are refused too: the console needs none.
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [APP_CSP],
        'X-Content-Type-Options': ['nosniff'],
      },
    });
  });
  // What the key store and the password vault both keep their files with.
  const storage = { safeStorage, dir: app.getPath('userData'), platform: process.platform };
  // CONFIG_ENCRYPTION_KEY from the environment, else the one kept with safeStorage (key-store.ts).
  const keyStore = createKeyStore(storage);
  const env = await keyEnvironment(keyStore, {
    argv: process.argv,
    env: process.env,
    log: (line) => console.error(line),
  });
  const workspace = await openWorkspace({ db: flag('--db'), operator: flag('--as'), env });
  // Connection passwords: safeStorage, or this session only where it would not protect them.
  const vault = await createSecretVault({
    ...storage,
    optIn: plaintextOptIn(process.argv, process.env),
  });
  // Changes made by others reach the window (services/live.ts) through the host, which also
  // switches the workspace when the console opens a connection profile.
  host = await WorkspaceHost.start({
    service: workspace.service,
    ...(workspace.isDefaultDemo ? { name: 'Local demo' } : {}),
    connections: { dataDir: storage.dir, vault, operator: flag('--as'), env },
    emit: (event) => mainWindow?.webContents.send(EVENTS_CHANNEL, event),
    onInternalError: (channel, error) =>
      console.error(`${channel} failed: ${describeInternalError(error)}`),
  });
  registerIpc(host.handlers);
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
app.on('will-quit', () => {
  void host?.close();
});

start().catch((error: unknown) => {
  console.error(
    error instanceof Error && error.name === 'StrataError'
      ? error.message
      : `Strata could not start: ${describeInternalError(error)}`,
  );
  app.exit(1);
});
