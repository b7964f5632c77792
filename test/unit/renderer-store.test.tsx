// @vitest-environment jsdom
/**
 * The console store over the real bridge and a real SQLite demo workspace (HTTP transport, as in
 * a browser): loading, selecting slots, inline validation, saves, removes, chains, reveal,
 * previews and the live-workspace staging queue with its plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import { createClient, createHttpTransport } from '../../src-main/contract/client.js';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { buildLocalPlan } from '../../src-renderer/lib/plan.js';
import { createStrataStore, type StrataStore } from '../../src-renderer/store/store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { openPostgresDemo, openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';

async function storeOver(service: ConfigService): Promise<{ store: StrataStore; bridge: Bridge }> {
  const bridge = await startBridgeForService(service);
  const client = createClient(createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }));
  const store = createStrataStore(client);
  await store.getState().init();
  return { store, bridge };
}

describe('console store on a draft workspace', () => {
  const temp = tempDir();
  let service: ConfigService;
  let bridge: Bridge;
  let store: StrataStore;

  beforeAll(async () => {
    ({ service } = await openSqliteDemo(temp.dir));
    ({ store, bridge } = await storeOver(service));
  });

  afterAll(async () => {
    store.getState().dispose();
    await bridge.close();
    await service.close();
    temp.cleanup();
  });

  it('loads the workspace, the directory, metadata, the global slot and a preview', () => {
    const s = store.getState();
    expect(s.status).toBe('ready');
    expect(s.info?.kind).toBe('draft');
    expect(s.directory?.tenants).toHaveLength(2);
    expect(s.metaByKey['ui.theme']?.displayName).toBeTruthy();
    expect(s.slot?.level).toBe('global');
    expect(s.slot?.items.find((i) => i.key === 'fax_backend')?.entry?.value).toBe('phaxio');
    expect(s.effective?.length).toBeGreaterThan(5);
  });

  it('validates inline before saving and keeps the slot unchanged on refusal', async () => {
    await store.getState().select('tenant', 'mercy_hospital');
    store.getState().setInput('uploads.max_size_mb', 'lots');
    expect(store.getState().fieldErrors['uploads.max_size_mb']).toMatch(/uploads\.max_size_mb/);
    expect(await store.getState().save('uploads.max_size_mb')).toBe(false);
    const item = store.getState().slot?.items.find((i) => i.key === 'uploads.max_size_mb');
    expect(item?.entry).toBeNull();
  });

  it('saves a tenant value and the department below shows it as overridden', async () => {
    await store.getState().select('tenant', 'mercy_hospital');
    store.getState().setInput('ui.theme', 'neutral');
    expect(store.getState().fieldErrors['ui.theme']).toBeNull();
    expect(await store.getState().save('ui.theme', 'store test')).toBe(true);
    expect(store.getState().inputs['ui.theme']).toBeUndefined();
    const tenantItem = store.getState().slot?.items.find((i) => i.key === 'ui.theme');
    expect(tenantItem?.entry).toMatchObject({ value: 'neutral', staged: true });
    expect(store.getState().toast?.message).toMatch(/^Staged/);

    await store.getState().select('department', 'mercy_hospital/marketing');
    const dept = store.getState().slot?.items.find((i) => i.key === 'ui.theme');
    expect(dept?.entry?.value).toBe('business');
    expect(dept?.inherited).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      value: 'neutral',
    });

    await store.getState().toggleChain('ui.theme');
    const chain = store.getState().chains['ui.theme'];
    expect(
      chain && chain !== 'loading' && chain.chain.map((l) => [l.level, l.value, l.shadowed]),
    ).toEqual([
      ['global', 'neutral', true],
      ['tenant', 'neutral', true],
      ['department', 'business', false],
    ]);
  });

  it('removes an override', async () => {
    await store.getState().select('user', 'dr_house');
    expect(store.getState().previewTarget).toEqual({ kind: 'user', userId: 'dr_house' });
    expect(
      store.getState().slot?.items.find((i) => i.key === 'notification_urgency')?.entry?.value,
    ).toBe('low');
    expect(
      await store.getState().removeOverride('notification_urgency', 'back to group value'),
    ).toBe(true);
    const item = store.getState().slot?.items.find((i) => i.key === 'notification_urgency');
    expect(item?.entry).toBeNull();
    // dr_house's first group (doctors) wins over emergency_doctors_group.
    expect(item?.inherited).toMatchObject({ level: 'group', scope: 'doctors', value: 'normal' });
    expect(store.getState().effective?.find((i) => i.key === 'notification_urgency')).toMatchObject(
      {
        value: 'normal',
        level: 'group',
      },
    );
  });

  it('masks secrets until revealed', async () => {
    await store.getState().select('global', '');
    const item = store.getState().slot?.items.find((i) => i.key === 'providers.phaxio.api_key');
    expect(item?.entry?.value).toBe(MASK);
    await store.getState().reveal('providers.phaxio.api_key');
    expect(store.getState().revealed['providers.phaxio.api_key']).toBe(
      'demo-global-phaxio-key-0001',
    );
    store.getState().hide('providers.phaxio.api_key');
    expect(store.getState().revealed['providers.phaxio.api_key']).toBeUndefined();
  });

  it('previews an ad-hoc context and compares two users', async () => {
    await store.getState().setPreviewTarget({
      kind: 'adhoc',
      tenantId: 'mercy_hospital',
      department: 'medical',
      groups: ['emergency_doctors_group'],
    });
    expect(store.getState().effective?.find((i) => i.key === 'fax_backend')).toMatchObject({
      value: 'sip',
      level: 'group',
      scope: 'emergency_doctors_group',
    });
    await store.getState().setPreviewTarget({ kind: 'user', userId: 'user123' });
    await store.getState().setCompareUser('mkt_anna');
    const a = store.getState().effective?.find((i) => i.key === 'fax_backend');
    const b = store.getState().compareEffective?.find((i) => i.key === 'fax_backend');
    expect([a?.value, b?.value]).toEqual(['sip', 'phaxio']);
  });

  it('stages through the service in a draft and lists nothing without a draft service', async () => {
    await store.getState().select('group', 'doctors');
    store.getState().setInput('notification_urgency', 'high');
    expect(await store.getState().stageInput('notification_urgency', 'drill')).toBe(true);
    expect(store.getState().local).toHaveLength(0);
    expect(
      store.getState().slot?.items.find((i) => i.key === 'notification_urgency')?.entry,
    ).toMatchObject({
      value: 'high',
      staged: true,
    });
  });
});

describe('console store on a live PostgreSQL workspace', () => {
  let service: ConfigService;
  let bridge: Bridge;
  let store: StrataStore;

  beforeAll(async () => {
    ({ service } = await openPostgresDemo());
    ({ store, bridge } = await storeOver(service));
  });

  afterAll(async () => {
    store.getState().dispose();
    await bridge.close();
    await service.close();
    await dropTestDatabases();
  });

  it('queues staged changes, plans them three-way and pushes them', async () => {
    await store.getState().select('tenant', 'general_hospital');
    store.getState().setInput('ui.terminology', 'standard');
    expect(await store.getState().stageInput('ui.terminology', 'plain words')).toBe(true);
    expect(store.getState().local).toHaveLength(1);
    expect(store.getState().stagedCount()).toBe(1);
    // Nothing was written yet.
    expect(store.getState().slot?.items.find((i) => i.key === 'ui.terminology')?.entry?.value).toBe(
      'clinical',
    );

    // Someone else changes another staged slot meanwhile: a conflict.
    await store.getState().select('tenant', 'mercy_hospital');
    store.getState().setInput('ui.theme', 'neutral');
    await store.getState().stageInput('ui.theme', 'calmer colours');
    await service.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      value: 'business',
      reason: 'other admin',
    });

    await store.getState().makePlan();
    const plan = store.getState().plan!;
    expect(plan.summary).toMatchObject({ update: 1, conflicts: 1, unresolved: 1 });
    const conflict = plan.items.find((i) => i.status === 'conflict')!;
    expect(conflict).toMatchObject({
      key: 'ui.theme',
      base: 'medical',
      theirs: 'business',
      mine: 'neutral',
    });

    expect(await store.getState().push(plan.target, null)).toBe(false);
    await store.getState().resolveConflict(conflict.id, 'theirs');
    expect(store.getState().plan?.summary.unresolved).toBe(0);
    expect(await store.getState().push('wrong', null)).toBe(false);
    expect(await store.getState().push(plan.environment ?? plan.target, 'console push')).toBe(true);
    expect(store.getState().local).toHaveLength(0);
    expect(store.getState().pushProgress).toEqual({ done: 1, total: 1 });

    const gh = await service.resolve('ui.terminology', { tenantId: 'general_hospital' });
    const mercy = await service.resolve('ui.theme', { tenantId: 'mercy_hospital' });
    expect([gh.value, mercy.value]).toEqual(['standard', 'business']);
    const history = await service.history({
      key: 'ui.terminology',
      level: 'tenant',
      scope: 'general_hospital',
    });
    expect(history[0]).toMatchObject({ newValue: 'standard', reason: 'plain words' });
  });

  it('refuses to push over a change made after the plan', async () => {
    await store.getState().select('tenant', 'general_hospital');
    store.getState().setInput('ui.theme', 'business');
    await store.getState().stageInput('ui.theme', 'brand refresh');
    await store.getState().makePlan();
    const plan = store.getState().plan!;
    expect(plan.summary).toMatchObject({ update: 1, conflicts: 0 });
    await service.set({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'ui.theme',
      value: 'business',
      reason: 'racing admin',
    });
    expect(await store.getState().push(plan.environment ?? plan.target, 'brand')).toBe(false);
    expect(store.getState().planError).toMatch(/^Pushed 0 of 1: /);
    const now = await service.resolve('ui.theme', { tenantId: 'general_hospital' });
    expect(now.value).toBe('business');
    // The change stays queued for another plan.
    expect(store.getState().local).toHaveLength(1);
    await store.getState().undo(store.getState().local[0]!.id);
  });

  it('reverts an audit record by staging the old value', async () => {
    store
      .getState()
      .setAuditFilter({ key: 'ui.terminology', level: 'tenant', scope: 'general_hospital' });
    await store.getState().loadAudit();
    const record = store.getState().auditRecords?.find((r) => r.newValue === 'standard');
    expect(record).toBeTruthy();
    expect(await store.getState().revert(record!)).toBe(true);
    expect(store.getState().local[0]).toMatchObject({
      action: 'set',
      value: 'clinical',
      reason: `Revert of audit record #${record!.seq}`,
    });
    // Undo drops it again without writing.
    await store.getState().undo(store.getState().local[0]!.id);
    expect(store.getState().local).toHaveLength(0);
  });

  it('builds secret plan items without plaintext', () => {
    const plan = buildLocalPlan(
      'p',
      [
        {
          id: 'c1',
          level: 'global',
          scope: '',
          key: 'providers.phaxio.api_key',
          action: 'set',
          value: 'plaintext-secret',
          valueType: 'string',
          secret: true,
          reason: null,
          baseValue: 'enc:v1:whatever',
          baseVersion: 1,
          stagedAt: '2025-01-01T00:00:00Z',
        },
      ],
      () => undefined,
      { target: 't', environment: null },
      '2025-01-01T00:00:00Z',
    );
    expect(JSON.stringify(plan)).not.toContain('plaintext-secret');
    expect(plan.items[0]).toMatchObject({ mine: MASK, base: MASK, status: 'conflict' });
  });
});
