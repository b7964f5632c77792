/**
 * End to end: the template tools of the built console in Debian's Chromium, served by the web
 * bridge (in-process) over a real SQLite demo workspace. Reads as what an admin does: apply the
 * Gmail template through the wizard (a bad address is refused inline, the instructions sit beside
 * the form, the diff is reviewed, the values are staged), create a tenant with the tenant wizard,
 * stage a template upgrade, and bulk-edit every department of a tenant. Screenshots go to
 * test-artifacts/screenshots/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { templateServiceFor } from '../../src-main/services/template-service.js';
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

const temp = tempDir('strata-e2e-tpl-');
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

/** Opens the console and the Templates dialog on one of its tabs. */
async function openTemplates(tab: string): Promise<OpenedPage> {
  // The template screenshots have always been 1000 px high, the other suites' 950.
  const opened = await openPage(browser, bridge.url, { width: 1500, height: 1000 });
  const { page } = opened;
  await editor(page).waitFor();
  await page.getByRole('button', { name: 'Templates', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Templates' });
  await dialog.waitFor();
  await dialog.getByRole('tab', { name: tab }).click();
  return opened;
}

function dialog(page: Page) {
  return page.getByRole('dialog', { name: 'Templates' });
}

async function next(page: Page): Promise<void> {
  await dialog(page).getByRole('button', { name: 'Next', exact: true }).click();
}

describe('template tools in the console (SQLite demo workspace)', () => {
  it('runs the template wizard end to end: choose, fill, target, review, stage', async () => {
    const { page, errors } = await openTemplates('Apply a template');
    const wizard = dialog(page).getByRole('region', { name: 'Template wizard' });

    // 1. Choose template.
    await wizard.getByRole('radio', { name: /gmail-smtp/ }).check();
    await shot(page, '20-template-choose');
    await next(page);

    // 2. Fill variables: the instructions sit beside the form; a bad address is refused inline.
    const instructions = wizard.getByRole('region', { name: 'Instructions' });
    expect(await instructions.innerText()).toContain('App Password');
    const user = wizard.getByRole('textbox', { name: 'EMAIL_USER' });
    await user.fill('frontdesk@yahoo.com');
    await wizard.getByText(/EMAIL_USER must match the pattern/).waitFor();
    expect(
      await wizard.getByText('Gmail email address — Example: your-email@gmail.com').count(),
    ).toBe(0);
    await next(page);
    // Still on the variables step: the missing password is now flagged too.
    await wizard.getByText('EMAIL_PASS is required.').waitFor();
    await user.fill('frontdesk@gmail.com');
    await wizard.getByLabel('EMAIL_PASS').fill('abcdefghijklmnop');
    await shot(page, '21-template-variables');
    await next(page);

    // 3. Level and scope.
    await wizard.getByRole('combobox', { name: 'Level' }).selectOption('tenant');
    await wizard.getByRole('combobox', { name: 'Scope' }).selectOption('mercy_hospital');
    await next(page);

    // 4. Review the diff: new keys, the secret masked.
    const table = wizard.getByRole('table', { name: 'Changes to review' });
    await table.waitFor();
    const pass = table.locator('tr[data-key="smtp.auth_pass"]');
    expect(await pass.innerText()).toContain('••••••••');
    expect(await pass.getAttribute('data-action')).toBe('create');
    expect(await table.innerText()).not.toContain('abcdefghijklmnop');
    expect(await wizard.getByText(/5 new/).isVisible()).toBe(true);
    await shot(page, '22-template-review');
    await next(page);

    // 5. Stage.
    await wizard.getByRole('textbox', { name: 'Reason' }).fill('front desk mail');
    await wizard.getByRole('button', { name: 'Stage', exact: true }).click();
    await wizard
      .getByRole('status')
      .filter({ hasText: 'Staged gmail-smtp v1 at tenant mercy_hospital: 5 values' })
      .waitFor();
    await shot(page, '23-template-staged');

    const entries = await service.entries('tenant', 'mercy_hospital');
    const host = entries.find((e) => e.key === 'smtp.host');
    expect(host).toMatchObject({ value: 'smtp.gmail.com', staged: true });
    expect(entries.find((e) => e.key === 'smtp.auth_pass')).toMatchObject({
      value: '••••••••',
      encrypted: true,
    });
    const history = await service.history({ key: 'smtp.host' });
    expect(history[0]?.reason).toBe('front desk mail');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('creates a tenant with the tenant wizard: id and name, type, departments, groups, review, stage', async () => {
    const { page, errors } = await openTemplates('New tenant');
    const wizard = dialog(page).getByRole('region', { name: 'Tenant wizard' });

    await wizard.getByRole('textbox', { name: 'Tenant id' }).fill('mercy_hospital');
    await wizard.getByText('Tenant mercy_hospital already exists.').waitFor();
    await wizard.getByRole('textbox', { name: 'Tenant id' }).fill('st_marys');
    await wizard.getByRole('textbox', { name: 'Tenant name' }).fill("St Mary's Hospital");
    await next(page);

    await wizard.getByRole('combobox', { name: 'Tenant template' }).selectOption('healthcare');
    await wizard
      .getByRole('region', { name: 'Instructions' })
      .getByText(/HIPAA compliance/)
      .waitFor();
    await next(page);

    // Departments start from the template's; add one.
    const depts = wizard.getByRole('group', { name: 'Departments' });
    expect(await depts.getByRole('textbox', { name: 'Department 1 id' }).inputValue()).toBe(
      'medical',
    );
    await wizard.getByRole('button', { name: 'Add department' }).click();
    await depts.getByRole('textbox', { name: 'Department 4 id' }).fill('emergency');
    await depts.getByRole('textbox', { name: 'Department 4 name' }).fill('Emergency');
    await shot(page, '24-tenant-departments');
    await next(page);

    // Groups in priority order: move admins to the top, put doctors in emergency.
    const groups = wizard.getByRole('group', { name: 'Groups' });
    expect(await groups.getByRole('textbox', { name: 'Group 3 id' }).inputValue()).toBe('admins');
    await groups.getByRole('button', { name: 'Move group admins up' }).click();
    await groups.getByRole('button', { name: 'Move group admins up' }).click();
    expect(await groups.getByRole('textbox', { name: 'Group 1 id' }).inputValue()).toBe('admins');
    await groups.getByRole('combobox', { name: 'Group 2 department' }).selectOption('emergency');
    await shot(page, '25-tenant-groups');
    await next(page);

    const review = wizard.getByRole('group', { name: 'Tenant review' });
    await review.waitFor();
    const text = await review.innerText();
    expect(text).toContain('1. Admins (st_marys.admins in administration)');
    expect(text).toContain('2. Doctors (st_marys.doctors in emergency)');
    expect(text).toContain('Emergency (emergency)');
    expect(await review.getByRole('table', { name: 'Tenant values to review' }).isVisible()).toBe(
      true,
    );
    await shot(page, '26-tenant-review');
    await next(page);

    await wizard.getByRole('button', { name: 'Stage', exact: true }).click();
    await wizard
      .getByRole('status')
      .filter({ hasText: 'Staged tenant st_marys with 4 departments, 3 groups' })
      .waitFor();

    const dir = await service.directory();
    expect(dir.tenants.find((t) => t.id === 'st_marys')).toMatchObject({
      tenantType: 'healthcare',
    });
    expect(
      dir.departments
        .filter((d) => d.tenantId === 'st_marys')
        .map((d) => d.id)
        .sort(),
    ).toEqual(['administration', 'emergency', 'it', 'medical']);
    expect(dir.groups.find((g) => g.id === 'st_marys.doctors')?.department).toBe('emergency');
    const values = await service.entries('tenant', 'st_marys');
    expect(values.find((e) => e.key === 'compliance.hipaa.enabled')).toMatchObject({
      value: 'true',
      locked: true,
      staged: true,
    });

    // The navigator shows the new tenant without a reload.
    await dialog(page).getByRole('button', { name: 'Close' }).click();
    await page
      .getByRole('navigation', { name: 'Navigator' })
      .locator('[data-scope="st_marys"]')
      .waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows each scope that uses an older template version and stages its upgrade', async () => {
    const templates = templateServiceFor(service as StrataConfigService);
    const v1 = (await templates.show('gmail-smtp')).definition;
    await templates.publish({
      ...v1,
      version: 2,
      configs: { ...v1.configs, 'smtp.port': { value: '465' } },
    });

    const { page, errors } = await openTemplates('Upgrades');
    const view = dialog(page).getByRole('region', { name: 'Template upgrades' });
    const card = view.getByRole('group', { name: 'gmail-smtp v1 → v2 at tenant mercy_hospital' });
    await card.waitFor();
    const row = card.locator('tr[data-key="smtp.port"]');
    expect(await row.innerText()).toMatch(/Changed\s+587[\s\S]*465/);
    expect(await card.locator('tbody tr').count()).toBe(1);
    await shot(page, '27-template-upgrades');
    await card.getByRole('button', { name: 'Stage upgrade of tenant mercy_hospital' }).click();
    await view.getByText('Every scope is at the current version of its templates.').waitFor();

    const port = (await service.entries('tenant', 'mercy_hospital')).find(
      (e) => e.key === 'smtp.port',
    );
    expect(port?.value).toBe('465');
    expect((await templates.applications('gmail-smtp'))[0]?.version).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('bulk-edits one key across every department of a tenant as one change set', async () => {
    const { page, errors } = await openTemplates('Bulk edit');
    const form = dialog(page).getByRole('region', { name: 'Bulk edit' });
    await form.getByRole('combobox', { name: 'Key' }).fill('ui.theme');
    await form.getByRole('combobox', { name: 'Level' }).selectOption('department');
    await form.getByRole('combobox', { name: 'Tenant' }).selectOption('general_hospital');
    await form.getByRole('button', { name: 'Select all shown' }).click();
    await form.getByText('2 selected').waitFor();
    await form.getByRole('combobox', { name: 'Value' }).selectOption('business');
    await form.getByRole('button', { name: 'Preview' }).click();
    await form
      .getByRole('status')
      .filter({ hasText: 'Would change ui.theme at 2 of 2 department scopes' })
      .waitFor();
    await form.getByRole('button', { name: 'Stage', exact: true }).click();
    await form
      .getByRole('status')
      .filter({ hasText: 'Staged ui.theme at 2 of 2 department scopes as one change set' })
      .waitFor();
    await shot(page, '28-bulk-edit');
    for (const scope of ['general_hospital/medical', 'general_hospital/administration']) {
      const e = (await service.entries('department', scope)).find((x) => x.key === 'ui.theme');
      expect(e).toMatchObject({ value: 'business', staged: true });
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
