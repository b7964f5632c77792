import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OverlayView,
  assertNoLockViolations,
  assertNotLocked,
  computeImpact,
  computeImpactBetween,
  contextClasses,
  findLockAbove,
  impactForUser,
  indexView,
  lockViolations,
  resolveInView,
} from '../../src-main/core/impact.js';
import type { SlotChange } from '../../src-main/core/impact.js';
import { StrataError } from '../../src-main/core/types.js';
import type { Level } from '../../src-main/core/types.js';
import { generateNetwork } from '../../src-main/demo/generator.js';
import { hospitalNetwork } from '../../src-main/demo/hospital-network.js';
import { applyChanges, bruteForceImpact, envelope, indexOf, set, unset } from './impact-helpers.js';

const demo = hospitalNetwork();

/** Every slot of the demo directory, for generated change sets. */
function demoSlots(): Array<{ level: Level; scope: string }> {
  const d = demo.directory;
  return [
    { level: 'global', scope: '' },
    ...d.tenants.map((t) => ({ level: 'tenant' as const, scope: t.id })),
    ...d.departments.map((x) => ({ level: 'department' as const, scope: `${x.tenantId}/${x.id}` })),
    ...d.groups.map((g) => ({ level: 'group' as const, scope: g.id })),
    ...d.users.map((u) => ({ level: 'user' as const, scope: u.id })),
  ];
}

const KEYS = [
  'compliance.hipaa.enabled',
  'features.email_gateway.enabled',
  'fax.backend.provider',
  'notification_urgency',
  'ui.theme',
  'uploads.max_size_mb',
  'brand_new.key',
];

/** Checks computeImpact against resolving every user of the directory twice. */
function expectMatchesBruteForce(changes: SlotChange[]): void {
  const index = indexOf(demo);
  const report = computeImpact(index, changes, { includeUsers: true });
  const keys = [...new Set(changes.map((c) => c.key))].sort();
  const truth = bruteForceImpact(index, applyChanges(index, changes), keys);
  expect(report.keys.map((k) => k.key)).toEqual(keys);
  const everyone = new Set<string>();
  for (const k of report.keys) {
    const ids = truth.get(k.key)!;
    expect(k.userIds).toEqual(ids);
    expect(k.usersAffected).toBe(ids.length);
    ids.forEach((id) => everyone.add(id));
    // Every affected user is explained by exactly one changed slot of the key.
    expect(k.slots.reduce((n, s) => n + s.usersAffected, 0)).toBe(ids.length);
    expect(k.slots.flatMap((s) => s.userIds ?? []).sort()).toEqual(ids);
    for (const s of k.slots) {
      const t = new Set(
        (s.userIds ?? []).map((id) => demo.directory.users.find((u) => u.id === id)!.tenantId!),
      );
      expect(s.tenants).toEqual([...t].sort());
    }
    // Tenant, department and group counts are the affected members of each.
    const users = new Map(demo.directory.users.map((u) => [u.id, u]));
    const tally = (pick: (id: string) => string[]): Array<{ id: string; users: number }> => {
      const m = new Map<string, number>();
      for (const id of ids) for (const s of pick(id)) m.set(s, (m.get(s) ?? 0) + 1);
      return [...m.entries()]
        .map(([id, n]) => ({ id, users: n }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    };
    expect(k.tenants).toEqual(
      tally((id) => (users.get(id)!.tenantId ? [users.get(id)!.tenantId!] : [])),
    );
    expect(k.departments).toEqual(
      tally((id) => {
        const u = users.get(id)!;
        return u.tenantId && u.department ? [`${u.tenantId}/${u.department}`] : [];
      }),
    );
    expect(k.groups).toEqual(tally((id) => [...new Set(users.get(id)!.groups)]));
  }
  expect(report.usersAffected).toBe(everyone.size);
  expect(report.totalUsers).toBe(demo.directory.users.length);
  // The counting path (no ids) agrees with the listing path.
  const countsOnly = computeImpact(index, changes);
  const strip = (r: typeof report): unknown =>
    r.keys.map((k) => ({
      ...k,
      userIds: undefined,
      slots: k.slots.map((s) => ({ ...s, userIds: undefined })),
    }));
  expect(strip(countsOnly)).toEqual(strip(report));
  expect(countsOnly.usersAffected).toBe(report.usersAffected);
}

describe('computeImpact on the demo network', () => {
  it('matches a brute force over every user for generated change sets', () => {
    const slots = demoSlots();
    const change = fc
      .record({
        slot: fc.constantFrom(...slots),
        key: fc.constantFrom(...KEYS),
        action: fc.constantFrom('set', 'set', 'unset'),
        value: fc.constantFrom('true', 'false', 'sip', 'phaxio', 'high', 'normal', '25'),
        locked: fc.boolean(),
      })
      .map((r): SlotChange =>
        r.action === 'set'
          ? set(r.slot.level, r.slot.scope, r.key, r.value, { locked: r.locked })
          : unset(r.slot.level, r.slot.scope, r.key),
      );
    fc.assert(
      fc.property(
        fc.uniqueArray(change, {
          minLength: 1,
          maxLength: 8,
          selector: (c) => `${c.level}|${c.scope}|${c.key}`,
        }),
        (changes) => expectMatchesBruteForce(changes),
      ),
      { numRuns: 300 },
    );
  });

  it('counts the HIPAA tenant-wide switch-off with a drill-down per tenant and department', () => {
    const index = indexOf(demo);
    const report = computeImpact(
      index,
      [set('tenant', 'mercy_hospital', 'compliance.hipaa.enabled', 'false')],
      {
        includeUsers: true,
      },
    );
    const k = report.keys[0]!;
    // Marketing already has false; every other Mercy user flips.
    const mercy = demo.directory.users.filter((u) => u.tenantId === 'mercy_hospital');
    const flipped = mercy
      .filter((u) => u.department !== 'marketing')
      .map((u) => u.id)
      .sort();
    expect(k.userIds).toEqual(flipped);
    expect(k.tenants).toEqual([{ id: 'mercy_hospital', users: flipped.length }]);
    expect(k.departments.map((d) => d.id)).toEqual(['mercy_hospital/it', 'mercy_hospital/medical']);
    expect(k.slots[0]).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      usersAffected: flipped.length,
    });
  });

  it('reports no one for a global change that every tenant overrides', () => {
    const index = indexOf(demo);
    const report = computeImpact(index, [
      set('global', '', 'compliance.hipaa.audit_level', 'minimal'),
    ]);
    // Both tenants set the key, so only users without a tenant could see it: there are none.
    expect(report.usersAffected).toBe(0);
    expect(report.keys[0]!.usersAffected).toBe(0);
  });

  it('sees users released by removing a lock', () => {
    const index = indexOf(demo);
    const report = computeImpact(
      index,
      [set('tenant', 'general_hospital', 'fax.backend.provider', 'sip', { locked: false })],
      { includeUsers: true },
    );
    // gh_oncall sets phaxio but the tenant lock shadowed it until now.
    expect(report.keys[0]!.userIds).toEqual(['gh_dr_osei', 'gh_nurse_diaz']);
    expect(report.keys[0]!.groups).toContainEqual({ id: 'gh_oncall', users: 2 });
  });

  it('treats a re-encrypted secret with the same fingerprint as unchanged', () => {
    const index = indexOf(demo);
    const same = set(
      'global',
      '',
      'providers.phaxio.api_secret',
      envelope('demo-global-phaxio-secret-0001', 'other-nonce'),
      {
        encrypted: true,
      },
    );
    expect(computeImpact(index, [same]).usersAffected).toBe(0);
    const changed = { ...same, value: envelope('a-new-secret') };
    // Mercy sets no api_secret of its own, so everybody sees the global one.
    expect(computeImpact(index, [changed]).usersAffected).toBe(demo.directory.users.length);
  });

  it('drills down to one user with the provenance before and after', () => {
    const index = indexOf(demo);
    const changes = [
      set('department', 'mercy_hospital/marketing', 'features.email_gateway.enabled', 'false', {
        valueType: 'boolean',
      }),
    ];
    const [ben] = impactForUser(index, changes, 'mkt_ben');
    expect(ben!.changed).toBe(true);
    expect(ben!.before).toMatchObject({
      level: 'department',
      scope: 'mercy_hospital/marketing',
      value: 'true',
    });
    expect(ben!.after).toMatchObject({
      level: 'department',
      scope: 'mercy_hospital/marketing',
      value: 'false',
    });
    expect(ben!.after.chain.find((l) => l.winner)?.level).toBe('department');
    // Anna overrides it herself (false), so she sees no change.
    const [anna] = impactForUser(index, changes, 'mkt_anna');
    expect(anna!.changed).toBe(false);
    expect(anna!.after.level).toBe('user');
    expect(() => impactForUser(index, changes, 'nobody')).toThrow(StrataError);
  });

  it('refuses a change set that names one slot twice', () => {
    const index = indexOf(demo);
    expect(() =>
      computeImpact(index, [set('global', '', 'ui.theme', 'a'), unset('global', '', 'ui.theme')]),
    ).toThrow(/more than once/);
  });
});

describe('resolveInView', () => {
  it('equals ConfigIndex.resolve when the view is the index', () => {
    const index = indexOf(demo);
    const view = indexView(index);
    for (const u of demo.directory.users) {
      const ctx = index.userContext(u.id);
      for (const key of index.keys()) {
        expect(resolveInView(view, key, ctx)).toEqual(index.resolve(key, ctx));
      }
    }
  });

  it('equals resolving the index the change set produces', () => {
    const index = indexOf(demo);
    const changes = [
      set('tenant', 'general_hospital', 'fax.backend.provider', 'sinch', { locked: false }),
      unset('group', 'emergency_doctors_group', 'fax.backend.provider'),
      set('user', 'dr_house', 'fax.backend.provider', 'test'),
    ];
    const view = new OverlayView(index, changes);
    const after = applyChanges(index, changes);
    for (const u of demo.directory.users) {
      const ctx = index.userContext(u.id);
      const a = resolveInView(view, 'fax.backend.provider', ctx);
      const b = after.resolve('fax.backend.provider', ctx);
      expect({ ...a, entry: null, chain: a.chain.map((l) => ({ ...l, entry: null })) }).toEqual({
        ...b,
        entry: null,
        chain: b.chain.map((l) => ({ ...l, entry: null })),
      });
    }
  });
});

describe('impact at 100,000 users', () => {
  it('resolves distinct contexts, not users, and still matches a brute force', () => {
    const ds = generateNetwork(10);
    expect(ds.directory.users.length).toBe(100_000);
    const index = indexOf(ds);
    const classes = contextClasses(index.directory());
    // The design: far fewer contexts than users.
    expect(classes.all.length).toBeLessThan(ds.directory.users.length / 4);
    const key = ds.metadata[7]!.key;
    const changes = [
      set('global', '', key, 'changed-everywhere', { valueType: ds.metadata[7]!.valueType }),
    ];
    const report = computeImpact(index, changes, { includeUsers: true });
    expect(report.evaluations).toBe(classes.all.length);
    const truth = bruteForceImpact(index, applyChanges(index, changes), [key]);
    expect(report.keys[0]!.userIds).toEqual(truth.get(key));
    expect(report.keys[0]!.usersAffected).toBeGreaterThan(0);
    // A second key reuses the cached grouping of the same directory object.
    expect(contextClasses(index.directory())).toBe(classes);
  });
});

describe('locks', () => {
  const index = indexOf(demo);

  it('names the lock and where it is set', () => {
    const slot = {
      level: 'department' as const,
      scope: 'general_hospital/medical',
      key: 'fax.backend.provider',
    };
    const lock = findLockAbove(indexView(index), slot);
    expect(lock).toMatchObject({ level: 'tenant', scope: 'general_hospital' });
    expect(() => assertNotLocked(index, slot)).toThrow(
      'fax.backend.provider is locked at tenant general_hospital; department overrides are not allowed.',
    );
  });

  it('checks groups through their tenant and users through their groups', () => {
    expect(
      findLockAbove(indexView(index), {
        level: 'group',
        scope: 'gh_oncall',
        key: 'fax.backend.provider',
      }),
    ).toMatchObject({
      scope: 'general_hospital',
    });
    expect(
      findLockAbove(indexView(index), {
        level: 'user',
        scope: 'contractor_zoe',
        key: 'fax.backend.provider',
      }),
    ).not.toBeNull();
    // Mercy does not lock it.
    expect(
      findLockAbove(indexView(index), {
        level: 'user',
        scope: 'user123',
        key: 'fax.backend.provider',
      }),
    ).toBeNull();
    const locked = [set('group', 'doctors', 'ui.theme', 'clinic', { locked: true })];
    const v = lockViolations(index, [...locked, set('user', 'dr_shepherd', 'ui.theme', 'dark')]);
    expect(v.map((x) => x.message)).toEqual([
      'ui.theme is locked at group doctors; user overrides are not allowed.',
    ]);
  });

  it('judges a change set as a whole', () => {
    // Adding the lock and an override below it in one set: refused.
    expect(() =>
      assertNoLockViolations(index, [
        set('tenant', 'mercy_hospital', 'compliance.hipaa.enabled', 'true', {
          locked: true,
          valueType: 'boolean',
        }),
        set('department', 'mercy_hospital/it', 'compliance.hipaa.enabled', 'false', {
          valueType: 'boolean',
        }),
      ]),
    ).toThrow(
      'compliance.hipaa.enabled is locked at tenant mercy_hospital; department overrides are not allowed.',
    );
    // Removing the lock and overriding in one set: allowed.
    expect(
      lockViolations(index, [
        set('tenant', 'general_hospital', 'fax.backend.provider', 'sip'),
        set('department', 'general_hospital/medical', 'fax.backend.provider', 'phaxio'),
      ]),
    ).toEqual([]);
    // Unsetting a shadowed override below a lock is always allowed, and so is changing the lock itself.
    expect(
      lockViolations(index, [
        unset('group', 'gh_oncall', 'fax.backend.provider'),
        set('tenant', 'general_hospital', 'fax.backend.provider', 'sinch', { locked: true }),
      ]),
    ).toEqual([]);
    // A global lock binds every level below.
    const g = lockViolations(index, [
      set('global', '', 'ui.theme', 'neutral', { locked: true }),
      set('tenant', 'general_hospital', 'ui.theme', 'x'),
    ]);
    expect(g[0]!.message).toBe('ui.theme is locked at global; tenant overrides are not allowed.');
  });
});

describe('computeImpactBetween', () => {
  it('gives the same answer from a draft-like index with the base put back as an overlay', () => {
    const base = indexOf(demo);
    const changes = [
      set('tenant', 'mercy_hospital', 'ui.theme', 'dark'),
      unset('department', 'mercy_hospital/marketing', 'ui.theme'),
      set('user', 'mkt_ben', 'ui.theme', 'business'),
      set('tenant', 'general_hospital', 'fax.backend.provider', 'sip'),
    ];
    const forward = computeImpact(base, changes, { includeUsers: true });
    const draft = applyChanges(base, changes);
    const undo: SlotChange[] = changes.map((c) => {
      const e = base.get(c);
      return e
        ? set(c.level, c.scope, c.key, e.value, {
            valueType: e.valueType,
            encrypted: e.encrypted,
            locked: e.locked,
          })
        : unset(c.level, c.scope, c.key);
    });
    const between = computeImpactBetween(new OverlayView(draft, undo), indexView(draft), changes, {
      includeUsers: true,
    });
    expect(between).toEqual({ ...forward, evaluations: between.evaluations });
  });
});
