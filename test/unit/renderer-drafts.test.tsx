// @vitest-environment jsdom
/**
 * The console's draft features over the real bridge and the real draft service: a draft pulled
 * from a real PostgreSQL database, staged changes with author and undo, live conflict marks, the
 * three-way plan with Keep mine / Take theirs, the push (which empties the staged list), the
 * impact preview, guardrails grouped by rule and the drawer/plan rendering of it all.
 */
import { cleanup, configure, fireEvent, render, screen, within } from '@testing-library/react';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import { createClient, createHttpTransport } from '../../src-main/contract/client.js';
import type { PlanItem } from '../../src-main/contract/contract.js';
import type { LintFinding } from '../../src-main/contract/impact-channels.js';
import { openService } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { StagedDrawer } from '../../src-renderer/components/staged-drawer.js';
import { describeChange, PlanView } from '../../src-renderer/components/plan-view.js';
import { slotKeyOf } from '../../src-renderer/features/drafts/drafts-slice.js';
import { groupByRule } from '../../src-renderer/features/guardrails/guardrails-panel.js';
import {
  createStrataStore,
  StoreProvider,
  type StrataStore,
} from '../../src-renderer/store/store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { openPostgresDemo, tempDir } from '../e2e/workspace-fixtures.js';

configure({ defaultHidden: true, asyncUtilTimeout: 5000 });

const temp = tempDir('strata-drafts-ui-');
let other: ConfigService;
let draft: ConfigService;
let bridge: Bridge;
let store: StrataStore;
let previousPassword: string | undefined;

beforeAll(async () => {
  const opened = await openPostgresDemo();
  other = opened.service;
  previousPassword = process.env.PGPASSWORD;
  process.env.PGPASSWORD = decodeURIComponent(new URL(opened.db).password);
  const file = join(temp.dir, 'draft.sqlite');
  await pullDraft(opened.db, file);
  draft = await openService({ db: file, operator: 'superadmin', env: opened.env });
  // Live updates are covered by the e2e tests; here conflicts come from the plan itself.
  bridge = await startBridgeForService(draft, { live: false });
  const client = createClient(createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }));
  store = createStrataStore(client);
  await store.getState().init();
}, 60_000);

afterEach(() => cleanup());

afterAll(async () => {
  store?.getState().dispose();
  await bridge?.close();
  await draft?.close();
  await other?.close();
  await dropTestDatabases();
  if (previousPassword === undefined) delete process.env.PGPASSWORD;
  else process.env.PGPASSWORD = previousPassword;
  temp.cleanup();
});

function renderWith(node: React.ReactNode): void {
  render(<StoreProvider store={store}>{node}</StoreProvider>);
}

const slot = { level: 'tenant' as const, scope: 'general_hospital', key: 'ui.theme' };

describe('console draft features', () => {
  it('lists staged changes with reason and author, and marks a live conflict', async () => {
    const ok = await store.getState().stageChange({
      ...slot,
      action: 'set',
      value: 'business',
      valueType: 'string',
      secret: false,
      reason: 'plain words',
    });
    expect(ok).toBe(true);
    const staged = store.getState().serverStaged;
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatchObject({ ...slot, value: 'business', author: 'superadmin' });

    store.getState().handleLiveEvent({
      type: 'live-changes',
      changes: [
        {
          ...slot,
          action: 'set',
          changedBy: 'dr_grey',
          changedAt: new Date(0).toISOString(),
          pushId: null,
        },
      ],
      conflicts: [slot],
      hidden: 0,
      lastSeq: 1,
    });
    expect(store.getState().liveConflicts[slotKeyOf(slot)]).toBeTruthy();
    store.getState().setDrawerOpen(true);
    renderWith(<StagedDrawer />);
    const drawer = screen.getByRole('region', { name: 'Staged changes' });
    expect(within(drawer).getByText('Reason: plain words')).toBeTruthy();
    expect(within(drawer).getByText('Author: superadmin')).toBeTruthy();
    expect(within(drawer).getByRole('note').textContent).toMatch(
      /changed in the target by dr_grey/,
    );
    store.getState().setDrawerOpen(false);
    store.getState().clearLiveConflicts();
  });

  it('plans a conflict three-way, settles it with Take theirs, and pushes nothing over it', async () => {
    await other.set({ ...slot, value: 'neutral', reason: 'other admin' });
    await store.getState().makePlan();
    const plan = store.getState().plan!;
    expect(store.getState().planStatus).toBe('ready');
    const item = plan.items.find((i) => i.key === slot.key)!;
    expect(item).toMatchObject({ status: 'conflict', theirs: 'neutral', mine: 'business' });
    expect(store.getState().planLint).not.toBeNull();

    renderWith(<PlanView />);
    const row = screen.getByRole('listitem', { name: 'ui.theme at tenant general_hospital' });
    expect(row.textContent).toMatch(/the target now holds "neutral"; mine is "business"/);
    const push = screen.getByRole('button', { name: 'Push' }) as HTMLButtonElement;
    expect(push.disabled).toBe(true);
    fireEvent.click(within(row).getByRole('button', { name: 'Take theirs' }));
    await expect
      .poll(() => store.getState().plan?.items.find((i) => i.key === slot.key)?.resolution)
      .toBe('theirs');
    expect(store.getState().plan!.summary.unresolved).toBe(0);
  });

  it('pushes a resolved plan after the confirmation and empties the staged list', async () => {
    // Re-stage a clean change so the push has something to write.
    await store.getState().undo(store.getState().serverStaged[0]!.id);
    expect(store.getState().serverStaged).toHaveLength(0);
    await store.getState().stageChange({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      action: 'set',
      value: 'business',
      valueType: 'string',
      secret: false,
      reason: 'calmer wards',
    });
    await store.getState().makePlan();
    const plan = store.getState().plan!;
    expect(plan.summary.unresolved).toBe(0);
    const word = plan.environment ?? plan.target;
    expect(await store.getState().push('wrong', 'INC-1')).toBe(false);
    expect(await store.getState().push(word, 'INC-1')).toBe(true);
    expect(store.getState().planResult).toMatch(/^Pushed 1 change\(s\) to .* \(push .+\)\.$/);
    expect(store.getState().serverStaged).toHaveLength(0);
    const rows = await other.history({ key: 'ui.theme', level: 'tenant', scope: 'mercy_hospital' });
    // The audit rows carry the push's reason and id.
    expect(rows[0]).toMatchObject({ newValue: 'business', reason: 'INC-1' });
    expect(rows[0]!.pushId).not.toBeNull();

    // Revert push stages the undo of every slot of that push (from the draft's own audit log).
    const pushId = /\(push ([^)]+)\)/.exec(store.getState().planResult ?? '')?.[1];
    expect(pushId).toBeTruthy();
    expect(await store.getState().revertPush(pushId!)).toBe(1);
    expect(store.getState().serverStaged).toEqual([
      expect.objectContaining({ scope: 'mercy_hospital', key: 'ui.theme', value: 'medical' }),
    ]);
    await store.getState().undo(store.getState().serverStaged[0]!.id);
  });

  it('previews the impact of the staged set and runs the guardrails', async () => {
    await store.getState().stageChange({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      action: 'set',
      value: 'neutral',
      valueType: 'string',
      secret: false,
      reason: 'impact',
    });
    await store.getState().openImpact(true);
    const impact = store.getState().impact!;
    expect(store.getState().impactStatus).toBe('ready');
    const key = impact.keys.find((k) => k.key === 'ui.theme')!;
    expect(key.usersAffected).toBeGreaterThan(0);
    expect(key.tenants.map((t) => t.id)).toEqual(['mercy_hospital']);
    const user = key.userIds![0]!;
    await store.getState().drillImpactUser(user, 'ui.theme');
    const drill = store.getState().impactUser!;
    expect(drill.userId).toBe(user);
    expect(drill.items.find((i) => i.key === 'ui.theme')?.after.value).toBe('neutral');
    await store.getState().openImpact(false);

    await store.getState().loadLint(false);
    expect(store.getState().lintStatus).toBe('ready');
    const groups = groupByRule(store.getState().lint!.findings);
    expect(groups.length).toBeGreaterThan(0);
  });
});

describe('point in time over a live PostgreSQL workspace', () => {
  it("shows a user's effective configuration as of a past moment, diffed against now", async () => {
    const live = await openPostgresDemo();
    const liveBridge = await startBridgeForService(live.service, { live: false });
    const client = createClient(
      createHttpTransport({ baseUrl: liveBridge.origin, token: liveBridge.token }),
    );
    const liveStore = createStrataStore(client);
    try {
      await liveStore.getState().init();
      const c = new pg.Client({ connectionString: live.db });
      await c.connect();
      // The moment is taken from the database clock, so no wall-clock assumption is made here.
      const before = (await c.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t;
      await c.end();
      await live.service.set({
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'ui.theme',
        value: 'business',
        reason: 'as-of check',
      });
      await liveStore.getState().setPreviewTarget({ kind: 'user', userId: 'dr_shepherd' });
      await liveStore.getState().setAsOf(before.toISOString());
      expect(liveStore.getState().asOfError).toBeNull();
      const view = liveStore.getState().asOfView!;
      const theme = view.items.find((i) => i.key === 'ui.theme');
      expect(theme?.changed).toBe(true);
      expect(theme?.now?.value).toBe('business');
      expect(theme?.then?.value).not.toBe('business');
      expect(view.changed).toBeGreaterThanOrEqual(1);
    } finally {
      liveStore.getState().dispose();
      await liveBridge.close();
      await live.service.close();
    }
  });
});

describe('plan and guardrail helpers', () => {
  const base: PlanItem = {
    id: '1',
    level: 'tenant',
    scope: 't',
    key: 'k',
    action: 'set',
    base: 'a',
    theirs: 'b',
    mine: 'c',
    valueType: 'string',
    secret: false,
    status: 'update',
    resolution: null,
    reason: null,
  };

  it('describes every plan status as old -> new', () => {
    expect(describeChange(base)).toBe('changed: "b" -> "c"');
    expect(describeChange({ ...base, status: 'create', theirs: null })).toBe('added: "c"');
    expect(describeChange({ ...base, status: 'delete', action: 'unset', mine: null })).toBe(
      'removed: "b" -> (inherited)',
    );
    expect(describeChange({ ...base, status: 'conflict' })).toMatch(
      /staged over "a", the target now holds "b"; mine is "c"/,
    );
  });

  it('groups findings by rule, errors first in the panel order', () => {
    const f = (rule: LintFinding['rule']): LintFinding => ({
      rule,
      severity: 'warning',
      key: 'k',
      level: null,
      scope: null,
      message: 'm',
    });
    const groups = groupByRule([f('redundant'), f('policy'), f('redundant'), f('dead')]);
    expect(groups.map(([r, list]) => [r, list.length])).toEqual([
      ['policy', 1],
      ['dead', 1],
      ['redundant', 2],
    ]);
  });
});
