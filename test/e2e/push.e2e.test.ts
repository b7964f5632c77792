/**
 * End to end: a draft pulled from a real PostgreSQL database (labelled production), opened in the
 * console in Debian's Chromium through the web bridge with the real draft service. The admin
 * edits a tenant value, another admin changes the same slot in PostgreSQL, the console marks the
 * conflict (live), the plan offers Keep mine / Take theirs, the push goes through after typing
 * the environment with a reason, and the audit log shows the push id. Impact and guardrails are
 * shown for a further staged change. Screenshots 30-* go to test-artifacts/screenshots/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import { openService } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
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
import { labelEnvironment, openPostgresDemo, tempDir } from './workspace-fixtures.js';

const temp = tempDir('strata-push-e2e-');
const webDir = join(temp.dir, 'web');
let browser: Browser;
let previousPassword: string | undefined;

/** The production database, a second admin's connection to it, and the console over a draft. */
let db: string;
let other: ConfigService;
let draft: ConfigService;
let bridge: Bridge;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  browser = await launchChromium();
  const opened = await openPostgresDemo();
  db = opened.db;
  env = opened.env;
  other = opened.service;
  await labelEnvironment(db, 'production');
  // A pulled draft records its source without the password; plan, push and live read PGPASSWORD.
  previousPassword = process.env.PGPASSWORD;
  process.env.PGPASSWORD = decodeURIComponent(new URL(db).password);
  const file = join(temp.dir, 'prod-draft.sqlite');
  await pullDraft(db, file);
  draft = await openService({ db: file, operator: 'superadmin', env: opened.env });
  await buildConsole(webDir);
  bridge = await startBridgeForService(draft, { staticDir: webDir });
}, SETUP_TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await bridge?.close();
  await draft?.close();
  await other?.close();
  await dropTestDatabases();
  if (previousPassword === undefined) delete process.env.PGPASSWORD;
  else process.env.PGPASSWORD = previousPassword;
  temp.cleanup();
});

async function stageTheme(page: Page, value: string, reason: string): Promise<void> {
  await selectSlot(page, 'mercy_hospital', 'Tenant Mercy Hospital (mercy_hospital)');
  const theme = keyGroup(page, 'Theme');
  await theme.getByRole('combobox', { name: 'Theme' }).selectOption(value);
  await editor(page).getByRole('textbox', { name: 'Reason for changes' }).fill(reason);
  await theme.getByRole('button', { name: 'Save', exact: true }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: 'Staged Theme at tenant mercy_hospital.' })
    .waitFor();
}

describe('console over a draft pulled from PostgreSQL (production)', () => {
  it('stages, sees a conflict arrive live, keeps mine, pushes and shows the audit row', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    expect(await page.getByRole('status', { name: 'Environment' }).innerText()).toMatch(
      /pulled from/,
    );
    await stageTheme(page, 'business', 'INC-2001 calmer wards');
    await page.getByRole('button', { name: 'Staged changes (1)' }).click();
    const drawer = page.getByRole('region', { name: 'Staged changes' });
    await drawer.getByText('Reason: INC-2001 calmer wards').waitFor();
    await drawer.getByText('Author: superadmin').waitFor();

    // Another admin changes the same slot in PostgreSQL, from a second connection.
    await other.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      value: 'neutral',
      reason: 'INC-2002 from the other admin',
    });
    await drawer
      .getByRole('note')
      .filter({ hasText: 'Conflict: changed in the target by superadmin' })
      .waitFor({ timeout: 5000 });
    await shot(page, '30-staged-conflict-live');

    await drawer.getByRole('button', { name: 'Plan', exact: true }).click();
    const plan = page.getByRole('region', { name: 'Plan' });
    const item = plan.getByRole('listitem', { name: 'ui.theme at tenant mercy_hospital' });
    await item.getByText('conflict', { exact: true }).waitFor();
    expect(await item.innerText()).toMatch(/the target now holds "neutral"; mine is "business"/);
    const push = page.getByRole('button', { name: 'Push', exact: true });
    expect(await push.isDisabled()).toBe(true);
    await shot(page, '31-plan-conflict');

    await item.getByRole('button', { name: 'Keep mine' }).click();
    await item.getByText('resolved: mine').waitFor();
    expect(await plan.innerText()).toMatch(/0 unresolved/);
    await plan.getByRole('textbox', { name: 'Reason (required in production)' }).fill('INC-2001');
    expect(await push.isDisabled()).toBe(true);
    await plan.getByRole('textbox', { name: 'Type production to confirm' }).fill('production');
    expect(await push.isDisabled()).toBe(false);
    await shot(page, '32-push-confirmation');
    await push.click();
    const done = plan.getByRole('status').filter({ hasText: /Pushed 1 change\(s\)/ });
    await done.waitFor();
    const pushId = /\(push ([^)]+)\)/.exec(await done.innerText())?.[1];
    expect(pushId).toBeTruthy();
    await shot(page, '33-pushed');

    // PostgreSQL holds mine, audited with the push id and the reason (read afresh: the other
    // admin's service keeps its own index).
    const fresh = await openService({ db, operator: 'superadmin', env });
    const res = await fresh.resolve('ui.theme', { tenantId: 'mercy_hospital' });
    await fresh.close();
    expect(res.value).toBe('business');
    const history = await other.history({
      key: 'ui.theme',
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    expect(history[0]).toMatchObject({ newValue: 'business', pushId });

    // The staged list is empty; the audit log shows the push's row with its id.
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await expect
      .poll(() => page.getByRole('button', { name: 'Staged changes (0)' }).count())
      .toBe(1);
    await page.getByRole('button', { name: 'Audit log' }).click();
    const audit = page.getByRole('region', { name: 'Audit log' });
    await audit.getByText(pushId!).first().waitFor();
    await shot(page, '34-audit-push');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the impact of a staged change and the guardrails grouped by rule', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    await stageTheme(page, 'medical', 'INC-2003 impact check');
    await page.getByRole('button', { name: 'Impact', exact: true }).click();
    const impact = page.getByRole('region', { name: 'Impact' });
    const key = impact.getByRole('listitem', { name: 'Impact of ui.theme' });
    await key.waitFor();
    expect(await key.innerText()).toMatch(
      /\d+ user\(s\), \d+ group\(s\), \d+ department\(s\), 1 tenant/,
    );
    await key.getByRole('button').first().click();
    await impact
      .getByRole('region', { name: /^Impact on / })
      .getByText(/ui\.theme: .* -> "medical"/)
      .waitFor();
    await shot(page, '35-impact');
    await page.getByRole('button', { name: 'Close', exact: true }).click();

    await page.getByRole('button', { name: 'Guardrails', exact: true }).click();
    const guard = page.getByRole('region', { name: 'Guardrails' });
    await guard.getByText(/\d+ error\(s\), \d+ warning\(s\)/).waitFor();
    expect(await guard.getByRole('heading', { level: 3 }).count()).toBeGreaterThan(0);
    await shot(page, '36-guardrails');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('pulls the source again from the staged drawer, keeping what is staged', async () => {
    const { page, errors } = await openConsole(browser, bridge.url);
    await stageTheme(page, 'dark', 'INC-2004 night shift');
    const staged = page.getByRole('button', { name: /^Staged changes \(\d+\)$/ });
    const count = await staged.innerText();
    const drawer = page.getByRole('region', { name: 'Staged changes' });
    const toast = (text: RegExp) => page.getByRole('alert').filter({ hasText: text });

    // Nothing written in PostgreSQL since the push refreshed the base: nothing is read again.
    await staged.click();
    await drawer.getByRole('button', { name: 'Pull again' }).click();
    await toast(
      /^Nothing changed in postgres:\/\/\S+ \(production\) since this draft's last pull or push; \d+ staged change\(s\) kept\.$/,
    ).waitFor();

    // Another admin changes another tenant's theme: the pull reads it into the base.
    await other.set({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'ui.theme',
      value: 'business',
      reason: 'INC-2005 from the other admin',
    });
    await staged.click();
    await drawer.getByRole('button', { name: 'Pull again' }).click();
    await toast(
      /^Pulled postgres:\/\/\S+ \(production\) again: \d+ values in the base, \d+ staged change\(s\) kept\.$/,
    ).waitFor();
    expect(await staged.innerText()).toBe(count);
    await selectSlot(page, 'general_hospital', 'Tenant General Hospital (general_hospital)');
    await expect
      .poll(() => keyGroup(page, 'Theme').getByRole('combobox', { name: 'Theme' }).inputValue())
      .toBe('business');

    // And the slot the draft stages: the pull keeps the change and says it now conflicts.
    await other.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      value: 'neutral',
      reason: 'INC-2006 from the other admin',
    });
    await page.keyboard.press('Control+k');
    await page.getByRole('combobox', { name: 'Jump to a key, tenant or user' }).fill('pull');
    await page.getByRole('option', { name: /^Pull postgres:\/\/\S+ again/ }).click();
    await toast(/1 of them on slots production changed since: plan to settle them\.$/).waitFor();
    await shot(page, '37-pulled-again');
    expect(await staged.innerText()).toBe(count);
    expect(errors).toEqual([]);
    await page.close();
  });
});
