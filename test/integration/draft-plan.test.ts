/**
 * Pull and plan against a real PostgreSQL database and real draft files: the snapshot a pull
 * takes, the plan's five actions, parent-changed reporting, masked secrets, the JSON shape of
 * `strata plan --json`, a fresh draft planned against a target, and a rebase that keeps staged
 * changes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import type { PlanItem } from '../../src-main/core/plan.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { planDraft, pullDraft } from '../../src-main/services/draft-service.js';
import { databaseId } from '../../src-main/services/draft-target.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { cliEnv, demoPg, liveRow, pulled, set, unset, write } from './draft-helpers.js';
import { json, migratedPg, pgQuery, strata, tempDir, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

function find(items: readonly PlanItem[], level: string, scope: string, key: string): PlanItem {
  const item = items.find((i) => i.level === level && i.scope === scope && i.key === key);
  if (!item) throw new Error(`no plan item for ${key}@${level}:${scope}`);
  return item;
}

describe('pull', () => {
  let url = '';
  beforeAll(async () => {
    url = await demoPg();
  });

  it('snapshots every level, the directory, metadata and templates with row versions and source', async () => {
    await write(url, [set('global', '', 'ui.theme', 'dark')], { reason: 'bump a version' });
    const file = await pulled(url);
    const store = SqliteStore.open(file);
    try {
      const snap = await store.snapshot();
      expect(snap.entries).toHaveLength(80);
      expect(snap.directory.users).toHaveLength(20);
      expect(snap.metadata.length).toBeGreaterThan(20);
      expect((await store.readTemplates()).length).toBeGreaterThan(0);
      const theme = store.baseEntries().find((e) => e.level === 'global' && e.key === 'ui.theme');
      expect(theme).toMatchObject({ value: 'dark', version: 2 });
      expect(store.meta('source')).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/strata_t_/);
      expect(store.meta('source')).not.toContain('strata-test');
      expect(Number.isNaN(Date.parse(store.meta('pulled_at') ?? ''))).toBe(false);
      const secret = store
        .baseEntries()
        .find((e) => e.key === 'providers.phaxio.api_key' && e.level === 'global');
      expect(secret?.encrypted).toBe(true);
      expect(secret?.value.startsWith('enc:v1:')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('prints a summary and the same facts as JSON through the CLI', async () => {
    const file = join(tempDir(), 'cli.sqlite');
    const run = await strata(['pull', url, file, '--json'], cliEnv());
    expect(json(run)).toMatchObject({
      draft: file,
      mode: 'created',
      entries: expect.any(Number),
      tenants: 2,
      users: 20,
      staged: 0,
    });
    const progress = await strata(['pull', url, join(tempDir(), 'progress.sqlite')], {
      ...cliEnv(),
      STRATA_PROGRESS: '1',
    });
    expect(progress.code, progress.stderr).toBe(0);
    expect(progress.stderr).toMatch(/^pull: connect 0\/1 \(0%\) postgres:\/\//m);
    expect(progress.stderr).toMatch(/^pull: write \d+\/\d+ \(100%\)$/m);
    expect(progress.stderr).not.toContain('strata-test');
    // Nothing written since: the audit trail says so, and the base is not read again.
    const again = await strata(['pull', url, file], cliEnv());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^.*cli\.sqlite is current with postgres:\/\/\S+: nothing changed there since its last pull or push; \d+ values in the base, 0 staged change\(s\) kept\.\n$/,
    );
    // A change and its undoing: the state is the same, yet the audit trail has two rows.
    const name = "(SELECT name FROM tenants WHERE id = 'mercy_hospital')";
    await pgQuery(url, `UPDATE tenants SET name = ${name} || '.' WHERE id = 'mercy_hospital'`);
    await pgQuery(url, `UPDATE tenants SET name = rtrim(${name}, '.') WHERE id = 'mercy_hospital'`);
    const rebased = await strata(['pull', url, file], cliEnv());
    expect(rebased.code, rebased.stderr).toBe(0);
    expect(rebased.stdout).toMatch(/^Rebased .* 0 staged change\(s\) kept\.\n$/);
  });
});

describe('plan', () => {
  let url = '';
  let file = '';
  beforeAll(async () => {
    url = await demoPg();
    file = await pulled(url);
    await write(file, [
      set('tenant', 'mercy_hospital', 'app.new_setting', 'on'), // create
      set('tenant', 'mercy_hospital', 'organization_name', 'Mercy Health'), // update
      unset('user', 'user123', 'ui.theme'), // delete
      set('group', 'doctors', 'notification_urgency', 'high'), // no-op (production does it too)
      set('department', 'mercy_hospital/medical', 'hipaa_mode', 'false'), // conflict
      set('group', 'emergency_doctors_group', 'priority_processing', 'false'), // parent moves
      set('global', '', 'providers.phaxio.api_key', 'sk-draft-0123456789'), // secret update
    ]);
    await write(url, [
      set('group', 'doctors', 'notification_urgency', 'high'),
      set('department', 'mercy_hospital/medical', 'hipaa_mode', 'true', { locked: true }),
      set('tenant', 'mercy_hospital', 'priority_processing', 'true'),
    ]);
  });

  it('classifies each staged change as create, update, delete, no-op or conflict', async () => {
    const plan = await planDraft(file);
    expect(plan.fresh).toBe(false);
    const item = (level: string, scope: string, key: string): PlanItem =>
      find(plan.items, level, scope, key);
    expect(item('tenant', 'mercy_hospital', 'app.new_setting')).toMatchObject({
      action: 'create',
      base: null,
      live: null,
      mine: { value: 'on' },
    });
    expect(item('tenant', 'mercy_hospital', 'organization_name')).toMatchObject({
      action: 'update',
      base: { value: 'Mercy Hospital Network', version: 1 },
      live: { value: 'Mercy Hospital Network', version: 1 },
      mine: { value: 'Mercy Health' },
      expectedVersion: 1,
    });
    expect(item('user', 'user123', 'ui.theme')).toMatchObject({
      action: 'delete',
      change: 'unset',
      mine: null,
    });
    expect(item('group', 'doctors', 'notification_urgency')).toMatchObject({
      action: 'no-op',
      live: { value: 'high', version: 2 },
    });
    expect(item('department', 'mercy_hospital/medical', 'hipaa_mode')).toMatchObject({
      action: 'conflict',
      conflict: 'changed',
      base: { value: 'true', version: 1, locked: false },
      live: { value: 'true', version: 2, locked: true },
      resolution: null,
      write: null,
    });
    expect(plan.summary).toMatchObject({
      create: 1,
      delete: 1,
      noop: 1,
      conflicts: 1,
      unresolved: 1,
    });
  });

  it('reports a parent level that changed in production under a staged change', async () => {
    const plan = await planDraft(file);
    const item = find(plan.items, 'group', 'emergency_doctors_group', 'priority_processing');
    expect(item.action).toBe('update');
    expect(item.parentChanged).toEqual([
      expect.objectContaining({ level: 'tenant', scope: 'mercy_hospital', base: null }),
    ]);
    expect(item.parentChanged[0]!.live).toMatchObject({ value: 'true' });
    const unrelated = find(plan.items, 'tenant', 'mercy_hospital', 'organization_name');
    expect(unrelated.parentChanged).toEqual([]);
  });

  it('prints the plan as JSON with masked secrets and the conflict count', async () => {
    const run = await strata(['plan', file, '--json'], cliEnv());
    const doc = json<{
      items: Array<Record<string, unknown>>;
      conflicts: number;
      summary: Record<string, unknown>;
    }>(run);
    expect(doc.conflicts).toBe(1);
    for (const i of doc.items) {
      expect(Object.keys(i)).toEqual(
        expect.arrayContaining(['level', 'scope', 'key', 'action', 'base', 'live', 'mine']),
      );
    }
    const secret = doc.items.find((i) => i.key === 'providers.phaxio.api_key')!;
    expect(secret).toMatchObject({
      action: 'update',
      base: MASK,
      live: MASK,
      mine: MASK,
      secret: true,
    });
    expect(run.stdout).not.toContain('sk-draft-0123456789');
    expect(run.stdout).not.toContain('enc:v1:');
    const human = await strata(['plan', file], cliEnv());
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/! conflict hipaa_mode \(department mercy_hospital\/medical\)/);
    expect(human.stdout).toMatch(/parent changed at tenant mercy_hospital: - -> true/);
    expect(human.stdout).not.toContain('sk-draft');
  });

  it('changes nothing in production or in the draft', async () => {
    const before = await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name');
    await planDraft(file);
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name')).toEqual(before);
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'app.new_setting')).toBeNull();
  });
});

describe('targets', () => {
  it('knows a database by host, port and name, whoever connects to it', () => {
    expect(databaseId('postgres://alice:pw@DB.example.org:5432/strata')).toBe(
      databaseId('postgresql://bob@db.example.org/strata'),
    );
    expect(databaseId('postgres://a@db.example.org/strata')).not.toBe(
      databaseId('postgres://a@db.example.org/staging'),
    );
    expect(databaseId('postgres://a@db.example.org:5433/strata')).not.toBe(
      databaseId('postgres://a@db.example.org/strata'),
    );
  });
});

describe('fresh drafts and rebases', () => {
  it('plans a draft with no source against the target named with --to', async () => {
    const target = await migratedPg();
    const file = join(tempDir(), 'fresh.sqlite');
    await loadDemo(file, { codec: codecChoiceOf(testCodec()) });
    const noTo = await strata(['plan', file], cliEnv());
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toMatch(/has no source yet; name the database .* --to <postgres-url>\.\n$/);
    const plan = await planDraft(file, { to: target });
    expect(plan.fresh).toBe(true);
    expect(plan.items.every((i) => i.action === 'create')).toBe(true);
    expect(plan.items).toHaveLength(80);
    expect(plan.directory.filter((d) => d.action === 'create')).toHaveLength(2 + 5 + 9 + 20);
    expect(plan.metadata.length).toBeGreaterThan(20);
  });

  it('keeps staged changes across a rebase and shows a moved slot as a conflict', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [
      set('tenant', 'general_hospital', 'organization_name', 'General (draft)'),
      set('tenant', 'general_hospital', 'ui.theme', 'dark'),
    ]);
    await write(url, [set('tenant', 'general_hospital', 'organization_name', 'General (prod)')]);
    const r = await pullDraft(url, file);
    expect(r).toMatchObject({ mode: 'rebased', staged: 2, moved: 1 });
    const store = SqliteStore.open(file);
    try {
      const base = store
        .baseEntries()
        .find((e) => e.scope === 'general_hospital' && e.key === 'organization_name');
      expect(base).toMatchObject({ value: 'General (prod)', version: 2 });
      expect(store.stagedCount()).toBe(2);
    } finally {
      await store.close();
    }
    const plan = await planDraft(file);
    expect(find(plan.items, 'tenant', 'general_hospital', 'organization_name')).toMatchObject({
      action: 'conflict',
      base: { value: 'General Hospital', version: 1 },
      live: { value: 'General (prod)', version: 2 },
    });
    expect(find(plan.items, 'tenant', 'general_hospital', 'ui.theme').action).toBe('update');
  });

  it('refuses to rebase a draft onto another database, or a fresh draft holding data', async () => {
    const a = await demoPg();
    const b = await migratedPg();
    const file = await pulled(a);
    const other = await strata(['pull', b, file], cliEnv());
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /was pulled from .*, not .*; pull .* into a new file instead\.\n$/,
    );
    const fresh = join(tempDir(), 'fresh.sqlite');
    await loadDemo(fresh, { codec: codecChoiceOf(testCodec()) });
    const run = await strata(['pull', a, fresh], cliEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/has no source and holds data that was never pushed/);
    expect(existsSync(fresh)).toBe(true);
  });
});
