import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import {
  HistoryService,
  pointInTime,
  revertPushInto,
} from '../../src-main/services/history-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import type { EffectiveItem } from '../../src-main/services/types.js';
import type { PostgresStore } from '../../src-main/store/postgres-store.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  json,
  migratedPg,
  pgQuery,
  strata,
  tempDir,
  testCodec,
  TEST_KEY,
} from './service-fixtures.js';

const USERS = ['user123', 'dr_house', 'mkt_anna', 'superadmin', 'gh_dr_osei', 'contractor_zoe'];
let url: string;
let service: StrataConfigService;

/** The database clock between two transactions: a moment no transaction straddles. */
async function now(): Promise<string> {
  const [r] = await pgQuery<{ t: string }>(
    url,
    `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`,
  );
  return r!.t;
}

async function snapshot(): Promise<Map<string, EffectiveItem[]>> {
  const out = new Map<string, EffectiveItem[]>();
  for (const u of USERS) out.set(u, await service.effective({ userId: u }));
  return out;
}

function shape(items: readonly EffectiveItem[]): unknown[] {
  return items.map((i) => ({
    key: i.key,
    value: i.value,
    level: i.level,
    scope: i.scope,
    valueType: i.valueType,
  }));
}

beforeAll(async () => {
  url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
  service = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabases();
});

describe('point in time', () => {
  const moments: Array<{ at: string; snap: Map<string, EffectiveItem[]> }> = [];

  it('rebuilds every user exactly as a snapshot taken then, through changes of every kind', async () => {
    moments.push({ at: await now(), snap: await snapshot() });
    // Values, a removal, a lock and an unlock, a new key, a secret, a group and a user.
    await service.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      value: 'business',
      reason: 'r1',
    });
    await service.unset({
      level: 'department',
      scope: 'mercy_hospital/marketing',
      key: 'features.email_gateway.enabled',
      reason: 'r1',
    });
    await service.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'notification_urgency',
      value: 'high',
      locked: true,
      reason: 'r1',
    });
    moments.push({ at: await now(), snap: await snapshot() });
    await service.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'notification_urgency',
      value: 'high',
      locked: false,
      reason: 'r2',
    });
    await service.set({
      level: 'group',
      scope: 'gh_oncall',
      key: 'uploads.max_size_mb',
      value: '75',
      reason: 'r2',
    });
    await service.set({
      level: 'global',
      scope: '',
      key: 'providers.phaxio.api_secret',
      value: 'rotated-secret-2',
      reason: 'rotate',
    });
    await service.set({
      level: 'user',
      scope: 'contractor_zoe',
      key: 'ui.theme',
      value: 'dark',
      reason: 'r2',
    });
    moments.push({ at: await now(), snap: await snapshot() });
    await service.unset({ level: 'user', scope: 'contractor_zoe', key: 'ui.theme', reason: 'r3' });
    await service.set({
      level: 'department',
      scope: 'general_hospital/medical',
      key: 'ui.theme',
      value: 'dark',
      reason: 'r3',
    });

    for (const m of moments) {
      for (const u of USERS) {
        const view = await pointInTime(service, { at: m.at, context: { userId: u } });
        const then = view.items
          .filter((i) => i.then !== null)
          .map((i) => ({
            key: i.key,
            value: i.then!.value,
            level: i.then!.level,
            scope: i.then!.scope,
            valueType: i.then!.valueType,
          }));
        expect(then, `${u} at ${m.at}`).toEqual(shape(m.snap.get(u)!));
      }
    }
  });

  it('diffs against now and can show only what changed', async () => {
    const first = moments[0]!;
    const view = await pointInTime(service, {
      at: first.at,
      context: { userId: 'dr_house' },
      changedOnly: true,
    });
    const keys = view.items.map((i) => i.key);
    expect(keys).toContain('ui.theme');
    // dr_house sets notification_urgency himself, so Mercy's change never reached him.
    expect(keys).not.toContain('notification_urgency');
    expect(view.items.every((i) => i.changed)).toBe(true);
    expect(view.changed).toBe(view.items.length);
    const theme = view.items.find((i) => i.key === 'ui.theme')!;
    expect(theme.then).toMatchObject({
      value: 'medical',
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    expect(theme.now).toMatchObject({
      value: 'business',
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    // The secret changed; both sides stay masked.
    const secret = (
      await pointInTime(service, { at: first.at, context: { userId: 'dr_house' } })
    ).items.find((i) => i.key === 'providers.phaxio.api_secret')!;
    expect(secret.changed).toBe(true);
    expect(secret.then?.value).toBe('••••••••');
    expect(JSON.stringify(secret)).not.toContain('rotated-secret-2');
  });

  it('shows one slot as it was', async () => {
    const view = await pointInTime(service, {
      at: moments[1]!.at,
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    const urgency = view.items.find((i) => i.key === 'notification_urgency')!;
    expect(urgency.then).toMatchObject({ value: 'high', locked: true });
    expect(urgency.now).toMatchObject({ value: 'high', locked: false });
    // Same value, but the lock went: the value a user sees is unchanged.
    expect(urgency.changed).toBe(false);
  });

  it('refuses moments before the history starts and malformed times, in one sentence', async () => {
    await expect(
      pointInTime(service, { at: '2001-01-01T00:00:00Z', context: { userId: 'user123' } }),
    ).rejects.toThrow(/^The configuration history starts at .+; choose a moment after that\.$/);
    await expect(
      pointInTime(service, { at: 'yesterday', context: { userId: 'user123' } }),
    ).rejects.toThrow(
      "'yesterday' is not an ISO 8601 time with a zone, such as 2025-01-31T12:00:00Z.",
    );
    await expect(
      pointInTime(service, { at: '2030-01-01T00:00:00', context: { userId: 'user123' } }),
    ).rejects.toThrow(/with a zone/);
  });

  it('answers `strata effective --at` with the documented JSON', async () => {
    const m = moments[1]!;
    const run = await strata(
      ['effective', '--user', 'dr_house', '--at', m.at, '--json', '--db', url],
      {
        CONFIG_ENCRYPTION_KEY: TEST_KEY,
      },
    );
    const doc = json<{
      at: string;
      values: Record<string, string | null>;
      items: Array<{ key: string; changed: boolean }>;
    }>(run);
    expect(doc.at).toBe(m.at);
    const expected = Object.fromEntries(m.snap.get('dr_house')!.map((i) => [i.key, i.value]));
    expect(doc.values).toEqual(expected);
    expect(doc.items.find((i) => i.key === 'ui.theme')?.changed).toBe(false);
    expect(doc.items.find((i) => i.key === 'providers.phaxio.api_secret')?.changed).toBe(true);
  });
});

describe('revert a whole past push', () => {
  it('stages the state before the push in a draft of the same database', async () => {
    const store = service.store as PostgresStore;
    const beforeSnap = await snapshot();
    const pushId = 'push-to-revert';
    const base = { valueType: 'string' as const, encrypted: false, locked: false };
    await store.write(
      [
        {
          level: 'tenant',
          scope: 'mercy_hospital',
          key: 'ui.terminology',
          action: 'set',
          value: 'standard',
          ...base,
        },
        {
          level: 'department',
          scope: 'mercy_hospital/it',
          key: 'features.admin_tools.enabled',
          action: 'unset',
          value: null,
          ...base,
        },
        {
          level: 'group',
          scope: 'doctors',
          key: 'ui.theme',
          action: 'set',
          value: 'dark',
          ...base,
        },
        {
          level: 'tenant',
          scope: 'general_hospital',
          key: 'fax.backend.provider',
          action: 'set',
          value: 'sip',
          ...base,
          locked: false,
        },
      ],
      { operator: 'superadmin', reason: 'a push', pushId },
    );
    // Changed again afterwards: the revert notes it.
    await pgQuery(
      url,
      "UPDATE config_group SET value = 'business' WHERE group_id = 'doctors' AND key = 'ui.theme'",
    );

    // A draft pulled from this database after the push.
    const path = join(tempDir(), 'revert.sqlite');
    await pullDraft(url, path);

    const plan = await new HistoryService(store).revertPlan(pushId);
    expect(plan.changedSince).toEqual([{ level: 'group', scope: 'doctors', key: 'ui.theme' }]);
    const result = await revertPushInto(store, pushId, path, 'superadmin');
    expect(result.staged).toBe(4);

    // The draft now resolves every user as they were before the push (except the slot changed
    // since, which the revert takes back to its pre-push state too).
    const reverted = await openService({ db: path, operator: 'superadmin', codec: testCodec() });
    try {
      for (const u of USERS) {
        expect(shape(await reverted.effective({ userId: u })), u).toEqual(
          shape(beforeSnap.get(u)!),
        );
      }
      const staged = (reverted.store as SqliteStore).stagedChanges();
      expect(staged.every((s) => s.reason === `revert push ${pushId}`)).toBe(true);
      expect(staged.find((s) => s.key === 'fax.backend.provider')).toMatchObject({
        action: 'set',
        value: 'sip',
        locked: true,
      });
      expect(staged.find((s) => s.key === 'features.admin_tools.enabled')).toMatchObject({
        action: 'set',
        value: 'true',
      });
      expect(staged.find((s) => s.scope === 'doctors')).toMatchObject({ action: 'unset' });
    } finally {
      await reverted.close();
    }
  });

  it('refuses unknown pushes and drafts of another database', async () => {
    const store = service.store as PostgresStore;
    await expect(new HistoryService(store).revertPlan('no-such-push')).rejects.toMatchObject({
      code: 'not_found',
      message: 'No push no-such-push is recorded in this database.',
    });
    const other = join(tempDir(), 'other.sqlite');
    const d = SqliteStore.open(other, { create: true });
    d.setMeta('source', 'postgres://someone@elsewhere.example/strata');
    await d.close();
    await expect(revertPushInto(store, 'push-to-revert', other, 'superadmin')).rejects.toThrow(
      /^The draft was pulled from postgres:\/\/someone@elsewhere\.example\/strata, not .+; revert into a draft of the same database\.$/,
    );
  });

  it('works from the command line', async () => {
    const path = join(tempDir(), 'cli.sqlite');
    await pullDraft(url, path);
    const run = await strata([
      'revert-push',
      'push-to-revert',
      '--into',
      path,
      '--db',
      url,
      '--as',
      'superadmin',
      '--json',
    ]);
    const doc = json<{ push_id: string; staged: number; changed_since: unknown[] }>(run);
    expect(doc.push_id).toBe('push-to-revert');
    expect(doc.staged).toBeGreaterThan(0);
    expect(doc.changed_since).toEqual([{ level: 'group', scope: 'doctors', key: 'ui.theme' }]);
  });
});
