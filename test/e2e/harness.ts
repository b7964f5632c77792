/**
 * The shared set-up of the end-to-end suites: the console built once per suite with vite, Debian's
 * Chromium launched headless, pages opened with a fixed viewport that collect uncaught page
 * errors, a few locators of the level editor, and screenshots taken once transitions have
 * settled. Workspaces (SQLite and PostgreSQL) are in workspace-fixtures.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core ships no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the suites' screenshots go, kept by CI as artifacts. */
export const SHOTS = resolve('test-artifacts/screenshots');

/** The viewport every suite's pages open with unless it asks for another. */
export const VIEWPORT = { width: 1500, height: 950 };

/** How long a suite's beforeAll may take: a vite build plus Chromium on a busy 2-core machine. */
export const SETUP_TIMEOUT = 180_000;

/** A page of the console and the uncaught errors it has thrown so far. */
export interface OpenedPage {
  page: Page;
  errors: string[];
}

/** Builds the console (the renderer's vite config) into `outDir`, emptying it first. */
export async function buildConsole(outDir: string): Promise<void> {
  await build({
    configFile: resolve('src-renderer/vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

/** Launches headless Chromium from CHROMIUM, failing with the install hint when it is missing. */
export async function launchChromium(): Promise<Browser> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The test machine runs as root in a container without a GPU; no background traffic keeps
    // the runs independent of the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Opens `url` in a new page of `browser`, collecting the page's uncaught errors from the start. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = VIEWPORT,
): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

/** Opens the console at `url` and waits until the workspace has loaded at the Global level. */
export async function openConsole(browser: Browser, url: string): Promise<OpenedPage> {
  const opened = await openPage(browser, url);
  await editor(opened.page).waitFor();
  await opened.page.getByRole('heading', { name: 'Global', level: 2 }).waitFor();
  return opened;
}

/** The level editor region of the console. */
export function editor(page: Page): Locator {
  return page.getByRole('region', { name: 'Level editor' });
}

/** The level editor's card of one key, by its display name. */
export function keyGroup(page: Page, name: string): Locator {
  return editor(page).getByRole('group', { name, exact: true });
}

/** Selects a slot in the navigator and waits until the level editor has loaded its keys. */
export async function selectSlot(page: Page, scope: string, heading: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Navigator' })
    .locator(`[data-scope="${scope}"]`)
    .click();
  await page.getByRole('heading', { name: heading, level: 2 }).waitFor();
  await editor(page)
    .getByRole('progressbar', { name: 'Loading keys' })
    .waitFor({ state: 'detached' });
}

/**
 * Saves SHOTS/`name`.png once finite animations (drawer and dialog transitions) have finished,
 * so a screenshot never catches a half-open dialog; spinners (infinite) are not waited for.
 */
export async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getTiming().iterations !== Infinity)
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
