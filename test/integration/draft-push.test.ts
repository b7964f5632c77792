/**
 * Push against a real PostgreSQL database from real draft files: one transaction with one audit
 * row per change carrying the push id and reason; conflicts (found by the plan, or by the
 * version checks inside the push) write nothing and exit 3; permission refusals and guardrails
 * write nothing; production needs a reason; a retry after a lost COMMIT is "already applied";
 * a fresh draft's first push creates everything; staged directory rows are pushed first; values
 * are created, updated and removed at every level.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { StrataError, type Level } from '../../src-main/core/types.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import {
  DraftWorkspace,
  planDraft,
  pullDraft,
  pushDraft,
  stageDirectory,
  type DraftProgress,
} from '../../src-main/services/draft-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  auditCount,
  cliEnv,
  demoPg,
  draftState,
  label,
  liveFingerprint,
  liveRow,
  pulled,
  pushes,
  rejection,
  set,
  stagedCount,
  unset,
  write,
} from './draft-helpers.js';
import { json, migratedPg, pgQuery, strata, tempDir, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

describe('a successful push', () => {
  it('applies every change in one transaction with one audit row each (push id + reason)', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'organization_name', 'Mercy Health'),
      set('tenant', 'mercy_hospital', 'app.new_setting', 'on'),
      unset('user', 'user123', 'ui.theme'),
      set('global', '', 'providers.phaxio.api_key', 'sk-pushed-0123456789'),
    ]);
    const before = await auditCount(url);
    const phases = new Set<string>();
    const out = await pushDraft(file, {
      reason: 'CHG-1 rename',
      operator: 'superadmin',
      onProgress: (p: DraftProgress) => phases.add(p.phase),
    });
    expect(out).toMatchObject({ status: 'applied', applied: 4, noop: 0, baseRefreshed: true });
    expect([...phases]).toEqual(expect.arrayContaining(['plan', 'check', 'push', 'finalize']));
    const id = out.pushId!;
    expect(await auditCount(url)).toBe(before + 4);
    const audit = await pgQuery<{
      key: string;
      reason: string;
      change_type: string;
      new_value: string | null;
    }>(
      url,
      'SELECT key, reason, change_type, new_value FROM config_audit WHERE push_id = $1 ORDER BY key',
      [id],
    );
    expect(audit.map((a) => [a.key, a.change_type, a.reason])).toEqual([
      ['app.new_setting', 'create', 'CHG-1 rename'],
      ['organization_name', 'update', 'CHG-1 rename'],
      ['providers.phaxio.api_key', 'update', 'CHG-1 rename'],
      ['ui.theme', 'delete', 'CHG-1 rename'],
    ]);
    expect(JSON.stringify(audit)).not.toContain('sk-pushed');
    expect(await pushes(url)).toEqual([
      expect.objectContaining({
        id,
        reason: 'CHG-1 rename',
        item_count: 4,
        operator: 'superadmin',
      }),
    ]);
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name')).toMatchObject({
      value: 'Mercy Health',
      version: 2,
    });
    expect(await liveRow(url, 'user', 'user123', 'ui.theme')).toBeNull();
    const store = SqliteStore.open(file);
    try {
      expect(store.stagedCount()).toBe(0);
      const rows = store.stagedChanges({ all: true }).filter((r) => r.status === 'pushed');
      expect(rows).toHaveLength(4);
      expect(rows.every((r) => r.pushId === id)).toBe(true);
      const base = store
        .baseEntries()
        .find((e) => e.scope === 'mercy_hospital' && e.key === 'organization_name');
      expect(base).toMatchObject({ value: 'Mercy Health', version: 2 });
    } finally {
      await store.close();
    }
    const again = await planDraft(file);
    expect(again.items).toEqual([]);
  });

  it('creates, updates and removes a value at every level (each statement finds its slots)', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    const key = 'app.every_level';
    const slots: Array<[Level, string]> = [
      ['global', ''],
      ['tenant', 'mercy_hospital'],
      ['department', 'mercy_hospital/marketing'],
      ['group', 'doctors'],
      ['user', 'user123'],
    ];
    const live = (): Promise<Array<string | null>> =>
      Promise.all(slots.map(async ([l, s]) => (await liveRow(url, l, s, key))?.value ?? null));
    for (const [round, changes] of [
      ['create', slots.map(([l, s]) => set(l, s, key, `${l}-1`))],
      ['update', slots.map(([l, s]) => set(l, s, key, `${l}-2`))],
      ['delete', slots.map(([l, s]) => unset(l, s, key))],
    ] as const) {
      await write(file, [...changes]);
      const out = await pushDraft(file, {
        reason: `every level: ${round}`,
        operator: 'superadmin',
      });
      expect(out).toMatchObject({ status: 'applied', applied: slots.length });
      const audit = await pgQuery<{ config_table: string; change_type: string }>(
        url,
        'SELECT config_table, change_type FROM config_audit WHERE push_id = $1 ORDER BY seq',
        [out.pushId],
      );
      expect(audit.map((a) => [a.config_table, a.change_type]).sort()).toEqual(
        slots.map(([l]) => [l, round]).sort(),
      );
      expect(await live()).toEqual(
        round === 'delete'
          ? slots.map(() => null)
          : slots.map(([l]) => `${l}-${round === 'create' ? 1 : 2}`),
      );
    }
  });

  it('marks no-ops pushed without writing them, and pushes nothing when nothing differs', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [set('group', 'doctors', 'notification_urgency', 'high')]);
    await write(url, [set('group', 'doctors', 'notification_urgency', 'high')]);
    const before = await auditCount(url);
    const out = await pushDraft(file, { operator: 'superadmin' });
    expect(out).toMatchObject({ status: 'nothing', pushId: null, noop: 1, applied: 0 });
    expect(await auditCount(url)).toBe(before);
    expect(await pushes(url)).toEqual([]);
    expect(await stagedCount(file)).toBe(0);
  });
});

describe('batched writes', () => {
  it('writes hundreds of changes with a handful of multi-row statements', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    const changes = [];
    for (let i = 0; i < 300; i++) {
      changes.push(set('tenant', 'mercy_hospital', `app.bulk_${i}`, `v${i}`));
      changes.push(set('group', 'doctors', `app.bulk_${i}`, `g${i}`));
    }
    await write(file, changes);
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    let out;
    let texts: string[];
    try {
      out = await pushDraft(file, { operator: 'superadmin', reason: 'bulk' });
    } finally {
      texts = spy.mock.calls.map(
        (c) => (typeof c[0] === 'string' ? c[0] : (c[0] as { text?: string })?.text) ?? '',
      );
      spy.mockRestore();
    }
    const writes = texts.filter((t) =>
      /^\s*(INSERT INTO|UPDATE|DELETE FROM) config_(tenant|group)/.test(t),
    );
    expect(out.applied).toBe(600);
    expect(writes).toHaveLength(2);
    expect(await auditCount(url, out.pushId!)).toBe(600);
  });
});

describe('conflicts', () => {
  it('writes nothing and exits 3 listing the conflicts while any is unresolved', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'organization_name', 'Mine'),
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
    ]);
    await write(url, [set('tenant', 'mercy_hospital', 'organization_name', 'Theirs')]);
    const fp = await liveFingerprint(url);
    const audit = await auditCount(url);
    const state = await draftState(file);
    const run = await strata(
      ['push', file, '--as', 'superadmin', '--reason', 'r', '--json'],
      cliEnv(),
    );
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toEqual({
      status: 'conflict',
      message: expect.stringMatching(/^Nothing was pushed: 1 conflict/),
      conflicts: [
        { kind: 'config', level: 'tenant', scope: 'mercy_hospital', key: 'organization_name' },
      ],
    });
    expect(run.stderr).toMatch(/organization_name \(tenant mercy_hospital\)/);
    const human = await strata(['push', file, '--as', 'superadmin'], cliEnv());
    expect(human.code).toBe(3);
    expect(human.stdout).toBe('');
    expect(human.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(await liveFingerprint(url)).toBe(fp);
    expect(await auditCount(url)).toBe(audit);
    expect(await pushes(url)).toEqual([]);
    expect(await draftState(file)).toBe(state);
  });

  it('rolls the whole push back when production changes after the plan (version check)', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
      set('group', 'doctors', 'notification_urgency', 'low'),
      set('tenant', 'general_hospital', 'app.brand_new', 'x'),
    ]);
    const audit = await auditCount(url);
    const state = await draftState(file);
    let fp = '';
    const err = await rejection(
      pushDraft(file, {
        operator: 'superadmin',
        reason: 'r',
        // Runs after the plan, before the transaction: another admin gets in between.
        guardrails: async () => {
          await write(url, [
            set('group', 'doctors', 'notification_urgency', 'high'),
            set('tenant', 'general_hospital', 'app.brand_new', 'y'),
          ]);
          fp = await liveFingerprint(url);
        },
      }),
    );
    expect(err.code).toBe('conflict');
    expect(err.message).toMatch(
      /production changed after the plan; the whole push was rolled back/,
    );
    expect(err.message).toContain('notification_urgency (group doctors)');
    expect(err.message).toContain('app.brand_new (tenant general_hospital)');
    expect(await liveFingerprint(url)).toBe(fp);
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'ui.theme')).toMatchObject({
      value: 'medical',
    });
    expect(await auditCount(url)).toBe(audit + 2);
    expect(await pushes(url)).toEqual([]);
    expect(await draftState(file)).toBe(state);
    const plan = await planDraft(file);
    expect(plan.summary.unresolved).toBe(2);
  });
});

describe('refusals', () => {
  it('checks every item against the operator before writing anything (exit 2 with a list)', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
      set('global', '', 'ui.theme', 'business'),
      set('tenant', 'general_hospital', 'ui.theme', 'dark'),
    ]);
    const fp = await liveFingerprint(url);
    const err = await rejection(pushDraft(file, { operator: 'mercy_admin', reason: 'r' }));
    expect(err.code).toBe('forbidden');
    expect(err.message).toMatch(/^Nothing was pushed: 2 items were refused: /);
    expect(err.message).toContain('Changing global configuration requires super_admin');
    expect(err.message).toContain('Changing tenant general_hospital requires');
    const run = await strata(['push', file, '--as', 'marketing_lead', '--json'], cliEnv());
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'refused',
      refused: [expect.stringContaining('lacks the config_write trait')],
    });
    const unknown = await strata(['push', file, '--as', 'nobody'], cliEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Operator 'nobody' is not a user in the directory of /);
    expect(await liveFingerprint(url)).toBe(fp);
    expect(await pushes(url)).toEqual([]);
    expect(await stagedCount(file)).toBe(3);
  });

  it('lets a guardrails hook refuse the push', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [set('tenant', 'mercy_hospital', 'ui.theme', 'dark')]);
    const fp = await liveFingerprint(url);
    const err = await rejection(
      pushDraft(file, {
        operator: 'superadmin',
        guardrails: async (ctx) => {
          expect(ctx.changes).toEqual([
            expect.objectContaining({ key: 'ui.theme', action: 'set', value: 'dark' }),
          ]);
          expect((await ctx.liveIndex()).entryCount()).toBe(80);
          throw new StrataError('forbidden', 'The push was refused: a policy says no.');
        },
      }),
    );
    expect(err.message).toBe('The push was refused: a policy says no.');
    expect(await liveFingerprint(url)).toBe(fp);
  });

  it('requires a reason for a database labelled production', async () => {
    const url = await demoPg();
    await label(url, 'production');
    const file = await pulled(url);
    await write(file, [set('tenant', 'mercy_hospital', 'ui.theme', 'dark')]);
    const run = await strata(['push', file, '--as', 'superadmin'], cliEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'A reason is required for every push to a production database; pass --reason "<why>".\n',
    );
    const ok = await strata(
      ['push', file, '--as', 'superadmin', '--reason', 'CHG-7', '--json'],
      cliEnv(),
    );
    expect(json(ok)).toMatchObject({ status: 'applied', applied: 1, environment: 'production' });
  });
});

describe('idempotent retry', () => {
  it('reports "already applied" after a lost COMMIT and never applies twice', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
      set('group', 'nurses', 'notification_urgency', 'high'),
    ]);
    const before = await auditCount(url);
    const crash = await rejection(
      pushDraft(file, {
        operator: 'superadmin',
        reason: 'r',
        faults: {
          afterCommit: () => {
            throw new StrataError('internal', 'simulated crash after COMMIT');
          },
        },
      }),
    );
    expect(crash.message).toBe('simulated crash after COMMIT');
    expect(await stagedCount(file)).toBe(2);
    const [landed] = await pushes(url);
    expect(landed).toBeDefined();
    const run = await strata(
      ['push', file, '--as', 'superadmin', '--reason', 'r', '--json'],
      cliEnv(),
    );
    expect(json(run)).toMatchObject({ status: 'already-applied', push_id: landed!.id, applied: 2 });
    expect(await pushes(url)).toHaveLength(1);
    expect(await auditCount(url)).toBe(before + 2);
    expect(await auditCount(url, landed!.id)).toBe(2);
    expect(await stagedCount(file)).toBe(0);
    const ws = DraftWorkspace.open(file);
    try {
      expect(ws.pendingPushes()).toEqual([]);
    } finally {
      await ws.close();
    }
  });
});

describe('fresh drafts and staged directory rows', () => {
  it("creates a fresh draft's directory, metadata and values at its first push, then tracks the target", async () => {
    const target = await migratedPg();
    const file = join(tempDir(), 'fresh.sqlite');
    await loadDemo(file, { codec: codecChoiceOf(testCodec()) });
    const run = await strata(
      ['push', file, '--to', target, '--as', 'superadmin', '--reason', 'initial load', '--json'],
      cliEnv(),
    );
    const out = json<{
      status: string;
      applied: number;
      directory: number;
      metadata: number;
      push_id: string;
    }>(run);
    expect(out).toMatchObject({ status: 'applied', applied: 80, directory: 36 });
    expect(out.metadata).toBeGreaterThan(20);
    // One audit row per value, per directory row and per membership (0270), all in the push.
    const audit = await pgQuery<{ kind: string; n: number }>(
      target,
      `SELECT CASE WHEN config_table LIKE 'dir:%' THEN config_table ELSE 'value' END AS kind, count(*)::int AS n
       FROM config_audit WHERE push_id = $1 GROUP BY 1 ORDER BY 1`,
      [out.push_id],
    );
    const memberships = await pgQuery<{ n: number }>(
      target,
      'SELECT count(*)::int AS n FROM group_members',
    );
    const byKind = Object.fromEntries(audit.map((a) => [a.kind, a.n]));
    expect(byKind).toMatchObject({
      value: 80,
      'dir:user': 20,
      'dir:membership': memberships[0]!.n,
    });
    expect(
      byKind['dir:tenant']! +
        byKind['dir:department']! +
        byKind['dir:group']! +
        byKind['dir:user']!,
    ).toBe(36);
    expect(await auditCount(target, out.push_id)).toBe(80 + 36 + memberships[0]!.n);
    const users = await pgQuery<{ n: string }>(target, 'SELECT count(*)::text AS n FROM users');
    expect(users[0]!.n).toBe('20');
    const members = await pgQuery<{ g: string }>(
      target,
      "SELECT string_agg(group_id, ',' ORDER BY position) AS g FROM group_members WHERE user_id = 'user123'",
    );
    expect(members[0]!.g).toBe('emergency_doctors_group,doctors');
    const store = SqliteStore.open(file);
    try {
      expect(store.meta('source')).toMatch(/^postgres:\/\/postgres@/);
    } finally {
      await store.close();
    }
    const plan = await planDraft(file);
    expect(plan.fresh).toBe(false);
    expect(plan.items).toEqual([]);
    expect(plan.directory).toEqual([]);
  });

  it('pushes staged directory rows before the values that use them, in the same transaction', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    const store = SqliteStore.open(file);
    try {
      const service = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
      // The template service's pattern: directory and values staged as one SQLite transaction.
      store.db.exec('BEGIN IMMEDIATE');
      stageDirectory(
        store,
        {
          tenants: [{ id: 'st_marys', name: "St Mary's", tenantType: 'healthcare' }],
          departments: [{ tenantId: 'st_marys', id: 'er', name: 'Emergency' }],
          groups: [
            { id: 'st_marys.nurses', tenantId: 'st_marys', department: 'er', name: 'Nurses' },
          ],
        },
        { operator: 'superadmin', reason: 'new site' },
      );
      store.db.exec('COMMIT');
      await service.reload();
      await service.writeBatch(
        [
          set('tenant', 'st_marys', 'organization_name', "St Mary's"),
          set('group', 'st_marys.nurses', 'notification_urgency', 'high'),
        ],
        { reason: 'new site' },
      );
      await service.close();
    } finally {
      await store.close();
    }
    // A rebase keeps the staged directory rows (and writes them over the new directory).
    await write(url, [set('tenant', 'mercy_hospital', 'ui.theme', 'dark')]);
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'rebased', staged: 2 });
    const plan = await planDraft(file);
    expect(plan.directory.map((d) => [d.kind, d.ref, d.action])).toEqual([
      ['tenant', 'st_marys', 'create'],
      ['department', 'st_marys/er', 'create'],
      ['group', 'st_marys.nurses', 'create'],
    ]);
    expect(plan.items.map((i) => i.action)).toEqual(['create', 'create']);
    const refused = await rejection(pushDraft(file, { operator: 'mercy_admin', reason: 'r' }));
    expect(refused.message).toContain('Creating or renaming tenant st_marys requires super_admin');
    const out = await pushDraft(file, { operator: 'superadmin', reason: 'new site' });
    expect(out).toMatchObject({ status: 'applied', applied: 2, directory: 3 });
    const tenants = await pgQuery<{ name: string }>(
      url,
      "SELECT name FROM tenants WHERE id = 'st_marys'",
    );
    expect(tenants).toEqual([{ name: "St Mary's" }]);
    expect(await liveRow(url, 'group', 'st_marys.nurses', 'notification_urgency')).toMatchObject({
      value: 'high',
    });
    const again = await planDraft(file);
    expect(again.directory).toEqual([]);
    expect(again.items).toEqual([]);
    // The directory rows are audited with the push (0270), newest first.
    const live = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      const dir = (await live.directoryHistory({ limit: 100 })).filter(
        (r) => r.pushId === out.pushId,
      );
      expect(dir.map((r) => [r.kind, r.ref, r.field, r.changeType])).toEqual([
        ['group', 'st_marys.nurses', '(row)', 'create'],
        ['department', 'st_marys/er', '(row)', 'create'],
        ['tenant', 'st_marys', '(row)', 'create'],
      ]);
      for (const r of dir) {
        expect(r).toMatchObject({
          changedBy: 'superadmin',
          reason: 'new site',
          pushId: out.pushId,
        });
      }
      expect(JSON.parse(dir[2]!.newValue!)).toMatchObject({ id: 'st_marys', name: "St Mary's" });
    } finally {
      await live.close();
    }
  });

  it('audits a user whose groups a push changes with only the memberships and columns that differ', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    const store = SqliteStore.open(file);
    try {
      const me = (await store.readDirectory()).users.find((u) => u.id === 'user123')!;
      expect(me.groups).toEqual(['emergency_doctors_group', 'doctors']);
      // doctors moves first, nurses is added: the two that swap places are updates of their
      // position (one statement, no position held twice), and nothing else is written.
      stageDirectory(
        store,
        {
          users: [
            {
              ...me,
              displayName: 'Dr. Alex Kim (ER lead)',
              groups: ['doctors', 'emergency_doctors_group', 'nurses'],
            },
          ],
        },
        { operator: 'superadmin', reason: 'ER rota' },
      );
    } finally {
      await store.close();
    }
    const out = await pushDraft(file, { operator: 'superadmin', reason: 'ER rota' });
    expect(out).toMatchObject({ status: 'applied', directory: 1 });
    const live = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      const mine = await live.directoryHistory({ ref: 'user123' });
      const pushed = mine.filter((r) => r.pushId === out.pushId);
      expect(
        pushed.map((r) => [r.kind, r.field, r.oldValue, r.newValue, r.changeType]).reverse(),
      ).toEqual([
        ['user', 'display_name', 'Dr. Alex Kim', 'Dr. Alex Kim (ER lead)', 'update'],
        ['membership', 'doctors', '1', '0', 'update'],
        ['membership', 'emergency_doctors_group', '0', '1', 'update'],
        ['membership', 'nurses', null, '2', 'create'],
      ]);
      expect((await live.directoryHistory({ ref: 'user123', kind: 'user' })).length).toBe(
        mine.filter((r) => r.kind === 'user').length,
      );
      // Configuration history never shows directory rows.
      expect((await live.history({ limit: 100_000 })).every((r) => r.key !== 'display_name')).toBe(
        true,
      );
      const badKind = await rejection(live.directoryHistory({ kind: 'ward' as unknown as 'user' }));
      expect(badKind.message).toMatch(/^Unknown directory kind 'ward'; use one of tenant, /);
    } finally {
      await live.close();
    }
    // A draft keeps no directory audit, and says where it is.
    const draft = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
    try {
      const e = await rejection(draft.directoryHistory({}));
      expect(e.message).toMatch(/^A draft keeps no directory history/);
    } finally {
      await draft.close();
    }
  });
});
