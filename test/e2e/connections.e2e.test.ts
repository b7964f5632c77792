/**
 * End to end: the Connections screen in Debian's Chromium through the web bridge. The console
 * starts on a local SQLite demo; the admin creates a PostgreSQL profile to a real test database
 * (labelled production), a wrong password tests as "authentication failed", the right one tests
 * OK, Open asks for confirmation and switches the console to PostgreSQL, and the banner says
 * PRODUCTION. The password is in no file of the data folder afterwards (the browser transport
 * keeps it in memory only). Screenshots 40-* go to test-artifacts/screenshots/.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type ServiceBridge } from '../../src-main/bridge/server.js';
import { MemoryVault } from '../../src-main/services/connection-profiles.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { buildConsole, editor, launchChromium, openPage, SETUP_TIMEOUT, shot } from './harness.js';
import { openPostgresDemo, openSqliteDemo, tempDir } from './workspace-fixtures.js';
import { allBytes } from '../helpers/files.js';

const temp = tempDir('strata-connections-e2e-');
const webDir = join(temp.dir, 'web');
const dataDir = join(temp.dir, 'data');
let browser: Browser;
let bridge: ServiceBridge;
let password: string;
let url: string;

beforeAll(async () => {
  browser = await launchChromium();
  const pgDemo = await openPostgresDemo();
  await pgDemo.service.close();
  const u = new URL(pgDemo.db);
  password = decodeURIComponent(u.password);
  u.password = '';
  url = u.toString();
  const start = await openSqliteDemo(temp.dir);
  await buildConsole(webDir);
  bridge = await startBridgeForService(start.service, {
    staticDir: webDir,
    name: 'Local demo',
    connections: { dataDir, vault: new MemoryVault(), env: start.env },
  });
}, SETUP_TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await bridge?.close();
  await dropTestDatabases();
  temp.cleanup();
});

describe('Connections', () => {
  it('creates, tests and opens a PostgreSQL profile; the banner shows PRODUCTION', async () => {
    const { page, errors } = await openPage(browser, bridge.url);
    await page.getByRole('heading', { name: 'Global', level: 2 }).waitFor();
    const banner = page.getByRole('status', { name: 'Environment' });
    await expect.poll(() => banner.innerText()).toMatch(/Unlabelled environment\s+Draft workspace/);

    await page.getByRole('button', { name: 'Connections' }).click();
    const dialog = page.getByRole('dialog', { name: 'Connections' });
    await dialog.getByRole('alert', { name: 'Passwords' }).waitFor();
    expect(await dialog.getByRole('alert', { name: 'Passwords' }).innerText()).toMatch(
      /Password kept for this session only/,
    );
    await dialog.getByRole('button', { name: 'New connection' }).click();
    const form = dialog.getByRole('form', { name: 'Connection form' });
    // Inline validation before anything is saved.
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByText('Give the connection a name.').waitFor();
    await form.getByRole('textbox', { name: /^Name/ }).fill('Mercy production');
    await form.getByLabel('Environment').selectOption('production');
    await form.getByRole('textbox', { name: /^Database URL/ }).fill('mysql://nope');
    await form.getByText('The URL must start with postgres:// or postgresql://.').waitFor();
    await form.getByRole('textbox', { name: /^Database URL/ }).fill(url);
    await form.getByLabel('Password').fill('Wrong-Pa55word');
    await form.getByRole('button', { name: 'Test' }).click();
    const formResult = form.getByRole('status', { name: 'Test result' });
    await formResult.waitFor();
    expect(await formResult.innerText()).toMatch(/authentication failed/i);
    await shot(page, '40-connection-auth-failed');

    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => formResult.getAttribute('data-status')).toBe('ok');
    expect(await formResult.innerText()).toMatch(/^OK: Connected to postgres:\/\/postgres@/);
    await form.getByRole('button', { name: 'Save' }).click();

    const row = dialog.getByRole('listitem', { name: 'Mercy production' });
    await row.waitFor();
    expect(await row.innerText()).toContain('PRODUCTION');
    expect(await row.innerText()).toContain('Password stored');
    await row.getByRole('button', { name: 'Test Mercy production' }).click();
    const rowResult = row.getByRole('status', { name: 'Test result for Mercy production' });
    await expect.poll(() => rowResult.getAttribute('data-status')).toBe('ok');
    await shot(page, '41-connections-list');

    await row.getByRole('button', { name: 'Open Mercy production' }).click();
    const confirm = page.getByRole('dialog', { name: 'Open Mercy production (PRODUCTION)?' });
    await confirm.waitFor();
    await shot(page, '42-open-production-confirm');
    await confirm.getByRole('button', { name: 'Open production' }).click();

    await expect
      .poll(() => banner.getAttribute('data-environment'), { timeout: 20_000 })
      .toBe('production');
    await expect
      .poll(() => banner.innerText())
      .toMatch(/^PRODUCTION: changes here reach live systems/);
    expect(await banner.innerText()).toMatch(/Mercy production · Live database: postgres:\/\//);
    await page.getByRole('heading', { name: 'Global', level: 2 }).waitFor();
    await editor(page)
      .getByRole('progressbar', { name: 'Loading keys' })
      .waitFor({ state: 'detached' });
    await shot(page, '43-opened-production');

    // The password (right or wrong) is in no file of the data folder.
    const bytes = allBytes(dataDir);
    expect(bytes).toContain('Mercy production');
    expect(bytes).not.toContain(password);
    expect(bytes).not.toContain('Wrong-Pa55word');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
