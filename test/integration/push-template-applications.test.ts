/**
 * Template applications travel with a push: a tenant provisioned in a draft is recorded in the
 * target's template_applications in the push transaction, so the upgrade listing on PostgreSQL
 * finds it at the version it was applied with; rows the draft only copied from the target are
 * not sent back, and a second push sends nothing.
 */
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { TemplateDefinition } from '../../src-main/core/templates/index.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import { DraftWorkspace } from '../../src-main/services/draft-workspace.js';
import { pushDraft } from '../../src-main/services/push-service.js';
import { draftApplications } from '../../src-main/services/push-templates.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { builtinTemplatesDir } from '../../src-main/services/template-files.js';
import { TemplateService } from '../../src-main/services/template-service.js';
import { seedBuiltinTemplates } from '../../src-main/services/template-store.js';
import { migrateSqlite, migrationsDir } from '../../src-main/store/migrations.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { migratedPg, pgQuery, tempDir, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

const codec = codecChoiceOf(testCodec());

/** The demo network on PostgreSQL, and a draft pulled from it. */
async function demoDraft(): Promise<{ url: string; file: string }> {
  const url = await migratedPg();
  await loadDemo(url, { codec });
  const file = join(tempDir('strata-push-tpl-'), 'draft.sqlite');
  await pullDraft(url, file);
  return { url, file };
}

/** Provisions a new tenant from the healthcare template in a draft. */
async function provision(file: string, id: string, name: string): Promise<void> {
  const svc = await openService({ db: file, operator: 'superadmin', codec: testCodec() });
  try {
    await new TemplateService(svc).createTenant({ id, name, template: 'healthcare' });
  } finally {
    await svc.close();
  }
}

describe('template applications in a push', () => {
  it('a tenant provisioned in a draft shows in the PostgreSQL upgrade listing after the push', async () => {
    const url = await migratedPg();
    await loadDemo(url, { codec });
    await pgQuery(
      url,
      `INSERT INTO template_applications (template_name, version, level, scope, applied_by)
       VALUES ('healthcare', 1, 'tenant', 'general_hospital', 'earlier')`,
    );
    const file = join(tempDir('strata-push-tpl-'), 'draft.sqlite');
    await pullDraft(url, file);

    const ws = DraftWorkspace.open(file);
    try {
      // Copied by the pull: not the draft's own, so not sent back.
      expect(draftApplications(ws)).toEqual([]);
    } finally {
      await ws.close();
    }

    await provision(file, 'st_marys', "St Mary's Hospital");
    const pushed = await pushDraft(file, { to: url, operator: 'superadmin', reason: 'new site' });
    expect(pushed).toMatchObject({ status: 'applied', applications: 1 });
    expect(
      await pgQuery(
        url,
        `SELECT template_name, version, level, scope, applied_by FROM template_applications ORDER BY scope`,
      ),
    ).toEqual([
      {
        template_name: 'healthcare',
        version: 1,
        level: 'tenant',
        scope: 'general_hospital',
        applied_by: 'earlier',
      },
      {
        template_name: 'healthcare',
        version: 1,
        level: 'tenant',
        scope: 'st_marys',
        applied_by: 'superadmin',
      },
    ]);

    // Nothing left to send: the refreshed base holds the target's row.
    const again = await pushDraft(file, { to: url, reason: 'again' });
    expect(again).toMatchObject({ status: 'nothing', applications: 0 });

    // A newer healthcare on the target: its upgrade listing names the new tenant at version 1.
    const dir = tempDir('strata-push-tpl-files-');
    cpSync(builtinTemplatesDir(), dir, { recursive: true });
    const path = join(dir, 'healthcare.json');
    const v2 = JSON.parse(readFileSync(path, 'utf8')) as TemplateDefinition;
    v2.version = 2;
    v2.configs['ui.theme'] = { value: 'neutral', valueType: 'string' };
    writeFileSync(path, JSON.stringify(v2));
    const live = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
    try {
      await seedBuiltinTemplates(live.store, { dir });
      const ups = await new TemplateService(live).upgrades({ tenant: 'st_marys' });
      expect(ups.map((u) => [u.template, u.level, u.scope, u.fromVersion, u.toVersion])).toEqual([
        ['healthcare', 'tenant', 'st_marys', 1, 2],
      ]);
    } finally {
      await live.close();
    }
  });

  it('a push that fails writes no application either', async () => {
    const { url, file } = await demoDraft();
    await provision(file, 'st_luke', 'St Luke');
    // Production gained the tenant meanwhile: the push is a conflict and writes nothing.
    await pgQuery(url, `INSERT INTO tenants (id, name) VALUES ('st_luke', 'Elsewhere')`);
    await expect(
      pushDraft(file, { to: url, operator: 'superadmin', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(
      await pgQuery(url, `SELECT scope FROM template_applications WHERE scope = 'st_luke'`),
    ).toEqual([]);
  });
});

describe('template applications across a pull again', () => {
  it("keeps the draft's own applications through a rebase and a current pull, and pushes them", async () => {
    const { url, file } = await demoDraft();
    await provision(file, 'st_anne', 'St Anne');
    expect((await pullDraft(url, file)).mode).toBe('current');
    await pgQuery(url, `UPDATE tenants SET name = 'General' WHERE id = 'general_hospital'`);
    expect((await pullDraft(url, file)).mode).toBe('rebased');
    const pushed = await pushDraft(file, { to: url, operator: 'superadmin', reason: 'new site' });
    expect(pushed).toMatchObject({ status: 'applied', applications: 1 });
    expect(
      await pgQuery(
        url,
        `SELECT template_name, scope FROM template_applications WHERE scope = 'st_anne'`,
      ),
    ).toEqual([{ template_name: 'healthcare', scope: 'st_anne' }]);
    // Landed: the row is the target's now, so the next push has nothing to send.
    expect(await pushDraft(file, { to: url, reason: 'again' })).toMatchObject({
      status: 'nothing',
      applications: 0,
    });
    // A row the target drops leaves the draft's copy at the next pull.
    await pgQuery(url, `DELETE FROM template_applications WHERE scope = 'st_anne'`);
    await pullDraft(url, file);
    const ws = DraftWorkspace.open(file);
    try {
      const rows = ws.db.prepare('SELECT scope FROM template_applications').pluck().all();
      expect(rows).not.toContain('st_anne');
      expect(draftApplications(ws)).toEqual([]);
    } finally {
      await ws.close();
    }
  });

  it('a draft written by an earlier Strata keeps telling its own rows from the copied ones', async () => {
    // Schema 3 (before the origin flag): rows told apart by time against pulled_at.
    const old = tempDir('strata-tpl-old-');
    for (const f of readdirSync(migrationsDir('sqlite')).filter((n) => n < '0004')) {
      cpSync(join(migrationsDir('sqlite'), f), join(old, f));
    }
    const file = join(tempDir('strata-tpl-draft-'), 'old.sqlite');
    const db = new Database(file);
    migrateSqlite(db, { dir: old });
    db.prepare(
      "INSERT INTO draft_meta (key, value) VALUES ('pulled_at', '2026-03-01T10:00:00.000Z')",
    ).run();
    const row = db.prepare(
      'INSERT INTO template_applications (template_name, version, level, scope, applied_at) VALUES (?, 1, ?, ?, ?)',
    );
    row.run('healthcare', 'tenant', 'copied_iso', '2026-02-01T09:00:00.000Z');
    row.run(
      'healthcare',
      'tenant',
      'copied_js',
      'Sun Feb 01 2026 09:00:00 GMT+0000 (Coordinated Universal Time)',
    );
    row.run('healthcare', 'tenant', 'own', '2026-03-02T08:00:00.000Z');
    db.close();
    const ws = DraftWorkspace.open(file);
    try {
      expect(draftApplications(ws).map((a) => a.scope)).toEqual(['own']);
    } finally {
      await ws.close();
    }
  });
});
