/**
 * The pure three-way planner (src-main/core/plan.ts): the five actions, conflict kinds, the
 * resolution binding to live state, fresh drafts, parent slots and directory rows; plus property
 * tests over random base / live / mine states.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalDirectoryRow,
  directoryToken,
  liveToken,
  parentLookup,
  parentSlots,
  planChange,
  planDirectory,
  sameValue,
  summarisePlan,
  type PlanChange,
  type PlanInput,
  type PlanResolution,
  type PlanRow,
} from '../../src-main/core/plan.js';
import type { Directory, Slot } from '../../src-main/core/types.js';

const SLOT: Slot = { level: 'tenant', scope: 't1', key: 'app.mode' };

function row(value: string, version: number, extra: Partial<PlanRow> = {}): PlanRow {
  return { value, valueType: 'string', encrypted: false, locked: false, version, ...extra };
}

function change(
  action: 'set' | 'unset',
  value: string | null,
  baseVersion: number | null,
  extra: Partial<PlanChange> = {},
): PlanChange {
  return {
    ...SLOT,
    id: 's1',
    action,
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    baseVersion,
    reason: null,
    author: 'alice',
    ...extra,
  };
}

function input(
  base: PlanRow | null,
  live: PlanRow | null,
  opts: {
    fresh?: boolean;
    resolution?: PlanResolution | null;
    parents?: Record<string, { base: PlanRow | null; live: PlanRow | null }>;
  } = {},
): PlanInput {
  const key = (s: Slot): string => `${s.level}:${s.scope}:${s.key}`;
  const parents = opts.parents ?? {};
  return {
    changes: [],
    fresh: opts.fresh ?? false,
    base: (s) => (key(s) === key(SLOT) ? base : (parents[key(s)]?.base ?? null)),
    live: (s) => (key(s) === key(SLOT) ? live : (parents[key(s)]?.live ?? null)),
    resolution: () => opts.resolution ?? null,
    parents: (s) => (key(s) === key(SLOT) ? [{ level: 'global', scope: '', key: SLOT.key }] : []),
  };
}

describe('the five actions', () => {
  it('creates where the slot was and is empty', () => {
    const item = planChange(input(null, null), change('set', 'on', null));
    expect(item).toMatchObject({ action: 'create', write: 'insert', expectedVersion: null });
  });

  it('updates where production still holds the base', () => {
    const item = planChange(input(row('off', 3), row('off', 3)), change('set', 'on', 3));
    expect(item).toMatchObject({ action: 'update', write: 'update', expectedVersion: 3 });
  });

  it('deletes where production still holds the base', () => {
    const item = planChange(input(row('off', 3), row('off', 3)), change('unset', null, 3));
    expect(item).toMatchObject({ action: 'delete', write: 'delete', expectedVersion: 3 });
  });

  it('is a no-op where production already holds my value (even though it moved)', () => {
    const set = planChange(input(row('off', 3), row('on', 4)), change('set', 'on', 3));
    expect(set).toMatchObject({ action: 'no-op', write: null });
    const unset = planChange(input(row('off', 3), null), change('unset', null, 3));
    expect(unset).toMatchObject({ action: 'no-op', write: null });
  });

  it('is a conflict where production changed since the base, with its kind', () => {
    const changed = planChange(input(row('off', 3), row('auto', 4)), change('set', 'on', 3));
    expect(changed).toMatchObject({ action: 'conflict', conflict: 'changed', write: null });
    const created = planChange(input(null, row('auto', 1)), change('set', 'on', null));
    expect(created).toMatchObject({ action: 'conflict', conflict: 'created' });
    const deleted = planChange(input(row('off', 3), null), change('set', 'on', 3));
    expect(deleted).toMatchObject({ action: 'conflict', conflict: 'deleted' });
  });

  it('notices a row deleted and created again at the same version (content differs)', () => {
    const item = planChange(input(row('off', 1), row('auto', 1)), change('set', 'on', 1));
    expect(item.action).toBe('conflict');
  });

  it('counts a plan', () => {
    const items = [
      planChange(input(null, null), change('set', 'on', null)),
      planChange(input(row('a', 1), row('b', 2)), change('set', 'c', 1)),
      planChange(input(row('a', 1), row('a', 1)), change('unset', null, 1)),
    ];
    expect(summarisePlan(items)).toEqual({
      create: 1,
      update: 0,
      delete: 1,
      noop: 0,
      conflicts: 1,
      unresolved: 1,
      parentChanged: 0,
    });
  });
});

describe('resolutions', () => {
  const live = row('auto', 4);

  it('keep mine settles the conflict and writes against the live version', () => {
    const r: PlanResolution = { choice: 'mine', liveToken: liveToken(live) };
    const item = planChange(input(row('off', 3), live, { resolution: r }), change('set', 'on', 3));
    expect(item).toMatchObject({
      action: 'conflict',
      resolution: 'mine',
      write: 'update',
      expectedVersion: 4,
    });
    expect(summarisePlan([item]).unresolved).toBe(0);
  });

  it('take theirs settles the conflict and writes nothing', () => {
    const r: PlanResolution = { choice: 'theirs', liveToken: liveToken(live) };
    const item = planChange(input(row('off', 3), live, { resolution: r }), change('set', 'on', 3));
    expect(item).toMatchObject({ resolution: 'theirs', write: null });
  });

  it('a resolution made against another live state no longer settles anything', () => {
    const r: PlanResolution = { choice: 'mine', liveToken: liveToken(row('auto', 3)) };
    const item = planChange(input(row('off', 3), live, { resolution: r }), change('set', 'on', 3));
    expect(item).toMatchObject({ action: 'conflict', resolution: null, write: null });
    const sameVersion: PlanResolution = { choice: 'mine', liveToken: liveToken(row('else', 4)) };
    expect(
      planChange(input(row('off', 3), live, { resolution: sameVersion }), change('set', 'on', 3))
        .resolution,
    ).toBeNull();
  });

  it('keep mine on a deleted row creates it again', () => {
    const r: PlanResolution = { choice: 'mine', liveToken: liveToken(null) };
    const item = planChange(input(row('off', 3), null, { resolution: r }), change('set', 'on', 3));
    expect(item).toMatchObject({ write: 'insert', expectedVersion: null });
  });
});

describe('fresh drafts and parents', () => {
  it('a fresh draft has no base: an empty target is a create, a different value a conflict', () => {
    expect(
      planChange(input(row('x', 1), null, { fresh: true }), change('set', 'on', 1)).action,
    ).toBe('create');
    const item = planChange(
      input(row('x', 1), row('y', 7), { fresh: true }),
      change('set', 'on', 1),
    );
    expect(item).toMatchObject({ action: 'conflict', conflict: 'created', base: null });
    expect(item.parentChanged).toEqual([]);
  });

  it('reports a parent level that moved since the base', () => {
    const parents = { 'global::app.mode': { base: row('a', 1), live: row('b', 2) } };
    const item = planChange(
      input(row('off', 3), row('off', 3), { parents }),
      change('set', 'on', 3),
    );
    expect(item.action).toBe('update');
    expect(item.parentChanged).toEqual([
      { level: 'global', scope: '', base: row('a', 1), live: row('b', 2) },
    ]);
    const still = planChange(
      input(row('off', 3), row('off', 3), {
        parents: { 'global::app.mode': { base: row('a', 1), live: row('a', 1) } },
      }),
      change('set', 'on', 3),
    );
    expect(still.parentChanged).toEqual([]);
  });

  it('derives parent slots from the directory for every level', () => {
    const dir: Directory = {
      tenants: [{ id: 't', name: 'T', tenantType: null }],
      departments: [{ tenantId: 't', id: 'd', name: 'D' }],
      groups: [{ id: 'g', tenantId: 't', department: 'd', name: 'G' }],
      users: [
        {
          id: 'u',
          tenantId: 't',
          department: 'd',
          groups: ['g', 'h'],
          traits: [],
          displayName: null,
          email: null,
          dbRole: null,
        },
      ],
    };
    const look = parentLookup(dir);
    const of = (level: Slot['level'], scope: string): string[] =>
      parentSlots({ level, scope, key: 'k' }, look).map((s) => `${s.level}:${s.scope}`);
    expect(of('global', '')).toEqual([]);
    expect(of('tenant', 't')).toEqual(['global:']);
    expect(of('department', 't/d')).toEqual(['global:', 'tenant:t']);
    expect(of('group', 'g')).toEqual(['global:', 'tenant:t', 'department:t/d']);
    expect(of('user', 'u')).toEqual([
      'global:',
      'tenant:t',
      'department:t/d',
      'group:g',
      'group:h',
    ]);
    expect(of('user', 'nobody')).toEqual(['global:']);
  });
});

describe('secrets', () => {
  it('compares envelopes by key id and fingerprint, not by ciphertext', () => {
    const a = row('enc:v1:0000aaaa:1111222233334444:AAAAAAAAAAAAAAAA:xxxxxxxxxxxxxxxxxxxxxx', 1, {
      encrypted: true,
    });
    const b = {
      ...a,
      value: 'enc:v1:0000aaaa:1111222233334444:BBBBBBBBBBBBBBBB:yyyyyyyyyyyyyyyyyyyyyy',
    };
    const c = {
      ...a,
      value: 'enc:v1:0000aaaa:9999222233334444:BBBBBBBBBBBBBBBB:yyyyyyyyyyyyyyyyyyyyyy',
    };
    expect(sameValue(a, b)).toBe(true);
    expect(sameValue(a, c)).toBe(false);
    expect(liveToken(a)).toBe(liveToken({ ...b, version: 1 }));
  });
});

describe('directory rows', () => {
  const t = { id: 'new', name: 'New Site', tenantType: 'clinic' };

  it('creates, updates, skips and conflicts by content', () => {
    const items = planDirectory({
      changes: [
        { id: 'd1', kind: 'tenant', ref: 'new', mine: t, before: null },
        {
          id: 'd2',
          kind: 'tenant',
          ref: 'old',
          mine: { ...t, id: 'old' },
          before: { ...t, id: 'old', name: 'Old' },
        },
        { id: 'd3', kind: 'tenant', ref: 'same', mine: { ...t, id: 'same' }, before: null },
        {
          id: 'd4',
          kind: 'tenant',
          ref: 'moved',
          mine: { ...t, id: 'moved' },
          before: { ...t, id: 'moved', name: 'A' },
        },
      ],
      live: (_k, ref) =>
        ref === 'old'
          ? { ...t, id: 'old', name: 'Old' }
          : ref === 'same'
            ? { ...t, id: 'same' }
            : ref === 'moved'
              ? { ...t, id: 'moved', name: 'B' }
              : null,
      resolution: () => null,
    });
    expect(items.map((i) => i.action)).toEqual(['create', 'update', 'no-op', 'conflict']);
    expect(items.map((i) => i.write)).toEqual(['upsert', 'upsert', null, null]);
  });

  it('settles a directory conflict only against the live row it was resolved on', () => {
    const liveRow = { ...t, name: 'Theirs' };
    const plan = (token: string) =>
      planDirectory({
        changes: [{ id: 'd1', kind: 'tenant', ref: 'new', mine: t, before: null }],
        live: () => liveRow,
        resolution: () => ({ choice: 'mine', liveToken: token }),
      })[0]!;
    expect(plan(directoryToken('tenant', liveRow))).toMatchObject({
      resolution: 'mine',
      write: 'upsert',
    });
    expect(plan(directoryToken('tenant', t))).toMatchObject({ resolution: null, write: null });
  });

  it('compares users with their traits in any order and groups in order', () => {
    const u = {
      id: 'u',
      tenantId: 't',
      department: null,
      groups: ['a', 'b'],
      traits: ['x', 'y'],
      displayName: null,
      email: null,
      dbRole: null,
    };
    expect(canonicalDirectoryRow('user', u)).toBe(
      canonicalDirectoryRow('user', { ...u, traits: ['y', 'x'] }),
    );
    expect(canonicalDirectoryRow('user', u)).not.toBe(
      canonicalDirectoryRow('user', { ...u, groups: ['b', 'a'] }),
    );
  });
});

describe('properties', () => {
  const value = fc.constantFrom('a', 'b', 'c');
  const maybeRow = fc.option(
    fc
      .record({ value, version: fc.integer({ min: 1, max: 4 }) })
      .map((r) => row(r.value, r.version)),
    { nil: null },
  );
  const arb = fc.record({
    base: maybeRow,
    live: maybeRow,
    action: fc.constantFrom<'set' | 'unset'>('set', 'unset'),
    mine: value,
    resolve: fc.constantFrom<'none' | 'mine' | 'theirs' | 'stale'>(
      'none',
      'mine',
      'theirs',
      'stale',
    ),
  });

  it('no-op exactly when production already holds what the draft wants', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const c = change(s.action, s.action === 'set' ? s.mine : null, s.base?.version ?? null);
        const item = planChange(input(s.base, s.live), c);
        const already =
          s.action === 'unset' ? s.live === null : s.live !== null && s.live.value === s.mine;
        expect(item.action === 'no-op').toBe(already);
      }),
    );
  });

  it('writes only against the live version, and never over a moved row unless settled', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const c = change(s.action, s.action === 'set' ? s.mine : null, s.base?.version ?? null);
        const resolution: PlanResolution | null =
          s.resolve === 'none'
            ? null
            : {
                choice: s.resolve === 'theirs' ? 'theirs' : 'mine',
                liveToken: s.resolve === 'stale' ? 'v999:00000000' : liveToken(s.live),
              };
        const item = planChange(input(s.base, s.live, { resolution }), c);
        if (item.write !== null) {
          expect(item.expectedVersion).toBe(s.live?.version ?? null);
          const moved =
            (s.live?.version ?? null) !== (s.base?.version ?? null) ||
            (s.live !== null && s.base !== null && s.live.value !== s.base.value);
          if (moved) expect(item.resolution).toBe('mine');
        }
        if (item.action === 'conflict' && item.resolution === null) expect(item.write).toBeNull();
        if (item.resolution === 'theirs') expect(item.write).toBeNull();
        if (item.write === 'insert') expect(s.live).toBeNull();
        if (item.write === 'update' || item.write === 'delete') expect(s.live).not.toBeNull();
      }),
    );
  });
});
