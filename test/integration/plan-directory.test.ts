/**
 * A plan reads from the target's directory every tenant, department and group, but only the
 * users it names: those whose slots it changes, those its directory rows change and those a
 * template application is recorded for. Everything the plan and the push judge on those users
 * (parent slots, rights of a tenant admin, the directory plan) must come out as with the whole
 * directory, against a real PostgreSQL database.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { planDraft, pushDraft } from '../../src-main/services/draft-service.js';
import { openTarget } from '../../src-main/services/draft-target.js';
import { DraftWorkspace } from '../../src-main/services/draft-workspace.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoPg, pulled, rejection, set, write } from './draft-helpers.js';

afterAll(dropTestDatabases);

describe('the directory a plan reads', () => {
  it('holds every tenant, department and group, and only the users the plan names', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('user', 'user123', 'ui.language', 'es'),
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
    ]);
    // A template application at a user's scope, as the draft records one.
    const db = new Database(file);
    db.prepare(
      `INSERT INTO template_applications (template_name, version, level, scope, applied_at, applied_by)
       VALUES ('gmail-smtp', 1, 'user', 'dr_grey', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 second'), 'superadmin')`,
    ).run();
    db.close();

    const plan = await planDraft(file);
    const live = await openTarget(url);
    const whole = await live.readDirectory().finally(() => live.close());
    expect(plan.liveDirectory.tenants).toEqual(whole.tenants);
    expect(plan.liveDirectory.departments).toEqual(whole.departments);
    expect(plan.liveDirectory.groups).toEqual(whole.groups);
    expect(plan.liveDirectory.users).toEqual(
      whole.users.filter((u) => u.id === 'user123' || u.id === 'dr_grey'),
    );
    expect(whole.users.length).toBeGreaterThan(2);
  });

  it("finds a changed user's groups for the parent notes, and judges a tenant admin's rights by them", async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('user', 'user123', 'notification_urgency', 'low'),
      set('user', 'gh_nurse_lee', 'ui.language', 'ko'),
    ]);
    // Production moves a value of one of user123's groups since the pull.
    await write(url, [set('group', 'doctors', 'notification_urgency', 'high')]);
    const plan = await planDraft(file);
    const item = plan.items.find((i) => i.scope === 'user123')!;
    expect(item.parentChanged).toContainEqual(
      expect.objectContaining({ level: 'group', scope: 'doctors' }),
    );

    // Mercy's tenant admin may change Mercy's user, not General Hospital's: the refusal names
    // the user's tenant, which only the user's directory row tells.
    const refused = await rejection(pushDraft(file, { operator: 'mercy_admin', reason: 'r' }));
    expect(refused.code).toBe('forbidden');
    expect(refused.message).toMatch(/^Nothing was pushed: 1 item was refused: /);
    expect(refused.message).toContain('general_hospital');
    expect(refused.message).not.toContain('not in the directory');

    const ws = DraftWorkspace.open(file);
    try {
      ws.discardSync(
        ws
          .stagedRows()
          .filter((r) => r.scope === 'gh_nurse_lee')
          .map((r) => r.id),
      );
    } finally {
      await ws.close();
    }
    const out = await pushDraft(file, { operator: 'mercy_admin', reason: 'r' });
    expect(out).toMatchObject({ status: 'applied', applied: 1 });
  });
});
