import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assertCanWrite,
  checkRead,
  checkWrite,
  parseDepartmentScope,
  securityErrorFromPg,
  writeReach,
} from '../../src-main/services/access.js';
import type { Operator } from '../../src-main/services/access.js';
import { StrataError } from '../../src-main/core/types.js';
import type { DirectoryUser, Level } from '../../src-main/core/types.js';

function user(id: string, tenantId: string | null, department: string | null): DirectoryUser {
  return {
    id,
    tenantId,
    department,
    traits: [],
    groups: [],
    displayName: null,
    email: null,
    dbRole: null,
  };
}

const dir = {
  groups: [
    { id: 'doctors', tenantId: 'mercy', department: 'medical', name: 'Doctors' },
    { id: 'all-mercy', tenantId: 'mercy', department: null, name: 'Everyone' },
    { id: 'orphan', tenantId: null, department: null, name: 'No tenant' },
    { id: 'gen-nurses', tenantId: 'general', department: 'medical', name: 'Nurses' },
  ],
  users: [
    user('ann', 'mercy', 'medical'),
    user('bob', 'mercy', 'marketing'),
    user('cat', 'general', null),
    user('dan', null, null),
  ],
};

const op = (
  traits: string[],
  tenantId: string | null = 'mercy',
  department: string | null = 'medical',
): Operator => ({
  id: 'me',
  traits,
  tenantId,
  department,
});
const W = ['admin_capable', 'config_write'];

describe('checkWrite', () => {
  it('fixes the seed: a matching tenant id without tenant_admin is refused, tenant_admin of another tenant too', () => {
    // The seed: `if level == 'tenant' and not tenant_admin: if user.tenant_id != tenant_id: raise` let this through.
    expect(checkWrite(op([...W]), { level: 'tenant', scope: 'mercy' }, dir)).toEqual({
      ok: false,
      reason: 'Changing tenant mercy requires super_admin or tenant_admin of mercy.',
    });
    // ...and it never compared a tenant_admin's own tenant with the target.
    expect(
      checkWrite(op([...W, 'tenant_admin']), { level: 'tenant', scope: 'general' }, dir).ok,
    ).toBe(false);
    expect(
      checkWrite(op([...W, 'tenant_admin']), { level: 'tenant', scope: 'mercy' }, dir).ok,
    ).toBe(true);
  });

  it('needs admin_capable, then config_write, for anything', () => {
    expect(
      checkWrite(op(['config_write', 'super_admin']), { level: 'global', scope: '' }, dir),
    ).toEqual({
      ok: false,
      reason: 'me lacks the admin_capable trait required for any configuration access.',
    });
    expect(
      checkWrite(op(['admin_capable', 'super_admin']), { level: 'global', scope: '' }, dir),
    ).toEqual({
      ok: false,
      reason: 'me lacks the config_write trait required to change configuration.',
    });
  });

  it('applies the level rules', () => {
    const ta = op([...W, 'tenant_admin'], 'mercy', null);
    const da = op([...W, 'dept_admin'], 'mercy', 'medical');
    const su = op([...W, 'super_admin'], null, null);
    const cases: Array<[Operator, Level, string, boolean]> = [
      [su, 'global', '', true],
      [ta, 'global', '', false],
      [ta, 'department', 'mercy/medical', true],
      [ta, 'department', 'general/medical', false],
      [da, 'department', 'mercy/medical', true],
      [da, 'department', 'mercy/marketing', false],
      [da, 'tenant', 'mercy', false],
      [ta, 'group', 'all-mercy', true],
      [da, 'group', 'doctors', true],
      [da, 'group', 'all-mercy', false],
      [ta, 'group', 'gen-nurses', false],
      [ta, 'group', 'orphan', false],
      [su, 'group', 'orphan', true],
      [ta, 'group', 'unknown', false],
      [ta, 'user', 'ann', true],
      [da, 'user', 'ann', true],
      [da, 'user', 'bob', false],
      [ta, 'user', 'cat', false],
      [ta, 'user', 'dan', false],
      [su, 'user', 'nobody-yet', true],
    ];
    for (const [who, level, scope, ok] of cases) {
      expect(
        checkWrite(who, { level, scope }, dir).ok,
        `${who.traits.join(',')} ${level}:${scope}`,
      ).toBe(ok);
    }
    expect(checkWrite(da, { level: 'group', scope: 'all-mercy' }, dir)).toEqual({
      ok: false,
      reason: 'Changing group all-mercy requires super_admin or tenant_admin of mercy.',
    });
    expect(checkWrite(ta, { level: 'user', scope: 'dan' }, dir)).toEqual({
      ok: false,
      reason:
        'User dan is not in the directory or belongs to no tenant; only a super_admin may configure it.',
    });
  });

  it('refuses malformed scopes even for a super_admin', () => {
    const su = op([...W, 'super_admin'], null, null);
    for (const [level, scope] of [
      ['global', 'x'],
      ['tenant', ''],
      ['department', 'mercy'],
      ['department', 'mercy/'],
      ['department', '/medical'],
      ['planet', 'x'],
    ] as Array<[Level, string]>) {
      expect(checkWrite(su, { level, scope }, dir).ok).toBe(false);
    }
    expect(parseDepartmentScope('a/b/c')).toEqual({ tenantId: 'a/b', department: 'c' });
  });

  it('never allows more than the traits grant (property)', () => {
    const traitArb = fc.subarray([
      'admin_capable',
      'config_write',
      'super_admin',
      'tenant_admin',
      'dept_admin',
    ]);
    const targetArb = fc.constantFrom<[Level, string]>(
      ['global', ''],
      ['tenant', 'mercy'],
      ['tenant', 'general'],
      ['department', 'mercy/medical'],
      ['department', 'general/medical'],
      ['group', 'doctors'],
      ['group', 'gen-nurses'],
      ['user', 'ann'],
      ['user', 'cat'],
    );
    fc.assert(
      fc.property(
        traitArb,
        fc.constantFrom('mercy', 'general', null),
        fc.constantFrom('medical', 'marketing', null),
        targetArb,
        (traits, tenantId, department, [level, scope]) => {
          const who = op(traits, tenantId, department);
          const d = checkWrite(who, { level, scope }, dir);
          if (!d.ok) return;
          expect(traits).toContain('admin_capable');
          expect(traits).toContain('config_write');
          if (traits.includes('super_admin')) return;
          expect(level).not.toBe('global');
          // Anyone else only writes inside their own tenant.
          const owner =
            level === 'tenant'
              ? scope
              : level === 'department'
                ? scope.split('/')[0]
                : level === 'group'
                  ? dir.groups.find((g) => g.id === scope)?.tenantId
                  : dir.users.find((u) => u.id === scope)?.tenantId;
          expect(owner).toBe(tenantId);
          // A write always implies a read.
          expect(checkRead(who, { level, scope }, dir).ok).toBe(true);
        },
      ),
    );
  });

  it('writeReach names the widest place checkWrite allows, and nothing when it allows none (property)', () => {
    const targets: Array<[Level, string]> = [
      ['global', ''],
      ['tenant', 'mercy'],
      ['tenant', 'general'],
      ['department', 'mercy/medical'],
      ['department', 'mercy/marketing'],
      ['department', 'general/medical'],
      ['group', 'doctors'],
      ['group', 'all-mercy'],
      ['group', 'gen-nurses'],
      ['user', 'ann'],
      ['user', 'bob'],
      ['user', 'cat'],
    ];
    fc.assert(
      fc.property(
        fc.subarray(['admin_capable', 'config_write', 'super_admin', 'tenant_admin', 'dept_admin']),
        fc.constantFrom('mercy', 'general', null),
        fc.constantFrom('medical', 'marketing', null),
        (traits, tenantId, department) => {
          const who = op(traits, tenantId, department);
          const reach = writeReach(who);
          const allowed = targets.filter(
            ([level, scope]) => checkWrite(who, { level, scope }, dir).ok,
          );
          if (reach === null) {
            expect(allowed).toEqual([]);
            return;
          }
          expect(checkWrite(who, reach, dir).ok).toBe(true);
          // Everything allowed lies inside the reach.
          for (const [level, scope] of allowed) {
            if (reach.level === 'global') continue;
            const tenant = reach.level === 'tenant' ? reach.scope : reach.scope.split('/')[0];
            expect(level).not.toBe('global');
            if (level === 'tenant') expect([reach.level, scope]).toEqual(['tenant', tenant]);
            if (level === 'department' && reach.level === 'department')
              expect(scope).toBe(reach.scope);
          }
        },
      ),
    );
    // Admin traits without config_write, or config_write without an admin trait, reach nothing.
    expect(writeReach(op(['admin_capable', 'tenant_admin']))).toBeNull();
    expect(writeReach(op([...W]))).toBeNull();
    expect(writeReach(op([...W, 'dept_admin'], 'mercy', null))).toBeNull();
    expect(writeReach(op([...W, 'dept_admin']))).toEqual({
      level: 'department',
      scope: 'mercy/medical',
    });
    expect(writeReach(op([...W, 'tenant_admin', 'dept_admin']))).toEqual({
      level: 'tenant',
      scope: 'mercy',
    });
    expect(writeReach(op([...W, 'super_admin'], null, null))).toEqual({
      level: 'global',
      scope: '',
    });
  });

  it('assertCanWrite throws a forbidden StrataError with the reason', () => {
    expect(() => assertCanWrite(op([...W]), { level: 'global', scope: '' }, dir)).toThrow(
      new StrataError('forbidden', 'Changing global configuration requires super_admin.'),
    );
  });
});

describe('checkRead', () => {
  it('keeps tenants apart unless super_admin', () => {
    const ta = op(['admin_capable', 'tenant_admin'], 'mercy', null);
    expect(checkRead(ta, { level: 'global', scope: '' }, dir).ok).toBe(true);
    expect(checkRead(ta, { level: 'group', scope: 'doctors' }, dir).ok).toBe(true);
    expect(checkRead(ta, { level: 'tenant', scope: 'general' }, dir)).toEqual({
      ok: false,
      reason: 'me may read only global configuration and configuration of tenant mercy.',
    });
    expect(
      checkRead(
        op(['admin_capable', 'super_admin'], null, null),
        { level: 'user', scope: 'cat' },
        dir,
      ).ok,
    ).toBe(true);
    expect(checkRead(op(['config_write']), { level: 'global', scope: '' }, dir).ok).toBe(false);
  });
});

describe('securityErrorFromPg', () => {
  it('maps the database refusals to StrataErrors and ignores anything else', () => {
    expect(securityErrorFromPg({ code: '42501', message: 'Permission denied: x.' })).toEqual(
      new StrataError('forbidden', 'Permission denied: x.'),
    );
    expect(
      securityErrorFromPg({
        code: '23514',
        message: "Key 'k' at global rejects the value (rule type: x).",
      })?.code,
    ).toBe('invalid');
    expect(
      securityErrorFromPg({
        code: '22023',
        message: 'A reason is required for every push to a production database.',
      })?.code,
    ).toBe('invalid');
    expect(securityErrorFromPg({ code: '23505', message: 'duplicate key' })).toBeNull();
    expect(securityErrorFromPg(new Error('boom'))).toBeNull();
  });
});
