/**
 * The per-user contexts and resolve plans: userContext() hands out one frozen context per user,
 * and resolve() through a context whose scope maps were looked up earlier must still see scopes
 * created or emptied by later writes (compared with an index rebuilt from scratch).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigIndex } from '../../src-main/core/config-index.js';
import type { ConfigEntry, Directory, DirectoryUser, Level } from '../../src-main/core/types.js';

const KEYS = ['a', 'b.c', 'fax_backend'];

function user(id: string, tenantId: string | null, department: string | null, groups: string[]) {
  const u: DirectoryUser = {
    id,
    tenantId,
    department,
    groups,
    traits: [],
    displayName: id,
    email: null,
    dbRole: null,
  };
  return u;
}
const DIRECTORY: Directory = {
  tenants: [{ id: 't1', name: 't1', tenantType: null }],
  departments: [{ tenantId: 't1', id: 'd1', name: 'd1' }],
  groups: ['g1', 'g2'].map((id) => ({ id, tenantId: 't1', department: null, name: id })),
  users: [
    user('u1', 't1', 'd1', ['g2', 'g1']),
    user('u2', 't1', null, ['g1']),
    user('u3', null, null, []),
  ],
};

const SLOTS: Array<{ level: Level; scope: string }> = [
  { level: 'global', scope: '' },
  { level: 'tenant', scope: 't1' },
  { level: 'department', scope: 't1/d1' },
  { level: 'group', scope: 'g1' },
  { level: 'group', scope: 'g2' },
  { level: 'user', scope: 'u1' },
  { level: 'user', scope: 'u2' },
  { level: 'user', scope: 'u3' },
];

function entry(level: Level, scope: string, key: string, value: string, locked: boolean) {
  const e: ConfigEntry = {
    level,
    scope,
    // A copy of the key text: maps must not depend on sharing the caller's string.
    key: [...key].join(''),
    value,
    valueType: 'string',
    encrypted: false,
    locked,
    version: 1,
    updatedAt: '2025-01-01T00:00:00.000Z',
    updatedBy: null,
  };
  return e;
}

const opArb = fc.record({
  remove: fc.boolean(),
  slot: fc.constantFrom(...SLOTS),
  key: fc.constantFrom(...KEYS),
  value: fc.constantFrom('', '0', 'x', 'y'),
  locked: fc.boolean(),
});

describe('ConfigIndex user contexts', () => {
  it('hands out one frozen context per user, renewed when the directory is replaced', () => {
    const index = ConfigIndex.build({ entries: [], directory: DIRECTORY, metadata: [] });
    const ctx = index.userContext('u1');
    expect(ctx).toEqual({ userId: 'u1', tenantId: 't1', department: 'd1', groups: ['g2', 'g1'] });
    expect(index.userContext('u1')).toBe(ctx);
    expect(Object.isFrozen(ctx) && Object.isFrozen(ctx.groups)).toBe(true);
    expect(Object.keys({ ...ctx })).toEqual(['userId', 'tenantId', 'department', 'groups']);
    index.replaceDirectory(DIRECTORY);
    expect(index.userContext('u1')).not.toBe(ctx);
    expect(() => index.userContext('nobody')).toThrow(/No user 'nobody'/);
  });

  it("resolves another index's context against its own entries", () => {
    const a = ConfigIndex.build({
      entries: [entry('user', 'u1', 'a', 'from-a', false)],
      directory: DIRECTORY,
      metadata: [],
    });
    const b = ConfigIndex.build({
      entries: [entry('group', 'g1', 'a', 'from-b', false)],
      directory: DIRECTORY,
      metadata: [],
    });
    const ctx = a.userContext('u1');
    expect(a.resolve('a', ctx).value).toBe('from-a');
    expect(b.resolve('a', ctx).value).toBe('from-b');
    expect(b.resolve('a', ctx)).toEqual(b.resolve('a', b.userContext('u1')));
  });

  it('resolves through cached plans after writes that create and empty scopes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const index = ConfigIndex.build({ entries: [], directory: DIRECTORY, metadata: [] });
        for (const op of ops) {
          // Resolving first caches each user's plan, so the write below must refresh it.
          for (const u of ['u1', 'u2', 'u3']) index.resolve(op.key, index.userContext(u));
          if (op.remove) index.remove({ ...op.slot, key: op.key });
          else index.upsert(entry(op.slot.level, op.slot.scope, op.key, op.value, op.locked));
          const fresh = ConfigIndex.build({
            entries: index.allEntries(),
            directory: DIRECTORY,
            metadata: [],
          });
          for (const u of ['u1', 'u2', 'u3']) {
            for (const key of KEYS) {
              expect(index.resolve(key, index.userContext(u))).toEqual(
                fresh.resolve(key, fresh.userContext(u)),
              );
            }
          }
        }
        expect(index.keys()).toEqual([...new Set(index.allEntries().map((e) => e.key))].sort());
      }),
      { numRuns: 200 },
    );
  });
});
