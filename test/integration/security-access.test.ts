/**
 * Database-enforced access control: real LOGIN roles mapped through users.db_role try every
 * write at every level against real PostgreSQL, and the SQL matrix is compared with the
 * TypeScript one exhaustively.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import {
  applyMigrations,
  connect,
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';
import { checkRead, checkWrite } from '../../src-main/services/access.js';
import type { Operator } from '../../src-main/services/access.js';
import type { DirectoryUser, Group, Level } from '../../src-main/core/types.js';

interface Slot {
  level: Level;
  scope: string;
}

const SLOTS: Slot[] = [
  { level: 'global', scope: '' },
  { level: 'tenant', scope: 'A' },
  { level: 'tenant', scope: 'B' },
  { level: 'department', scope: 'A/medical' },
  { level: 'department', scope: 'A/marketing' },
  { level: 'department', scope: 'B/medical' },
  { level: 'group', scope: 'gAm' },
  { level: 'group', scope: 'gA' },
  { level: 'group', scope: 'gB' },
  { level: 'user', scope: 'uAm' },
  { level: 'user', scope: 'uAk' },
  { level: 'user', scope: 'uB' },
];
const name = (s: Slot): string => `${s.level}:${s.scope}`;

const A_ALL = [
  'tenant:A',
  'department:A/medical',
  'department:A/marketing',
  'group:gAm',
  'group:gA',
  'user:uAm',
  'user:uAk',
];

/** Operators under test: traits, placement, and (hand-written) what they may write and see. */
const OPERATORS: Array<{
  id: string;
  traits: string[];
  tenantId: string | null;
  department: string | null;
  writes: string[];
  reads: string[];
}> = [
  {
    id: 'op_super',
    traits: ['admin_capable', 'config_write', 'super_admin'],
    tenantId: null,
    department: null,
    writes: SLOTS.map(name),
    reads: SLOTS.map(name),
  },
  {
    id: 'op_tadmin',
    traits: ['admin_capable', 'config_write', 'tenant_admin'],
    tenantId: 'A',
    department: null,
    writes: A_ALL,
    reads: ['global:', ...A_ALL],
  },
  {
    id: 'op_dadmin',
    traits: ['admin_capable', 'config_write', 'dept_admin'],
    tenantId: 'A',
    department: 'medical',
    writes: ['department:A/medical', 'group:gAm', 'user:uAm'],
    reads: ['global:', ...A_ALL],
  },
  {
    // The seed's bug: same tenant id, no tenant_admin, and it was let through.
    id: 'op_plain',
    traits: ['config_write'],
    tenantId: 'A',
    department: 'medical',
    writes: [],
    reads: [],
  },
  {
    id: 'op_nowrite',
    traits: ['admin_capable', 'tenant_admin', 'dept_admin'],
    tenantId: 'A',
    department: 'medical',
    writes: [],
    reads: ['global:', ...A_ALL],
  },
];

const GROUPS: Group[] = [
  { id: 'gAm', tenantId: 'A', department: 'medical', name: 'A medical' },
  { id: 'gA', tenantId: 'A', department: null, name: 'A all' },
  { id: 'gB', tenantId: 'B', department: 'medical', name: 'B medical' },
];
const TARGET_USERS: Array<Pick<DirectoryUser, 'id' | 'tenantId' | 'department'>> = [
  { id: 'uAm', tenantId: 'A', department: 'medical' },
  { id: 'uAk', tenantId: 'A', department: 'marketing' },
  { id: 'uB', tenantId: 'B', department: 'medical' },
];

function dirUser(
  u: Pick<DirectoryUser, 'id' | 'tenantId' | 'department'> & { traits?: string[] },
): DirectoryUser {
  return {
    id: u.id,
    tenantId: u.tenantId,
    department: u.department,
    traits: u.traits ?? [],
    groups: [],
    displayName: null,
    email: null,
    dbRole: null,
  };
}

const directory = {
  groups: GROUPS,
  users: [...TARGET_USERS.map((u) => dirUser(u)), ...OPERATORS.map((o) => dirUser(o))],
};

function insertSql(s: Slot, key: string): { text: string; values: string[] } {
  switch (s.level) {
    case 'global':
      return { text: 'INSERT INTO config_global (key, value) VALUES ($1, $2)', values: [key, 'v'] };
    case 'tenant':
      return {
        text: 'INSERT INTO config_tenant (tenant_id, key, value) VALUES ($1, $2, $3)',
        values: [s.scope, key, 'v'],
      };
    case 'department': {
      const [t, d] = s.scope.split('/') as [string, string];
      return {
        text: 'INSERT INTO config_department (tenant_id, department, key, value) VALUES ($1, $2, $3, $4)',
        values: [t, d, key, 'v'],
      };
    }
    case 'group':
      return {
        text: 'INSERT INTO config_group (group_id, key, value) VALUES ($1, $2, $3)',
        values: [s.scope, key, 'v'],
      };
    case 'user':
      return {
        text: 'INSERT INTO config_user (user_id, key, value) VALUES ($1, $2, $3)',
        values: [s.scope, key, 'v'],
      };
  }
}

function where(s: Slot): { table: string; cond: string; values: string[] } {
  switch (s.level) {
    case 'global':
      return { table: 'config_global', cond: 'key = $1', values: [] };
    case 'tenant':
      return { table: 'config_tenant', cond: 'key = $1 AND tenant_id = $2', values: [s.scope] };
    case 'department': {
      const [t, d] = s.scope.split('/') as [string, string];
      return {
        table: 'config_department',
        cond: 'key = $1 AND tenant_id = $2 AND department = $3',
        values: [t, d],
      };
    }
    case 'group':
      return { table: 'config_group', cond: 'key = $1 AND group_id = $2', values: [s.scope] };
    case 'user':
      return { table: 'config_user', cond: 'key = $1 AND user_id = $2', values: [s.scope] };
  }
}

let url = '';
const logins = new Map<string, { role: string; password: string }>();
let unmapped: { role: string; password: string };

beforeAll(async () => {
  url = await createTestDatabase('strata_sec_acl');
  await applyMigrations(url);
  for (const op of OPERATORS) logins.set(op.id, await createLoginRole(op.id.replace('op_', '')));
  unmapped = await createLoginRole('unmapped');
  await withClient(url, async (c) => {
    await c.query(`INSERT INTO tenants (id, name) VALUES ('A', 'Mercy'), ('B', 'General')`);
    await c.query(
      `INSERT INTO departments (tenant_id, id, name) VALUES ('A', 'medical', 'Medical'), ('A', 'marketing', 'Marketing'), ('B', 'medical', 'Medical')`,
    );
    for (const g of GROUPS) {
      await c.query(
        'INSERT INTO groups (id, tenant_id, department, name) VALUES ($1, $2, $3, $4)',
        [g.id, g.tenantId, g.department, g.name],
      );
    }
    for (const u of TARGET_USERS) {
      await c.query('INSERT INTO users (id, tenant_id, department) VALUES ($1, $2, $3)', [
        u.id,
        u.tenantId,
        u.department,
      ]);
    }
    for (const op of OPERATORS) {
      await c.query(
        'INSERT INTO users (id, tenant_id, department, traits, db_role) VALUES ($1, $2, $3, $4, $5)',
        [op.id, op.tenantId, op.department, op.traits, logins.get(op.id)!.role],
      );
    }
    for (const s of SLOTS) {
      const ins = insertSql(s, 'seed.key');
      await c.query(ins.text, ins.values);
    }
  });
});

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

async function snapshot(): Promise<string> {
  return withClient(url, async (c) => {
    const parts: string[] = [];
    for (const t of [
      'config_global',
      'config_tenant',
      'config_department',
      'config_group',
      'config_user',
    ]) {
      const r = await c.query(
        `SELECT to_jsonb(x) - 'updated_at' - 'created_at' AS j FROM ${t} x ORDER BY x::text`,
      );
      parts.push(JSON.stringify(r.rows));
    }
    return parts.join('\n');
  });
}

describe('row-level security and the guard trigger', () => {
  const cases = [...OPERATORS.map((o) => o.id), 'unmapped'];

  it.each(cases)(
    '%s: every write is allowed exactly where the matrix says, refusals are clear errors',
    async (id) => {
      const op = OPERATORS.find((o) => o.id === id);
      const login = op ? logins.get(op.id)! : unmapped;
      const before = await snapshot();
      const c = await connect(urlAs(url, login.role, login.password));
      const outcomes: string[] = [];
      try {
        for (const s of SLOTS) {
          const allowed = op?.writes.includes(name(s)) ?? false;
          const visible = op?.reads.includes(name(s)) ?? false;
          if (op) {
            // The TypeScript matrix says the same as the hand-written expectation.
            expect(checkWrite(op as Operator, s, directory).ok, `${id} checkWrite ${name(s)}`).toBe(
              allowed,
            );
            expect(checkRead(op as Operator, s, directory).ok, `${id} checkRead ${name(s)}`).toBe(
              visible,
            );
          }
          const w = where(s);
          const ops: Array<[string, () => Promise<pg.QueryResult>]> = [
            ['insert', () => c.query(insertSql(s, `new.key`).text, insertSql(s, `new.key`).values)],
            [
              'update',
              () =>
                c.query(`UPDATE ${w.table} SET value = 'changed' WHERE ${w.cond}`, [
                  'seed.key',
                  ...w.values,
                ]),
            ],
            [
              'delete',
              () => c.query(`DELETE FROM ${w.table} WHERE ${w.cond}`, ['seed.key', ...w.values]),
            ],
          ];
          for (const [verb, run] of ops) {
            await c.query('BEGIN');
            let result: pg.QueryResult | null = null;
            const err = await failure(run().then((r) => (result = r)));
            await c.query('ROLLBACK');
            const label = `${id} ${verb} ${name(s)}`;
            if (allowed) {
              expect(err, label).toBeNull();
              expect(result!.rowCount, label).toBe(1);
            } else if (verb === 'insert' || visible) {
              // Refused with the matrix's reason (SQLSTATE 42501), not silently.
              expect(err?.code, label).toBe('42501');
              expect(err?.message, label).toMatch(/^Permission denied: .+\.$/);
            } else {
              // A row the role may not even see is simply not there for it: nothing changes.
              expect(err, label).toBeNull();
              expect(result!.rowCount, label).toBe(0);
            }
            outcomes.push(`${label}: ${err ? 'refused' : `ok ${String(result!.rowCount)}`}`);
          }
        }
        // What the role can read is exactly its read scope.
        const seen: string[] = [];
        for (const t of ['global', 'tenant', 'department', 'group', 'user'] as const) {
          const scopeExpr =
            t === 'global'
              ? "''"
              : t === 'tenant'
                ? 'tenant_id'
                : t === 'department'
                  ? "tenant_id || '/' || department"
                  : t === 'group'
                    ? 'group_id'
                    : 'user_id';
          const r = await c.query<{ s: string }>(
            `SELECT ${scopeExpr} AS s FROM config_${t} WHERE key = 'seed.key'`,
          );
          for (const row of r.rows) seen.push(`${t}:${row.s}`);
        }
        expect(seen.sort()).toEqual([...(op?.reads ?? [])].sort());
      } finally {
        await c.end();
      }
      expect(outcomes.length).toBe(SLOTS.length * 3);
      // Everything ran in rolled-back transactions: the data is exactly as before.
      expect(await snapshot()).toBe(before);
    },
  );

  it('an unmapped role is told it is not mapped, and a role outside strata_app has no table rights', async () => {
    await withClient(urlAs(url, unmapped.role, unmapped.password), async (c) => {
      const e = await failure(
        c.query(`INSERT INTO config_tenant (tenant_id, key, value) VALUES ('A', 'x', 'y')`),
      );
      expect(e?.code).toBe('42501');
      expect(e?.message).toBe(
        `Permission denied: Database role ${unmapped.role} is not mapped to a directory user (users.db_role).`,
      );
    });
    const outsider = await createLoginRole('outsider', false);
    await withClient(urlAs(url, outsider.role, outsider.password), async (c) => {
      const e = await failure(c.query('SELECT * FROM config_global'));
      expect(e?.code).toBe('42501');
    });
  });

  it('the application role cannot truncate, relabel the environment or grant itself traits', async () => {
    const ta = logins.get('op_tadmin')!;
    await withClient(urlAs(url, ta.role, ta.password), async (c) => {
      for (const t of [
        'config_global',
        'config_tenant',
        'config_department',
        'config_group',
        'config_user',
        'config_audit',
      ]) {
        expect((await failure(c.query(`TRUNCATE ${t}`)))?.code, t).toBe('42501');
      }
      expect(
        (
          await failure(
            c.query(`INSERT INTO strata_settings VALUES ('environment', 'development')`),
          )
        )?.code,
      ).toBe('42501');
      const up = await c.query(
        `UPDATE users SET traits = traits || '{super_admin}' WHERE id = 'op_tadmin'`,
      );
      expect(up.rowCount).toBe(0);
      const add = await failure(
        c.query(
          `INSERT INTO users (id, tenant_id, traits, db_role) VALUES ('evil', 'A', '{super_admin,admin_capable,config_write}', 'x')`,
        ),
      );
      expect(add?.code).toBe('42501');
      // A tenant_admin manages groups of its own tenant, not of another.
      await c.query('BEGIN');
      await c.query(`INSERT INTO groups (id, tenant_id, name) VALUES ('gA2', 'A', 'new')`);
      await c.query('ROLLBACK');
      expect(
        (
          await failure(
            c.query(`INSERT INTO groups (id, tenant_id, name) VALUES ('gB2', 'B', 'new')`),
          )
        )?.code,
      ).toBe('42501');
    });
    await withClient(url, async (c) => {
      const r = await c.query(`SELECT traits FROM users WHERE id = 'op_tadmin'`);
      expect(r.rows[0].traits).not.toContain('super_admin');
    });
  });

  it('records the mapped user as changed_by, whatever strata.operator claims', async () => {
    const da = logins.get('op_dadmin')!;
    await withClient(urlAs(url, da.role, da.password), async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('strata.operator', 'someone_else', true)`);
      await c.query(`INSERT INTO config_user (user_id, key, value) VALUES ('uAm', 'who.key', 'v')`);
      await c.query('COMMIT');
    });
    await withClient(url, async (c) => {
      const r = await c.query(`SELECT changed_by FROM config_audit WHERE key = 'who.key'`);
      expect(r.rows).toEqual([{ changed_by: 'op_dadmin' }]);
    });
  });

  it('the SQL matrix gives the same decision and reason as checkWrite for every operator and slot', async () => {
    const traitsAll = [
      'admin_capable',
      'config_write',
      'super_admin',
      'tenant_admin',
      'dept_admin',
    ];
    const placements: Array<[string | null, string | null]> = [
      [null, null],
      ['A', null],
      ['A', 'medical'],
      ['A', 'marketing'],
      ['B', null],
      ['B', 'medical'],
      [null, 'medical'],
    ];
    const ops: Operator[] = [];
    for (let mask = 0; mask < 1 << traitsAll.length; mask++) {
      const traits = traitsAll.filter((_, i) => mask & (1 << i));
      placements.forEach(([t, d], i) =>
        ops.push({ id: `px_${mask}_${i}`, traits, tenantId: t, department: d }),
      );
    }
    const targets: Slot[] = [
      ...SLOTS,
      { level: 'global', scope: 'A' },
      { level: 'tenant', scope: '' },
      { level: 'department', scope: 'A' },
      { level: 'department', scope: 'A/' },
      { level: 'department', scope: '/medical' },
      { level: 'department', scope: 'B/nursing' },
      { level: 'group', scope: 'ghost' },
      { level: 'user', scope: 'ghost' },
      { level: 'user', scope: '' },
    ];
    await withClient(url, async (c) => {
      await c.query('BEGIN');
      for (const op of ops) {
        await c.query(
          'INSERT INTO users (id, tenant_id, department, traits) VALUES ($1, $2, $3, $4)',
          [op.id, op.tenantId, op.department, op.traits],
        );
      }
      const r = await c.query<{ id: string; level: Level; scope: string; reason: string | null }>(
        `SELECT u.id, s.level, s.scope, strata_write_denial(u.id, s.level, s.scope) AS reason
         FROM users u CROSS JOIN unnest($1::text[], $2::text[]) AS s(level, scope)
         WHERE u.id LIKE 'px\\_%'`,
        [targets.map((t) => t.level), targets.map((t) => t.scope)],
      );
      await c.query('ROLLBACK');
      expect(r.rows.length).toBe(ops.length * targets.length);
      const byId = new Map(ops.map((o) => [o.id, o]));
      const mismatches: string[] = [];
      for (const row of r.rows) {
        const js = checkWrite(byId.get(row.id)!, { level: row.level, scope: row.scope }, directory);
        const jsReason = js.ok ? null : js.reason;
        if (jsReason !== row.reason)
          mismatches.push(`${row.id} ${row.level}:${row.scope}: js=${jsReason} sql=${row.reason}`);
      }
      expect(mismatches).toEqual([]);
    });
  });
});
