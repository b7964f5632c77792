/**
 * Settling conflicts, through the CLI (`strata resolve-conflict`, `--keep-mine` / `--take-theirs`
 * on push) and through the console's DraftService: keep mine, take theirs, edit; a resolution
 * stops counting when production moves again; bad requests change nothing.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import { StrataError } from '../../src-main/core/types.js';
import { openService } from '../../src-main/services/config-service.js';
import { StrataDraftService, planDraft } from '../../src-main/services/draft-service.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  auditCount,
  cliEnv,
  demoPg,
  label,
  liveRow,
  pulled,
  pushes,
  set,
  stagedCount,
  write,
} from './draft-helpers.js';
import { json, pgQuery, strata, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

const NAME = 'organization_name@tenant:mercy_hospital';

/** A draft whose tenant name conflicts with production, plus one clean update. */
async function conflicted(): Promise<{ url: string; file: string }> {
  const url = await demoPg();
  const file = await pulled(url);
  await write(file, [
    set('tenant', 'mercy_hospital', 'organization_name', 'Mine'),
    set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
  ]);
  await write(url, [set('tenant', 'mercy_hospital', 'organization_name', 'Theirs')]);
  return { url, file };
}

/** How many conflict resolutions a draft keeps. */
function resolutions(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM draft_resolutions').pluck().get() as number;
  } finally {
    db.close();
  }
}

interface PlanDoc {
  conflicts: number;
  resolved_conflicts: number;
  items: Array<{ slot: string; action: string; resolution: string | null; mine: string | null }>;
}

describe('strata resolve-conflict', () => {
  it('keep mine: pushes my value over theirs', async () => {
    const { url, file } = await conflicted();
    const run = await strata(['resolve-conflict', file, NAME, '--keep-mine', '--json'], cliEnv());
    const plan = json<PlanDoc>(run);
    expect(plan.conflicts).toBe(0);
    expect(plan.resolved_conflicts).toBe(1);
    expect(plan.items.find((i) => i.slot === NAME)).toMatchObject({
      action: 'conflict',
      resolution: 'mine',
    });
    expect(resolutions(file)).toBe(1);
    const push = await strata(['push', file, '--as', 'superadmin', '--json'], cliEnv());
    const out = json<{ push_id: string; applied: number }>(push);
    expect(out.applied).toBe(2);
    // Settled by the push: the resolution goes with the staged change.
    expect(resolutions(file)).toBe(0);
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name')).toMatchObject({
      value: 'Mine',
      version: 3,
    });
    const audit = await pgQuery<{ old_value: string; new_value: string }>(
      url,
      "SELECT old_value, new_value FROM config_audit WHERE push_id = $1 AND key = 'organization_name'",
      [out.push_id],
    );
    expect(audit).toEqual([{ old_value: 'Theirs', new_value: 'Mine' }]);
  });

  it('take theirs (as a push flag): keeps production, pushes the rest, drops my change', async () => {
    const { url, file } = await conflicted();
    const push = await strata(
      ['push', file, '--as', 'superadmin', '--take-theirs', NAME, '--json'],
      cliEnv(),
    );
    expect(json(push)).toMatchObject({ status: 'applied', applied: 1, skipped: 1 });
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name')).toMatchObject({
      value: 'Theirs',
      version: 2,
    });
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'ui.theme')).toMatchObject({
      value: 'dark',
    });
    const store = SqliteStore.open(file);
    try {
      expect(store.stagedCount()).toBe(0);
      const dropped = store.stagedChanges({ all: true }).find((r) => r.key === 'organization_name');
      expect(dropped?.status).toBe('discarded');
      const base = store
        .baseEntries()
        .find((e) => e.scope === 'mercy_hospital' && e.key === 'organization_name');
      expect(base?.value).toBe('Theirs');
    } finally {
      await store.close();
    }
  });

  it('edit: validates the new value, stages it and pushes it', async () => {
    const { url, file } = await conflicted();
    const bad = await strata(
      [
        'resolve-conflict',
        file,
        'ui.theme@tenant:mercy_hospital',
        '--edit',
        'x',
        '--as',
        'superadmin',
      ],
      cliEnv(),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'ui.theme@tenant:mercy_hospital is not in conflict (it is an update); there is nothing to resolve.\n',
    );
    const invalid = await strata(
      ['resolve-conflict', file, NAME, '--edit', '', '--as', 'superadmin'],
      cliEnv(),
    );
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/organization_name/);
    expect((await planDraft(file)).summary.unresolved).toBe(1);
    const run = await strata(
      ['resolve-conflict', file, NAME, '--edit', 'Mercy (merged)', '--as', 'superadmin', '--json'],
      cliEnv(),
    );
    const plan = json<PlanDoc>(run);
    expect(plan.conflicts).toBe(0);
    expect(plan.items.find((i) => i.slot === NAME)).toMatchObject({
      resolution: 'edit',
      mine: 'Mercy (merged)',
    });
    const push = await strata(['push', file, '--as', 'superadmin'], cliEnv());
    expect(push.code, push.stderr).toBe(0);
    expect(await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name')).toMatchObject({
      value: 'Mercy (merged)',
    });
  });

  it('a resolution stops counting when production moves again', async () => {
    const { url, file } = await conflicted();
    const first = await strata(['resolve-conflict', file, 'all', '--keep-mine'], cliEnv());
    expect(first.code, first.stderr).toBe(0);
    await write(url, [set('tenant', 'mercy_hospital', 'organization_name', 'Theirs again')]);
    const plan = await planDraft(file);
    expect(plan.summary.unresolved).toBe(1);
    const audit = await auditCount(url);
    const push = await strata(['push', file, '--as', 'superadmin'], cliEnv());
    expect(push.code).toBe(3);
    expect(await auditCount(url)).toBe(audit);
    expect(await pushes(url)).toEqual([]);
  });

  it('a discarded change takes its resolution with it', async () => {
    const { file } = await conflicted();
    await strata(['resolve-conflict', file, NAME, '--keep-mine', '--json'], cliEnv());
    expect(resolutions(file)).toBe(1);
    const config = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
    try {
      const drafts = new StrataDraftService(config);
      const mine = (await drafts.staged()).find((r) => r.key === 'organization_name')!;
      expect(await drafts.discard({ ids: [mine.id] })).toEqual({ discarded: 1 });
    } finally {
      await config.close();
    }
    expect(resolutions(file)).toBe(0);
    expect(await stagedCount(file)).toBe(1);
  });

  it('refuses requests that name nothing resolvable, recording nothing', async () => {
    const { file } = await conflicted();
    const runs = await Promise.all([
      strata(['resolve-conflict', file, 'nope@tenant:mercy_hospital', '--keep-mine'], cliEnv()),
      strata(['resolve-conflict', file, 'bad key@global', '--keep-mine'], cliEnv()),
      strata(['resolve-conflict', file, NAME], cliEnv()),
      strata(['resolve-conflict', file, NAME, '--keep-mine', '--take-theirs'], cliEnv()),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(runs[0]!.stderr).toBe('The plan has no change at nope@tenant:mercy_hospital.\n');
    expect(runs[2]!.stderr).toMatch(/^Give exactly one of --keep-mine, --take-theirs or --edit/);
    expect((await planDraft(file)).summary.unresolved).toBe(1);
  });
});

describe("the console's draft service", () => {
  it('plans, settles a conflict by item id, and pushes after the environment is typed', async () => {
    const { url, file } = await conflicted();
    await label(url, 'staging');
    await write(file, [set('global', '', 'providers.phaxio.api_key', 'sk-console-0123456789')]);
    const config = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
    try {
      const drafts = new StrataDraftService(config);
      const staged = await drafts.staged();
      expect(staged).toHaveLength(3);
      expect(staged.find((s) => s.key === 'providers.phaxio.api_key')?.value).toBe(MASK);
      const progress: Array<[number, number]> = [];
      const plan = await drafts.plan((done, total) => progress.push([done, total]));
      expect(progress.at(-1)).toEqual([4, 4]);
      expect(plan.environment).toBe('staging');
      expect(plan.summary).toMatchObject({ conflicts: 1, unresolved: 1 });
      const item = plan.items.find((i) => i.key === 'organization_name')!;
      expect(item).toMatchObject({
        status: 'conflict',
        base: 'Mercy Hospital Network',
        theirs: 'Theirs',
        mine: 'Mine',
      });
      expect(plan.items.find((i) => i.key === 'providers.phaxio.api_key')).toMatchObject({
        secret: true,
        mine: MASK,
        theirs: MASK,
      });
      await expect(
        drafts.push({ planId: plan.id, confirm: 'staging', reason: 'r' }),
      ).rejects.toMatchObject({
        code: 'conflict',
      });
      const settled = await drafts.resolveConflict({
        planId: plan.id,
        itemId: item.id,
        choice: 'theirs',
      });
      expect(settled.id).toBe(plan.id);
      expect(settled.summary.unresolved).toBe(0);
      await expect(
        drafts.push({ planId: plan.id, confirm: 'production', reason: 'r' }),
      ).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringMatching(/type staging exactly/),
      });
      const pushed: Array<[number, number]> = [];
      const result = await drafts.push(
        { planId: plan.id, confirm: 'staging', reason: 'console push' },
        (done, total) => pushed.push([done, total]),
      );
      expect(result).toMatchObject({ applied: 2, skipped: 1, environment: 'staging' });
      expect(result.pushId).toMatch(/^[0-9a-f-]{36}$/);
      expect(pushed.at(-1)).toEqual([2, 2]);
      expect(await liveRow(url, 'tenant', 'mercy_hospital', 'organization_name')).toMatchObject({
        value: 'Theirs',
      });
      expect(await drafts.staged()).toEqual([]);
      await expect(
        drafts.push({ planId: plan.id, confirm: 'staging', reason: 'again' }),
      ).rejects.toBeInstanceOf(StrataError);
    } finally {
      await config.close();
    }
  });

  it('refuses to push a plan that changed after it was reviewed, and discards staged changes', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(file, [set('tenant', 'mercy_hospital', 'ui.theme', 'dark')]);
    const config = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
    try {
      const drafts = new StrataDraftService(config);
      const plan = await drafts.plan();
      await write(file, [set('tenant', 'mercy_hospital', 'ui.terminology', 'standard')]);
      await expect(
        drafts.push({ planId: plan.id, confirm: plan.target, reason: null }),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(/changed since you reviewed it/),
      });
      expect(await pushes(url)).toEqual([]);
      const staged = await drafts.staged();
      expect(await drafts.discard({ ids: [staged[0]!.id] })).toEqual({ discarded: 1 });
      expect(await drafts.discard({ all: true })).toEqual({ discarded: 1 });
      expect(await stagedCount(file)).toBe(0);
      await expect(drafts.discard({ ids: ['x1'] })).rejects.toMatchObject({ code: 'invalid' });
    } finally {
      await config.close();
    }
  });
});
