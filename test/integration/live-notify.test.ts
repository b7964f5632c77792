import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import {
  LiveFeed,
  conflictingSlots,
  refreshSlots,
  slotChanges,
} from '../../src-main/services/live.js';
import type { LiveChange, LiveEvent } from '../../src-main/services/live.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { PostgresStore } from '../../src-main/store/postgres-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { createLoginRole, dropCreatedRoles, urlAs, withClient } from './security-support.js';
import { migratedPg, testCodec } from './service-fixtures.js';

/** "Within a second": how long a change may take to reach a listener. */
const ARRIVES_WITHIN = { timeout: 1000, interval: 10 };

let url: string;
let writer: StrataConfigService;
const feeds: LiveFeed[] = [];

beforeAll(async () => {
  url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
  writer = await openService({ db: url, codec: testCodec() });
});

afterAll(async () => {
  for (const f of feeds) await f.close();
  await writer?.close();
  await dropTestDatabases();
  await dropCreatedRoles();
});

/** A listener that records everything it is told. */
async function listen(
  listenUrl = url,
): Promise<{ feed: LiveFeed; events: LiveEvent[]; changes: () => LiveChange[] }> {
  const events: LiveEvent[] = [];
  const feed = await LiveFeed.start({
    url: listenUrl,
    onEvent: (e) => events.push(e),
    retry: { initialMs: 50 },
  });
  feeds.push(feed);
  return {
    feed,
    events,
    changes: () => events.flatMap((e) => (e.kind === 'changes' ? e.changes : [])),
  };
}

describe('live updates over LISTEN/NOTIFY', () => {
  it('delivers a change committed by a second connection', async () => {
    const l = await listen();
    await writer.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.theme',
      value: 'business',
      reason: 'live test',
    });
    await vi.waitFor(() => {
      expect(l.changes()).toContainEqual(
        expect.objectContaining({
          level: 'tenant',
          scope: 'mercy_hospital',
          key: 'ui.theme',
          changeType: 'update',
        }),
      );
    }, ARRIVES_WITHIN);
    const c = l.changes().find((x) => x.key === 'ui.theme')!;
    expect(c.changedBy).toBe(writer.operator().id);
    // Only where and who: the value itself never travels.
    expect(JSON.stringify(l.events)).not.toContain('business');
    expect(l.feed.connected).toBe(true);
  });

  it('announces a push as one batch and never a rolled-back change', async () => {
    const l = await listen();
    await withClient(url, async (c) => {
      await c.query('BEGIN');
      await c.query(
        "UPDATE config_tenant SET value = 'dark' WHERE tenant_id = 'general_hospital' AND key = 'ui.theme'",
      );
      await c.query('ROLLBACK');
    });
    const store = await PostgresStore.open(url);
    try {
      await store.write(
        ['ui.theme', 'ui.terminology', 'branding_color'].map((key, i) => ({
          level: 'department' as const,
          scope: 'general_hospital/medical',
          key,
          action: 'set' as const,
          value: ['medical', 'clinical', '#112233'][i]!,
          valueType: 'string' as const,
          encrypted: false,
          locked: false,
        })),
        { operator: 'superadmin', reason: 'batch', pushId: 'push-live-1' },
      );
    } finally {
      await store.close();
    }
    await vi.waitFor(
      () => expect(l.changes().filter((x) => x.pushId === 'push-live-1')).toHaveLength(3),
      ARRIVES_WITHIN,
    );
    const batches = l.events.filter(
      (e) => e.kind === 'changes' && e.changes.some((x) => x.pushId === 'push-live-1'),
    );
    expect(batches).toHaveLength(1);
    expect(l.changes().some((x) => x.scope === 'general_hospital' && x.key === 'ui.theme')).toBe(
      false,
    );
  });

  it('catches up on changes committed while the connection was down', async () => {
    const l = await listen();
    await withClient(url, (c) =>
      c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'strata-live' AND datname = current_database()",
      ),
    );
    await vi.waitFor(
      () =>
        expect(l.events).toContainEqual(
          expect.objectContaining({ kind: 'status', connected: false }),
        ),
      {
        timeout: 5000,
      },
    );
    await writer.set({
      level: 'user',
      scope: 'nurse_joy',
      key: 'ui.theme',
      value: 'dark',
      reason: 'while away',
    });
    await vi.waitFor(
      () => {
        expect(l.changes()).toContainEqual(
          expect.objectContaining({ level: 'user', scope: 'nurse_joy', key: 'ui.theme' }),
        );
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(l.feed.connected).toBe(true);
  });

  it('tells a tenant admin only about what row-level security lets them read', async () => {
    const { role, password } = await createLoginRole('gh_admin');
    await withClient(url, (c) =>
      c.query("UPDATE users SET db_role = $1 WHERE id = 'general_admin'", [role]),
    );
    const l = await listen(urlAs(url, role, password));
    await writer.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.terminology',
      value: 'standard',
      reason: 'hidden',
    });
    await writer.set({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'ui.terminology',
      value: 'standard',
      reason: 'seen',
    });
    await vi.waitFor(
      () =>
        expect(l.changes()).toContainEqual(
          expect.objectContaining({ scope: 'general_hospital', key: 'ui.terminology' }),
        ),
      ARRIVES_WITHIN,
    );
    expect(l.changes().some((x) => x.scope === 'mercy_hospital')).toBe(false);
    const hidden = l.events.reduce((n, e) => n + (e.kind === 'changes' ? e.hidden : 0), 0);
    expect(hidden).toBe(1);
  });

  it('announces policy rule changes so Lint panels can refresh', async () => {
    const l = await listen();
    await withClient(url, (c) =>
      c.query(
        "UPDATE config_policy_rules SET severity = 'warning' WHERE id = 'hipaa-no-email-gateway'",
      ),
    );
    await vi.waitFor(() => expect(l.events).toContainEqual({ kind: 'rules' }), ARRIVES_WITHIN);
  });

  it('reaches a second console session: its index refreshes and its staged change is marked', async () => {
    // The second session: its own service (index) over the same database, plus a staged slot.
    const second = await openService({ db: url, codec: testCodec() });
    try {
      const staged = [
        { level: 'department' as const, scope: 'mercy_hospital/it', key: 'uploads.max_size_mb' },
      ];
      const seen: Array<{ conflicts: unknown[]; value: string | null }> = [];
      const feed = await LiveFeed.start({
        url,
        onEvent: (e) => {
          if (e.kind !== 'changes') return;
          const slots = slotChanges(e.changes);
          void refreshSlots(second.index, second.store, slots).then(() => {
            const r = second.index.resolve(
              'uploads.max_size_mb',
              second.index.userContext('it_ivan'),
            );
            seen.push({ conflicts: conflictingSlots(staged, slots), value: r.value });
          });
        },
      });
      feeds.push(feed);
      await writer.set({
        level: 'department',
        scope: 'mercy_hospital/it',
        key: 'uploads.max_size_mb',
        value: '80',
        reason: 'other admin',
      });
      await vi.waitFor(
        () => expect(seen.at(-1)).toEqual({ conflicts: staged, value: '80' }),
        ARRIVES_WITHIN,
      );
    } finally {
      await second.close();
    }
  });

  it('refuses to start on a database without the audit trail, with one sentence', async () => {
    const bare = await (async () => {
      const { createTestDatabase } = await import('../helpers/pg.js');
      return createTestDatabase();
    })();
    await expect(LiveFeed.start({ url: bare, onEvent: () => undefined })).rejects.toThrow(
      /has no audit trail; run `strata db migrate` first\.$/,
    );
    const c = new pg.Client({ connectionString: bare });
    await c.connect();
    await c.end();
  });
});
