/**
 * How a draft's base is brought up to date against a real PostgreSQL database:
 *   - after a push that was the only change to the target, only the parts the audit trail does
 *     not record are read again, and the base is row for row what a new pull gives;
 *   - anything else in the audit trail since the pull (another writer's value or directory
 *     change, or a head the database's chain does not hold) makes the refresh read it all;
 *   - a rebase writes only the rows that differ and ends up equal to a new pull, whatever
 *     changed: values at every level, tenants, departments, groups, users, memberships and a
 *     database role passed from one user to another.
 */
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  pullDraft,
  pushDraft,
  stageDirectory,
  type DraftProgress,
} from '../../src-main/services/draft-service.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoPg, pulled, set, unset, write } from './draft-helpers.js';
import { createLoginRole, dropCreatedRoles, urlAs } from './security-support.js';
import { pgQuery } from './service-fixtures.js';

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

// Every base table, in a stable order; created_at (when a row entered the draft) and the
// draft's own row ids are left out, as they say nothing about the target.
const BASE_TABLES: Array<[table: string, order: string]> = [
  ['tenants', 'id'],
  ['departments', 'tenant_id, id'],
  ['groups', 'id'],
  ['users', 'id'],
  ['group_members', 'user_id, position'],
  ['config_global', 'key'],
  ['config_tenant', 'tenant_id, key'],
  ['config_department', 'tenant_id, department, key'],
  ['config_group', 'group_id, key'],
  ['config_user', 'user_id, key'],
  ['configuration_metadata', 'key'],
  ['config_templates', 'name'],
  ['template_applications', 'template_name, level, scope'],
];

// Directory rows are named by their id; elsewhere id is the draft's own row number.
const DIRECTORY = new Set(['tenants', 'departments', 'groups', 'users']);

/** The whole base of a draft file as comparable rows, with its audit head. */
function baseDump(file: string): Record<string, unknown> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown> = {};
    for (const [table, order] of BASE_TABLES) {
      const cols = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>)
        .map((c) => c.name)
        .filter((c) => c !== 'created_at' && (c !== 'id' || DIRECTORY.has(table)));
      out[table] = db.prepare(`SELECT ${cols.join(', ')} FROM ${table} ORDER BY ${order}`).all();
    }
    const meta = db.prepare('SELECT value FROM draft_meta WHERE key = ?');
    out.audit_head = meta.get('audit_head');
    out.source_role = meta.get('source_role');
    return out;
  } finally {
    db.close();
  }
}

/** Pushes a draft, returning the outcome and the phases reported after the push landed. */
async function pushWatched(
  file: string,
  to?: string,
): Promise<{ status: string; after: DraftProgress[] }> {
  const seen: DraftProgress[] = [];
  const out = await pushDraft(file, {
    ...(to === undefined ? { operator: 'superadmin' } : { to }),
    reason: 'refresh test',
    onProgress: (p) => seen.push(p),
  });
  const landed = seen.findIndex((p) => p.phase === 'finalize');
  return { status: out.status, after: seen.slice(landed) };
}

const readsAgain = (after: readonly DraftProgress[]): boolean =>
  after.some((p) => p.phase === 'read');

/** Stages value changes at three levels and a user's new group order in a draft. */
async function stageSome(file: string, tag: string): Promise<void> {
  await write(file, [
    set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
    set('group', 'doctors', 'notification_urgency', 'high'),
    set('user', 'mkt_ben', 'ui.language', `lang-${tag}`),
  ]);
  const store = SqliteStore.open(file);
  try {
    const ben = (await store.readDirectory()).users.find((u) => u.id === 'mkt_ben')!;
    stageDirectory(
      store,
      { users: [{ ...ben, groups: [...ben.groups, 'nurses'].reverse() }] },
      { operator: 'superadmin', reason: 'refresh test' },
    );
  } finally {
    await store.close();
  }
}

describe('the refresh after a push', () => {
  it('keeps the values and directory when the push was the only change, equal to a new pull', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await stageSome(file, 'a');
    const first = await pushWatched(file);
    expect(first.status).toBe('applied');
    expect(readsAgain(first.after)).toBe(false);
    expect(first.after.at(-1)?.message).toMatch(/nothing else changed the target/);
    expect(baseDump(file)).toEqual(baseDump(await pulled(url, 'fresh-a.sqlite')));

    // The head moved with that refresh: the next push is again the only change.
    await write(file, [unset('group', 'doctors', 'notification_urgency')]);
    const second = await pushWatched(file);
    expect(readsAgain(second.after)).toBe(false);
    expect(baseDump(file)).toEqual(baseDump(await pulled(url, 'fresh-b.sqlite')));
  });

  it("reads everything again after another writer's value change", async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await stageSome(file, 'v');
    // A value the draft does not touch, changed by someone else since the pull.
    await write(url, [set('department', 'general_hospital/medical', 'ui.theme', 'dark')]);
    const out = await pushWatched(file);
    expect(out.status).toBe('applied');
    expect(readsAgain(out.after)).toBe(true);
    const fresh = baseDump(await pulled(url, 'fresh.sqlite'));
    expect(baseDump(file)).toEqual(fresh);
    expect(fresh.config_department).toContainEqual(
      expect.objectContaining({ tenant_id: 'general_hospital', key: 'ui.theme', value: 'dark' }),
    );
  });

  it("reads everything again after another writer's directory change", async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await stageSome(file, 'd');
    // Only a directory row, changed in psql (audited by the directory triggers).
    await pgQuery(url, "UPDATE users SET display_name = 'Dr. N. Patel' WHERE id = 'gh_dr_patel'");
    const out = await pushWatched(file);
    expect(out.status).toBe('applied');
    expect(readsAgain(out.after)).toBe(true);
    const fresh = baseDump(await pulled(url, 'fresh.sqlite'));
    expect(baseDump(file)).toEqual(fresh);
    expect(fresh.users).toContainEqual(expect.objectContaining({ display_name: 'Dr. N. Patel' }));
  });

  it('reads everything again when the recorded head is not in the target chain, or not known', async () => {
    const url = await demoPg();
    const forged = await pulled(url, 'forged.sqlite');
    const older = await pulled(url, 'older.sqlite');
    const meta = (file: string, sql: string, ...args: string[]): void => {
      const db = new Database(file);
      db.prepare(sql).run(...args);
      db.close();
    };
    // Same position, another hash: a database restored from an older backup, say.
    meta(
      forged,
      "UPDATE draft_meta SET value = substr(value, 1, instr(value, ':')) || ? WHERE key = 'audit_head'",
      'f'.repeat(64),
    );
    // Pulled by a Strata that did not record the head.
    meta(older, "DELETE FROM draft_meta WHERE key = 'audit_head'");
    await write(forged, [set('user', 'mkt_ben', 'ui.language', 'forged')]);
    await write(older, [set('user', 'gh_nurse_lee', 'ui.language', 'older')]);
    expect(readsAgain((await pushWatched(forged)).after)).toBe(true);
    expect(readsAgain((await pushWatched(older)).after)).toBe(true);
    // Either way the base ends up current, with the head recorded for next time.
    const fresh = baseDump(await pulled(url, 'fresh.sqlite'));
    expect(baseDump(older)).toEqual(fresh);
    expect(fresh.audit_head).toEqual({ value: expect.stringMatching(/^\d+:[0-9a-f]{64}$/) });
  });
});

describe('the refresh after a push by another role', () => {
  it('keeps the base as the view of the role that read it, and a pull as either role says so', async () => {
    const url = await demoPg();
    const mercy = await createLoginRole('mercy_push');
    await pgQuery(url, `UPDATE users SET db_role = '${mercy.role}' WHERE id = 'mercy_admin'`);
    const asMercy = urlAs(url, mercy.role, mercy.password);
    const file = await pulled(url);
    await write(file, [set('tenant', 'mercy_hospital', 'ui.theme', 'dark')]);
    const out = await pushWatched(file, asMercy);
    expect(out.status).toBe('applied');
    expect(readsAgain(out.after)).toBe(false);
    // Still the superuser's view, now with the push in it: what a superuser's pull gives.
    const whole = baseDump(await pulled(url, 'fresh.sqlite'));
    expect(baseDump(file)).toEqual(whole);
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'current' });
    // Mercy's admin is promised Mercy's view.
    expect(await pullDraft(asMercy, file)).toMatchObject({ mode: 'rebased' });
    expect(baseDump(file)).toEqual(baseDump(await pulled(asMercy, 'mercy.sqlite')));
  });
});

describe('a rebase', () => {
  it('writes only what differs and ends up equal to a new pull', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    // Values at every level: updated, created and removed.
    await write(url, [
      set('global', '', 'ui.theme', 'dark'),
      set('tenant', 'general_hospital', 'ui.theme', 'business'),
      set('department', 'mercy_hospital/it', 'ui.language', 'fr'),
      set('group', 'gh_nurses', 'notification_urgency', 'low'),
      set('user', 'gh_nurse_lee', 'ui.language', 'ko'),
    ]);
    const someUserValue = await pgQuery<{ user_id: string; key: string }>(
      url,
      'SELECT user_id, key FROM config_user ORDER BY user_id, key LIMIT 1',
    );
    await write(url, [unset('user', someUserValue[0]!.user_id, someUserValue[0]!.key)]);
    // The directory: renamed, added, moved, removed, and a role passed between two users.
    const sql = [
      "UPDATE users SET db_role = 'strata_role_a' WHERE id = 'gh_dr_patel'",
      "UPDATE users SET db_role = 'strata_role_b' WHERE id = 'gh_nurse_lee'",
    ];
    for (const q of sql) await pgQuery(url, q);
    await pullDraft(url, file);
    const before = new Database(file, { readonly: true });
    const untouched = before
      .prepare("SELECT created_at FROM users WHERE id = 'gh_clerk_fox'")
      .pluck()
      .get() as string;
    before.close();
    for (const q of [
      "UPDATE tenants SET name = 'General Hospital NHS' WHERE id = 'general_hospital'",
      "INSERT INTO tenants (id, name, tenant_type) VALUES ('st_marys', 'St Mary''s', 'healthcare')",
      "INSERT INTO departments (tenant_id, id, name) VALUES ('st_marys', 'er', 'Emergency')",
      "INSERT INTO groups (id, tenant_id, department, name) VALUES ('sm_er', 'st_marys', 'er', 'ER staff')",
      "INSERT INTO users (id, tenant_id, department, display_name, email, traits) VALUES ('sm_amy', 'st_marys', 'er', 'Amy Chen', 'amy@st-marys.example.org', '{}')",
      "INSERT INTO group_members (user_id, group_id, position) VALUES ('sm_amy', 'sm_er', 0)",
      "UPDATE users SET db_role = NULL WHERE id IN ('gh_dr_patel', 'gh_nurse_lee')",
      "UPDATE users SET db_role = 'strata_role_b' WHERE id = 'gh_dr_patel'",
      "UPDATE users SET db_role = 'strata_role_a' WHERE id = 'gh_nurse_lee'",
      "DELETE FROM group_members WHERE user_id = 'gh_nurse_diaz'",
      "INSERT INTO group_members (user_id, group_id, position) VALUES ('gh_nurse_diaz', 'gh_oncall', 0)",
      "DELETE FROM users WHERE id = 'contractor_zoe'",
      "DELETE FROM groups WHERE id = 'marketing_team'",
      "DELETE FROM departments WHERE tenant_id = 'mercy_hospital' AND id = 'marketing'",
    ])
      await pgQuery(url, q);

    expect(await pullDraft(url, file)).toMatchObject({ mode: 'rebased' });
    const fresh = baseDump(await pulled(url, 'fresh.sqlite'));
    expect(baseDump(file)).toEqual(fresh);
    expect(fresh.users).toContainEqual(
      expect.objectContaining({ id: 'gh_nurse_lee', db_role: 'strata_role_a' }),
    );
    // A row nobody changed was left where it was.
    const after = new Database(file, { readonly: true });
    expect(
      after.prepare("SELECT created_at FROM users WHERE id = 'gh_clerk_fox'").pluck().get(),
    ).toBe(untouched);
    after.close();
  });
});

describe('pulling again', () => {
  /** The staged rows of a draft file, in order. */
  const stagedOf = (file: string): unknown[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT * FROM staged_changes ORDER BY id').all();
    } finally {
      db.close();
    }
  };

  it('keeps the base when the audit trail shows no change, and reads metadata and templates again', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    // Values only: a staged directory row is also written into the draft's directory tables.
    await write(file, [
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
      set('user', 'mkt_ben', 'ui.language', 'lang-c'),
    ]);
    const staged = stagedOf(file);
    expect(staged).toHaveLength(2);
    // Metadata is not audited: it is read again whatever the audit trail says.
    await pgQuery(
      url,
      "UPDATE configuration_metadata SET description = 'Theme of the console' WHERE key = 'ui.theme'",
    );
    const r = await pullDraft(url, file);
    expect(r).toMatchObject({ mode: 'current', staged: staged.length, moved: 0 });
    const fresh = baseDump(await pulled(url, 'fresh.sqlite'));
    expect(baseDump(file)).toEqual(fresh);
    expect(fresh.configuration_metadata).toContainEqual(
      expect.objectContaining({ key: 'ui.theme', description: 'Theme of the console' }),
    );
    expect(stagedOf(file)).toEqual(staged);
    // The counts are those of the base, as a new pull reports what it read.
    const created = await pullDraft(url, join(dirname(file), 'counted.sqlite'));
    expect(created.mode).toBe('created');
    const counts = [
      'entries',
      'tenants',
      'departments',
      'groups',
      'users',
      'metadata',
      'templates',
    ];
    for (const k of counts as Array<keyof typeof r>) expect([k, r[k]]).toEqual([k, created[k]]);
    expect(r.users).toBeGreaterThan(0);
  });

  it('checks the audit trail only for a draft that recorded where it stands', async () => {
    const url = await demoPg();
    const headed = await pulled(url, 'headed.sqlite');
    const older = await pulled(url, 'older.sqlite');
    const db = new Database(older);
    db.prepare("DELETE FROM draft_meta WHERE key = 'audit_head'").run();
    db.close();
    const messages = async (file: string): Promise<{ mode: string; said: string[] }> => {
      const said: string[] = [];
      const r = await pullDraft(url, file, {
        onProgress: (p) => {
          if (p.message !== undefined) said.push(p.message);
        },
      });
      return { mode: r.mode, said };
    };
    expect(await messages(headed)).toEqual({
      mode: 'current',
      said: expect.arrayContaining(['checking the audit trail']) as string[],
    });
    const unknown = await messages(older);
    expect(unknown.mode).toBe('rebased');
    expect(unknown.said).not.toContain('checking the audit trail');
  });

  it('reads everything again after any write since, and for another database role', async () => {
    const url = await demoPg();
    const file = await pulled(url);
    await write(url, [set('user', 'gh_nurse_lee', 'ui.language', 'pt')]);
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'rebased' });
    expect(baseDump(file)).toEqual(baseDump(await pulled(url, 'fresh.sqlite')));
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'current' });

    // Mercy's tenant admin reads through row-level security: fewer rows, not the same base.
    const mercy = await createLoginRole('mercy');
    await pgQuery(url, `UPDATE users SET db_role = '${mercy.role}' WHERE id = 'mercy_admin'`);
    const asMercy = urlAs(url, mercy.role, mercy.password);
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'rebased' });
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'current' });
    const everything = baseDump(file);
    expect(await pullDraft(asMercy, file)).toMatchObject({ mode: 'rebased' });
    const mercyFresh = baseDump(await pulled(asMercy, 'mercy.sqlite'));
    expect(baseDump(file)).toEqual(mercyFresh);
    expect(mercyFresh.config_user).not.toEqual(everything.config_user);
    expect(await pullDraft(asMercy, file)).toMatchObject({ mode: 'current' });
    // And back: the superuser's pull does not keep the tenant admin's view.
    expect(await pullDraft(url, file)).toMatchObject({ mode: 'rebased' });
    expect(baseDump(file)).toEqual(everything);
  });
});
