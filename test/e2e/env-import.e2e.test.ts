/**
 * End to end: .env files dropped on the console window (a real DataTransfer holding real files
 * read from disk), walked through the import wizard (file -> mapping -> placement -> preview ->
 * stage) and staged in a SQLite demo workspace; a refused file listing its lines; export of a
 * user's configuration; a legacy file attached in hybrid mode. Built console in Chromium,
 * served by the web bridge in-process.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import dotenv from 'dotenv';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import type { ConfigService } from '../../src-main/services/types.js';
import {
  buildConsole,
  editor,
  launchChromium,
  openPage,
  SETUP_TIMEOUT,
  shot,
  type OpenedPage,
} from './harness.js';
import { openSqliteDemo, tempDir } from './workspace-fixtures.js';

const ENV_FIXTURES = resolve('test/fixtures/env');
const temp = tempDir('strata-env-e2e-');
const webDir = join(temp.dir, 'web');
let browser: Browser;
let service: ConfigService;
let bridge: Bridge;

beforeAll(async () => {
  browser = await launchChromium();
  await buildConsole(webDir);
  ({ service } = await openSqliteDemo(temp.dir));
  bridge = await startBridgeForService(service, { staticDir: webDir });
}, SETUP_TIMEOUT);

afterAll(async () => {
  await bridge?.close();
  await service?.close();
  await browser?.close();
  temp.cleanup();
});

/** Opens the console; the drop tests need only the level editor on screen. */
async function openConsole(): Promise<OpenedPage> {
  const opened = await openPage(browser, bridge.url);
  await editor(opened.page).waitFor();
  return opened;
}

/** A fixture's bytes, as they are on disk. */
function fixture(path: string): { name: string; bytes: number[] } {
  return { name: path.split('/').pop()!, bytes: [...readFileSync(join(ENV_FIXTURES, path))] };
}

/** Drags files over the window and drops them, as a file manager would. */
async function dropFiles(
  page: Page,
  target: string,
  files: Array<{ name: string; bytes: number[] }>,
): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: 'text/plain' }));
    }
    return dt;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await page.dispatchEvent(target, type, { dataTransfer });
  }
}

function wizard(page: Page) {
  return page.getByRole('dialog', { name: 'Import .env' });
}

describe('importing .env files into a draft by drag and drop', () => {
  it('walks a dropped legacy file through the wizard and stages the chosen rows', async () => {
    const { page, errors } = await openConsole();
    await dropFiles(page, 'main', [
      fixture('valid/faxbot-legacy.env'),
      fixture('hostile/binary-png-header.env'),
    ]);
    const w = wizard(page);
    await w.waitFor();

    // File: the good file is ready, the binary one is refused with its line, never sent.
    const good = w.getByRole('listitem', { name: 'faxbot-legacy.env' });
    await good.getByText('9 variable(s)').waitFor();
    const bad = w.getByRole('listitem', { name: 'binary-png-header.env' });
    await bad.getByText('Refused').waitFor();
    const problems = await bad
      .getByRole('list', { name: 'Problems in binary-png-header.env' })
      .innerText();
    expect(problems).toMatch(/^Line 1: /);
    expect(await w.getByRole('radio', { name: 'Import binary-png-header.env' }).isDisabled()).toBe(
      true,
    );
    expect(await w.getByRole('radio', { name: 'Import faxbot-legacy.env' }).isChecked()).toBe(true);
    await shot(page, 'env-01-dropped-files');

    // Mapping: the seed's table, lower-case otherwise; the admin renames one key.
    await w.getByRole('button', { name: 'Next' }).click();
    const keyOfTimeout = w.getByRole('textbox', { name: 'Key for FAX_TIMEOUT' });
    await keyOfTimeout.waitFor();
    expect(await w.getByRole('textbox', { name: 'Key for FAX_BACKEND' }).inputValue()).toBe(
      'fax.backend.provider',
    );
    expect(await keyOfTimeout.inputValue()).toBe('fax_timeout');
    await keyOfTimeout.fill('fax.timeout_seconds');
    await keyOfTimeout.blur();

    // Placement: tenant-level keys go to Mercy Hospital.
    await w.getByRole('button', { name: 'Next' }).click();
    await w
      .getByRole('combobox', { name: 'Tenant for tenant-level keys' })
      .selectOption('mercy_hospital');
    const placement = w.getByRole('table', { name: 'Placement' });
    await expect
      .poll(() => placement.getByRole('row').filter({ hasText: 'HIPAA_MODE' }).innerText())
      .toContain('tenant mercy_hospital');

    // Preview: current, inherited and new per row; the bad row listed by line and not tickable.
    await w.getByRole('button', { name: 'Next' }).click();
    const table = w.getByRole('table', { name: 'Import preview' });
    await table.waitFor();
    const rowsCannot = await w
      .getByRole('list', { name: 'Rows that cannot be imported' })
      .innerText();
    expect(rowsCannot).toMatch(/^Line 8: Key 'security\.default_api_key' rejects value '••••••••'/);
    expect(await w.getByRole('checkbox', { name: 'Import API_KEY' }).isDisabled()).toBe(true);
    const timeoutRow = await table.getByRole('row', { name: 'Row FAX_TIMEOUT' }).innerText();
    expect(timeoutRow).toContain('fax.timeout_seconds');
    expect(timeoutRow).toContain('new');
    const hipaaRow = await table.getByRole('row', { name: 'Row HIPAA_MODE' }).innerText();
    expect(hipaaRow).toMatch(/from global/);
    const secretRow = await table.getByRole('row', { name: 'Row PHAXIO_API_KEY' }).innerText();
    expect(secretRow).toContain('••••••••');
    expect(await page.content()).not.toContain('pk_live_0123456789abcdef');
    await w.getByRole('checkbox', { name: 'Import PUBLIC_URL' }).uncheck();
    await w.getByRole('textbox', { name: 'Reason (recorded after the file name)' }).fill('phase 1');
    await shot(page, 'env-02-preview');

    // Stage: exactly the ticked rows, the file name in the reason.
    const stageButton = w.getByRole('button', { name: /^Stage \d+ changes?$/ });
    const label = await stageButton.innerText();
    const count = Number(/Stage (\d+)/.exec(label)![1]);
    await stageButton.click();
    await w
      .getByRole('status')
      .filter({ hasText: `Staged ${count} change(s) from faxbot-legacy.env` })
      .waitFor();
    const global = await service.entries('global', '');
    const timeout = global.find((e) => e.key === 'fax.timeout_seconds');
    expect(timeout).toMatchObject({ value: '30', staged: true });
    expect(global.find((e) => e.key === 'public_url')).toBeUndefined();
    const tenant = await service.entries('tenant', 'mercy_hospital');
    expect(tenant.find((e) => e.key === 'providers.phaxio.api_secret')).toMatchObject({
      encrypted: true,
      staged: true,
    });
    const history = await service.history({ key: 'fax.timeout_seconds' });
    expect(history[0]!.reason).toBe('Imported from faxbot-legacy.env: phase 1');
    expect((await service.info()).stagedCount).toBe(count);
    await shot(page, 'env-03-staged');
    await w.getByRole('button', { name: 'Close' }).click();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows why a dropped file is refused, by line, and offers nothing to import', async () => {
    const { page, errors } = await openConsole();
    const before = (await service.info()).stagedCount;
    await dropFiles(page, 'body', [fixture('hostile/unterminated-double.env')]);
    const w = wizard(page);
    const item = w.getByRole('listitem', { name: 'unterminated-double.env' });
    await item.getByText('Refused').waitFor();
    const text = await item
      .getByRole('list', { name: 'Problems in unterminated-double.env' })
      .innerText();
    expect(text).toMatch(/^Line 2: /);
    expect(await w.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await w.getByRole('button', { name: 'Cancel' }).click();
    expect((await service.info()).stagedCount).toBe(before);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('export and hybrid mode', () => {
  it('exports a user as a .env file and attaches a legacy file', async () => {
    const { page, errors } = await openConsole();
    await page.getByRole('button', { name: 'Export .env…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export .env' });
    await dialog.getByRole('combobox', { name: 'User' }).selectOption('dr_house');
    const download = page.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Export and download' }).click();
    expect((await download).suggestedFilename()).toBe('dr_house.env');
    const file = await dialog.getByLabel('Exported file').innerText();
    expect(file).toMatch(/^# Exported by Strata for user dr_house/);
    expect(file).toMatch(/\nFAX_BACKEND=sip\n/);
    expect(await dialog.getByRole('status', { name: 'Export summary' }).innerText()).toMatch(
      /secret key\(s\) left out/,
    );
    await dialog.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'Legacy .env…' }).click();
    const legacy = page.getByRole('dialog', { name: 'Legacy .env file' });
    await legacy.getByText('No legacy file is attached.').waitFor();
    await legacy.getByLabel('Choose a legacy .env file').setInputFiles({
      name: 'legacy.env',
      mimeType: 'text/plain',
      buffer: Buffer.from('LEGACY_ONLY_FLAG=on\nFAX_BACKEND=test\n'),
    });
    const summary = legacy.getByRole('status', { name: 'Legacy summary' });
    await summary.waitFor();
    expect(await summary.innerText()).toMatch(
      /legacy\.env is attached: 1 of 2 key\(s\) are still only in the file/,
    );
    const res = await service.resolve('legacy_only_flag', { userId: 'dr_house' });
    expect(res).toMatchObject({ value: 'on', level: 'env_legacy' });
    await shot(page, 'env-04-legacy');
    await legacy.getByRole('button', { name: 'Detach' }).click();
    await legacy.getByText('No legacy file is attached.').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('exports secrets only with the switch on and a reason, recording each reveal', async () => {
    const { page, errors } = await openConsole();
    await page.getByRole('button', { name: 'Export .env…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export .env' });
    await dialog.getByRole('combobox', { name: 'User' }).selectOption('dr_house');
    const button = dialog.getByRole('button', { name: 'Export and download' });
    await dialog.getByLabel('Include secrets').check();
    await dialog.getByText(/will hold secret values in plaintext/).waitFor();
    expect(await button.isDisabled()).toBe(true);
    const before = (await (service as StrataConfigService).reveals()).length;
    await dialog.getByRole('textbox', { name: /Reason/ }).fill('INC-9: fax gateway rebuild');
    expect(await button.isDisabled()).toBe(false);
    const download = page.waitForEvent('download');
    await button.click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('dr_house.env');
    const summary = dialog.getByRole('status', { name: 'Export summary' });
    expect(await summary.innerText()).toMatch(/3 secret\(s\) included/);
    // The dialog never shows the plaintext; the downloaded file holds it.
    expect(await dialog.getByLabel('Exported file').innerText()).toMatch(/contains secrets/);
    const text = readFileSync((await file.path())!, 'utf8');
    const secret = dotenv.parse(text).PHAXIO_API_KEY ?? '';
    expect(secret.length).toBeGreaterThan(8);
    expect(secret).not.toContain('•');
    expect(await page.content()).not.toContain(secret);
    const reveals = await (service as StrataConfigService).reveals();
    expect(reveals.length).toBe(before + 3);
    for (const r of reveals.slice(0, 3)) {
      expect(r.via).toBe('console');
      expect(r.reason).toMatch(/: INC-9: fax gateway rebuild$/);
    }
    await shot(page, 'env-05-export-secrets');
    expect(errors).toEqual([]);
    await page.close();
  });
});
