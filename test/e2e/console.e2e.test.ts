/**
 * End to end: the built console in Debian's Chromium, served by the web bridge (in-process) over
 * a real SQLite demo workspace and a real PostgreSQL database. Reads as what an admin does:
 * open the demo, edit a tenant value, see the department below override it, preview users,
 * stage, plan and push. Screenshots of each main screen go to test-artifacts/screenshots/.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  buildConsole,
  editor,
  keyGroup,
  launchChromium,
  openConsole,
  selectSlot,
  SETUP_TIMEOUT,
  shot,
} from './harness.js';
import {
  labelEnvironment,
  openPostgresDemo,
  openSqliteDemo,
  tempDir,
} from './workspace-fixtures.js';

const temp = tempDir('strata-e2e-');
const webDir = join(temp.dir, 'web');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  await buildConsole(webDir);
}, SETUP_TIMEOUT);

afterAll(async () => {
  await browser?.close();
  temp.cleanup();
});

describe('console over a SQLite demo workspace', () => {
  let service: ConfigService;
  let bridge: Bridge;

  beforeAll(async () => {
    ({ service } = await openSqliteDemo(temp.dir));
    bridge = await startBridgeForService(service, { staticDir: webDir });
  });

  afterAll(async () => {
    await bridge?.close();
    await service?.close();
  });

  it('opens the demo with every landmark and forgets the token from the address bar', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    await expect.poll(() => page.url()).toBe(`${bridge.origin}/`);
    for (const name of ['Level editor', 'Effective preview']) {
      expect(await page.getByRole('region', { name }).isVisible()).toBe(true);
    }
    expect(await page.getByRole('navigation', { name: 'Navigator' }).isVisible()).toBe(true);
    expect(await page.getByRole('status', { name: 'Environment' }).innerText()).toContain(
      'Draft workspace',
    );
    const fax = keyGroup(page, 'Fax provider');
    for (const name of ['Save', 'Stage', 'Reset', 'Remove override']) {
      expect(await fax.getByRole('button', { name, exact: true }).count()).toBe(1);
    }
    expect(await fax.getByRole('combobox', { name: 'Fax provider' }).inputValue()).toBe('phaxio');
    await shot(page, '01-overview');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('edits a tenant value and shows the Overridden chip at the department below', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    await selectSlot(page, 'mercy_hospital', 'Tenant Mercy Hospital (mercy_hospital)');
    const theme = keyGroup(page, 'Theme');
    await theme.getByRole('combobox', { name: 'Theme' }).selectOption('business');
    await theme.getByRole('button', { name: 'Save', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Staged Theme at tenant mercy_hospital.' })
      .waitFor();
    await expect.poll(() => theme.innerText()).toContain('Staged here');

    await selectSlot(
      page,
      'mercy_hospital/marketing',
      'Department Marketing (mercy_hospital/marketing)',
    );
    const deptTheme = keyGroup(page, 'Theme');
    expect(await deptTheme.getByText('Overridden', { exact: true }).isVisible()).toBe(true);
    await deptTheme.getByRole('button', { name: 'Show chain' }).click();
    const chain = deptTheme.getByRole('list', { name: 'Resolution chain of ui.theme' });
    await chain.waitFor();
    const text = await chain.innerText();
    expect(text).toMatch(/Tenant mercy_hospital\s+"business"\s+shadowed/);
    expect(text).toMatch(/Department mercy_hospital\/marketing\s+"business"\s+wins/);
    // An inherited key carries no chip here.
    expect(await keyGroup(page, 'Fax provider').getByText('Overridden').count()).toBe(0);
    await deptTheme.scrollIntoViewIfNeeded();
    await shot(page, '02-level-editor-overridden');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses an invalid value inline and changes nothing', async () => {
    const { page } = await openConsole(browser, bridge.url);
    const uploads = keyGroup(page, 'Maximum upload size (MB)');
    const input = uploads.getByRole('textbox', { name: 'Maximum upload size (MB)' });
    await input.fill('lots');
    await uploads.getByText(/rejects value "lots"/).waitFor();
    expect(await uploads.getByRole('button', { name: 'Save', exact: true }).isDisabled()).toBe(
      true,
    );
    await uploads.getByRole('button', { name: 'Reset', exact: true }).click();
    expect(await input.inputValue()).toBe('10');
    const stored = await service.entries('global', '');
    expect(stored.find((e) => e.key === 'uploads.max_size_mb')?.value).toBe('10');
    await page.close();
  });

  it('previews a user with each value and its source, and compares two users', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    const preview = page.getByRole('region', { name: 'Effective preview' });
    await preview.getByRole('combobox', { name: 'Preview user' }).fill('Alex');
    await page.getByRole('option', { name: 'Dr. Alex Kim (user123)' }).click();
    const fax = preview.getByRole('listitem', { name: 'fax_backend', exact: true });
    await expect.poll(() => fax.innerText()).toMatch(/sip\s+Group emergency_doctors_group/);
    await shot(page, '03-effective-preview');

    await preview.getByRole('combobox', { name: 'Compare with user' }).fill('Anna');
    await page.getByRole('option', { name: 'Anna Novak (mkt_anna)' }).click();
    await expect.poll(() => fax.innerText()).toMatch(/sip[\s\S]*phaxio/);
    expect(await preview.getByText(/\d+ differ/).isVisible()).toBe(true);
    await shot(page, '04-effective-compare');

    await preview.getByRole('button', { name: 'Ad-hoc context' }).click();
    await preview.getByRole('combobox', { name: 'Tenant' }).selectOption('general_hospital');
    const sip = preview.getByRole('listitem', { name: 'fax.backend.provider', exact: true });
    await expect.poll(() => sip.innerText()).toMatch(/sip\s+Tenant general_hospital/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('jumps with the command palette, shows the audit log and the dark theme', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    await page.keyboard.press('Control+k');
    const search = page.getByRole('combobox', { name: 'Jump to a key, tenant or user' });
    await search.fill('general');
    await page.getByRole('option', { name: /General Hospital \(general_hospital\)/ }).waitFor();
    await shot(page, '05-command-palette');
    await page.getByRole('option', { name: /General Hospital \(general_hospital\)/ }).click();
    await page
      .getByRole('heading', { name: 'Tenant General Hospital (general_hospital)' })
      .waitFor();

    await page.getByRole('button', { name: 'Audit log' }).click();
    const audit = page.getByRole('region', { name: 'Audit log' });
    await audit.waitFor();
    await audit.getByRole('progressbar').waitFor({ state: 'detached' });
    await shot(page, '06-audit-log');
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'Dark theme' }).click();
    await page.getByRole('button', { name: 'Light theme' }).waitFor();
    await shot(page, '07-dark-theme');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('console over PostgreSQL labelled production', () => {
  let service: ConfigService;
  let bridge: Bridge;
  let db: string;

  beforeAll(async () => {
    ({ service, db } = await openPostgresDemo());
    await labelEnvironment(db, 'production');
    bridge = await startBridgeForService(service, { staticDir: webDir });
  });

  afterAll(async () => {
    await bridge?.close();
    await service?.close();
    await dropTestDatabases();
  });

  it('shows production in red and writes a tenant value live, with a reason', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    const banner = page.getByRole('status', { name: 'Environment' });
    expect(await banner.innerText()).toMatch(/^PRODUCTION/);
    expect(await banner.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(183, 28, 28)',
    );
    await shot(page, '08-production-banner');

    await selectSlot(page, 'mercy_hospital', 'Tenant Mercy Hospital (mercy_hospital)');
    const theme = keyGroup(page, 'Theme');
    await theme.getByRole('combobox', { name: 'Theme' }).selectOption('neutral');
    await theme.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Production changes need a reason' }).waitFor();
    await editor(page)
      .getByRole('textbox', { name: 'Reason for changes' })
      .fill('INC-1234 calmer UI');
    await theme.getByRole('button', { name: 'Save', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Saved Theme at tenant mercy_hospital.' })
      .waitFor();
    const history = await service.history({
      key: 'ui.theme',
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    expect(history[0]).toMatchObject({
      newValue: 'neutral',
      reason: 'INC-1234 calmer UI',
      changedBy: 'superadmin',
    });

    await selectSlot(
      page,
      'mercy_hospital/marketing',
      'Department Marketing (mercy_hospital/marketing)',
    );
    expect(await keyGroup(page, 'Theme').getByText('Overridden', { exact: true }).isVisible()).toBe(
      true,
    );

    const preview = page.getByRole('region', { name: 'Effective preview' });
    await preview.getByRole('combobox', { name: 'Preview user' }).fill('Shepherd');
    await page.getByRole('option', { name: /Dr\. Derek Shepherd/ }).click();
    const row = preview.getByRole('listitem', { name: 'ui.theme', exact: true });
    await expect.poll(() => row.innerText()).toMatch(/neutral\s+Tenant mercy_hospital/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stages a change, plans it and pushes it after typing the environment', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    await selectSlot(page, 'general_hospital', 'Tenant General Hospital (general_hospital)');
    const terms = keyGroup(page, 'Terminology');
    await terms.getByRole('combobox', { name: 'Terminology' }).selectOption('standard');
    await editor(page).getByRole('textbox', { name: 'Reason for changes' }).fill('plain words');
    await terms.getByRole('button', { name: 'Stage', exact: true }).click();
    await page.getByRole('button', { name: 'Staged changes (1)' }).click();
    const drawer = page.getByRole('region', { name: 'Staged changes' });
    await drawer.getByText('Reason: plain words').waitFor();
    await shot(page, '09-staged-changes');
    await drawer.getByRole('button', { name: 'Plan', exact: true }).click();

    const plan = page.getByRole('region', { name: 'Plan' });
    await plan.getByText('ui.terminology').waitFor();
    expect(await plan.innerText()).toMatch(/update/);
    const push = page.getByRole('button', { name: 'Push', exact: true });
    expect(await push.isDisabled()).toBe(true);
    await plan.getByRole('textbox', { name: 'Reason (required in production)' }).fill('INC-1235');
    await plan.getByRole('textbox', { name: 'Type production to confirm' }).fill('production');
    await shot(page, '10-plan');
    await push.click();
    await page.getByText('1 of 1 pushed').waitFor();
    await plan
      .getByRole('status')
      .filter({ hasText: 'Pushed 1 change(s) to production.' })
      .waitFor();
    const gh = await service.resolve('ui.terminology', { tenantId: 'general_hospital' });
    expect(gh.value).toBe('standard');
    expect(errors).toEqual([]);
    await page.close();
  });
});
