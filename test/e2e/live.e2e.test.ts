/**
 * End to end: two console sessions (two bridges, two Chromium pages) over the same PostgreSQL
 * database. A value saved in one arrives in the other within a second through LISTEN/NOTIFY
 * (services/live.ts) and the contract's events stream, without any reload.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import { openService } from '../../src-main/services/config-service.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { openPostgresDemo, tempDir } from './workspace-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
/**
 * How long a change may take to reach the other console's page. The service-level budget of one
 * second is asserted in test/integration/live-console.test.ts; in the browser the same path also
 * crosses the SSE stream and a React render, and this suite runs beside other Chromium suites, so
 * it allows two.
 */
const ARRIVES_WITHIN = { timeout: 2000, interval: 20 };
const temp = tempDir('strata-live-e2e-');
const webDir = join(temp.dir, 'web');
let browser: Browser;
let db: string;
let first: ConfigService;
let second: ConfigService;
let bridges: Bridge[] = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  const opened = await openPostgresDemo();
  db = opened.db;
  first = opened.service;
  second = await openService({ db, operator: 'superadmin', env: opened.env });
  await build({
    configFile: resolve('src-renderer/vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: webDir, emptyOutDir: true },
  });
  bridges = [
    await startBridgeForService(first, { staticDir: webDir }),
    await startBridgeForService(second, { staticDir: webDir }),
  ];
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const b of bridges) await b.close();
  await first?.close();
  await second?.close();
  await dropTestDatabases();
  temp.cleanup();
});

/** Live feeds of the database that have run their first read and wait for notifications. */
async function listening(): Promise<number> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const r = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE application_name = 'strata-live' AND datname = current_database()
         AND state = 'idle' AND query NOT ILIKE 'LISTEN%' AND query <> ''`,
    );
    return r.rows[0]!.n;
  } finally {
    await client.end();
  }
}

async function openConsole(bridge: Bridge): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(bridge.url);
  await page.getByRole('region', { name: 'Level editor' }).waitFor();
  await page.getByRole('heading', { name: 'Global', level: 2 }).waitFor();
  return { page, errors };
}

function themeOf(page: Page) {
  return page
    .getByRole('region', { name: 'Level editor' })
    .getByRole('group', { name: 'Theme', exact: true });
}

async function selectMercy(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Navigator' })
    .locator('[data-scope="mercy_hospital"]')
    .click();
  await page
    .getByRole('heading', { name: 'Tenant Mercy Hospital (mercy_hospital)', level: 2 })
    .waitFor();
  await page
    .getByRole('region', { name: 'Level editor' })
    .getByRole('progressbar', { name: 'Loading keys' })
    .waitFor({ state: 'detached' });
}

describe('two console sessions on the same PostgreSQL database', () => {
  it('shows a value saved in one console in the other within a second', async () => {
    await vi.waitFor(async () => expect(await listening()).toBe(2), { timeout: 10_000 });
    const a = await openConsole(bridges[0]!);
    const b = await openConsole(bridges[1]!);
    await selectMercy(a.page);
    await selectMercy(b.page);
    const before = await themeOf(b.page).getByRole('combobox', { name: 'Theme' }).inputValue();
    const next = before === 'business' ? 'neutral' : 'business';

    const theme = themeOf(a.page);
    await theme.getByRole('combobox', { name: 'Theme' }).selectOption(next);
    await theme.getByRole('button', { name: 'Save', exact: true }).click();
    await a.page
      .getByRole('alert')
      .filter({ hasText: 'Saved Theme at tenant mercy_hospital.' })
      .waitFor();
    // The change reaches the other console (over LISTEN/NOTIFY and its event stream) at once;
    // the slot it shows is then re-read and redrawn.
    const status = b.page.getByRole('status', { name: 'Live updates' });
    await vi.waitFor(async () => {
      expect((await status.allInnerTexts()).join(' ')).toMatch(
        /Live · [1-9]\d* change\(s\) arrived/,
      );
    }, ARRIVES_WITHIN);
    await vi.waitFor(
      async () => {
        expect(await themeOf(b.page).getByRole('combobox', { name: 'Theme' }).inputValue()).toBe(
          next,
        );
      },
      { timeout: 5000, interval: 20 },
    );
    // The other session's service answers the new value too (its index was refreshed live).
    expect((await second.resolve('ui.theme', { tenantId: 'mercy_hospital' })).value).toBe(next);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    await a.page.close();
    await b.page.close();
  });
});
