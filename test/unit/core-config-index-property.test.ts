/**
 * Property tests: the index against a deliberately naive reference resolver that loops over a
 * flat list of entries, for random directories, entries, locks, metadata, legacy maps and
 * contexts, including after random sequences of writes interleaved with reads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigIndex } from '../../src-main/core/config-index.js';
import type { RawEffective, RawLink, RawResolution } from '../../src-main/core/config-index.js';
import type {
  ConfigEntry,
  Directory,
  KeyMetadata,
  Level,
  SourceLevel,
  UserContext,
} from '../../src-main/core/types.js';

const TENANTS = ['t1', 't2'];
const DEPARTMENTS = ['d1', 'd2'];
const GROUPS = ['g1', 'g2', 'g3', 'g4'];
const USERS = ['u1', 'u2', 'u3'];
const KEYS = ['a', 'a.b', 'a.c', 'b', 'fax_backend', 'z.y.x'];
const VALUES = ['', '0', 'false', 'true', 'x', 'y'];

// ---------- the naive reference ----------

interface World {
  entries: ConfigEntry[];
  metadata: KeyMetadata[];
  legacy: Map<string, string> | null;
}

function findEntry(w: World, level: Level, scope: string, key: string): ConfigEntry | null {
  let found: ConfigEntry | null = null;
  for (const e of w.entries) {
    if (e.level === level && e.scope === scope && e.key === key) found = e;
  }
  return found;
}

function findMeta(w: World, key: string): KeyMetadata | null {
  let found: KeyMetadata | null = null;
  for (const m of w.metadata) if (m.key === key) found = m;
  return found;
}

function naiveLinks(
  ctx: UserContext,
  legacyAttached: boolean,
): { level: SourceLevel; scope: string }[] {
  const out: { level: SourceLevel; scope: string }[] = [];
  if (legacyAttached) out.push({ level: 'env_legacy', scope: '' });
  out.push({ level: 'global', scope: '' });
  if (ctx.tenantId !== null) {
    out.push({ level: 'tenant', scope: ctx.tenantId });
    if (ctx.department !== null) {
      out.push({ level: 'department', scope: ctx.tenantId + '/' + ctx.department });
    }
  }
  const groups: string[] = [];
  for (const g of ctx.groups) if (!groups.includes(g)) groups.push(g);
  for (let i = groups.length - 1; i >= 0; i--) out.push({ level: 'group', scope: groups[i]! });
  if (ctx.userId !== null) out.push({ level: 'user', scope: ctx.userId });
  return out;
}

function naiveResolve(w: World, key: string, ctx: UserContext): RawResolution {
  const chain: RawLink[] = [];
  for (const l of naiveLinks(ctx, w.legacy !== null)) {
    if (l.level === 'env_legacy') {
      const v = w.legacy!.has(key) ? w.legacy!.get(key)! : null;
      chain.push({
        level: l.level,
        scope: '',
        entry: null,
        value: v,
        winner: false,
        shadowed: false,
      });
    } else {
      const e = findEntry(w, l.level as Level, l.scope, key);
      chain.push({
        level: l.level,
        scope: l.scope,
        entry: e,
        value: e ? e.value : null,
        winner: false,
        shadowed: false,
      });
    }
  }
  let winner: RawLink | null = null;
  for (const link of chain) {
    if (link.value === null) continue;
    winner = link;
    if (link.entry && link.entry.locked) break;
  }
  for (const link of chain) {
    if (link.value === null) continue;
    if (link === winner) link.winner = true;
    else link.shadowed = true;
  }
  const m = findMeta(w, key);
  if (winner && winner.entry) {
    const e = winner.entry;
    return {
      key,
      level: winner.level,
      scope: winner.scope,
      value: e.value,
      valueType: e.valueType,
      encrypted: e.encrypted,
      locked: e.locked,
      entry: e,
      chain,
    };
  }
  if (winner) {
    return {
      key,
      level: 'env_legacy',
      scope: '',
      value: winner.value,
      valueType: m ? m.valueType : 'string',
      encrypted: false,
      locked: false,
      entry: null,
      chain,
    };
  }
  return {
    key,
    level: 'default',
    scope: '',
    value: m ? m.defaultValue : null,
    valueType: m ? m.valueType : 'string',
    encrypted: false,
    locked: false,
    entry: null,
    chain,
  };
}

function naiveEffective(w: World, ctx: UserContext): RawEffective[] {
  const keys: string[] = [];
  const links = naiveLinks(ctx, false);
  for (const e of w.entries) {
    for (const l of links) {
      if (e.level === l.level && e.scope === l.scope && !keys.includes(e.key)) keys.push(e.key);
    }
  }
  for (const m of w.metadata) {
    if (findMeta(w, m.key)!.defaultValue !== null && !keys.includes(m.key)) keys.push(m.key);
  }
  if (w.legacy) for (const k of w.legacy.keys()) if (!keys.includes(k)) keys.push(k);
  keys.sort();
  return keys.map((k) => {
    const { chain: _chain, ...rest } = naiveResolve(w, k, ctx);
    return rest;
  });
}

// ---------- generators ----------

const levelScope: fc.Arbitrary<{ level: Level; scope: string }> = fc.oneof(
  fc.constant({ level: 'global' as Level, scope: '' }),
  fc.constantFrom(...TENANTS).map((t) => ({ level: 'tenant' as Level, scope: t })),
  fc
    .tuple(fc.constantFrom(...TENANTS), fc.constantFrom(...DEPARTMENTS))
    .map(([t, d]) => ({ level: 'department' as Level, scope: `${t}/${d}` })),
  fc.constantFrom(...GROUPS).map((g) => ({ level: 'group' as Level, scope: g })),
  fc.constantFrom(...USERS).map((u) => ({ level: 'user' as Level, scope: u })),
);

let versionCounter = 0;
const entryArb: fc.Arbitrary<ConfigEntry> = fc
  .record({
    at: levelScope,
    key: fc.constantFrom(...KEYS),
    value: fc.constantFrom(...VALUES),
    valueType: fc.constantFrom('string' as const, 'boolean' as const),
    encrypted: fc.boolean(),
    // Locks one time in four: enough to meet several per chain without drowning the rest.
    locked: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  })
  .map((r) => ({
    level: r.at.level,
    scope: r.at.scope,
    key: r.key,
    value: r.value,
    valueType: r.valueType,
    encrypted: r.encrypted,
    locked: r.locked,
    version: ++versionCounter,
    updatedAt: '2025-01-01T00:00:00.000Z',
    updatedBy: null,
  }));

const metaArb: fc.Arbitrary<KeyMetadata> = fc
  .record({
    key: fc.constantFrom(...KEYS, 'meta.only'),
    defaultValue: fc.option(fc.constantFrom(...VALUES), { nil: null }),
    valueType: fc.constantFrom('string' as const, 'number' as const, 'json' as const),
  })
  .map((r) => ({
    key: r.key,
    category: 'c',
    displayName: r.key,
    description: null,
    inputType: 'text',
    valueType: r.valueType,
    validationRules: {},
    defaultValue: r.defaultValue,
    isRequired: false,
    sortOrder: 0,
    groupName: null,
    helpText: null,
  }));

const legacyArb: fc.Arbitrary<Map<string, string> | null> = fc.option(
  fc
    .array(fc.tuple(fc.constantFrom(...KEYS, 'LEGACY_ONLY'), fc.constantFrom(...VALUES)), {
      maxLength: 4,
    })
    .map((pairs) => new Map(pairs)),
  { nil: null },
);

const userArb = (id: string) =>
  fc
    .record({
      tenant: fc.option(fc.constantFrom(...TENANTS), { nil: null }),
      department: fc.option(fc.constantFrom(...DEPARTMENTS), { nil: null }),
      groups: fc.uniqueArray(fc.constantFrom(...GROUPS), { maxLength: 4 }),
    })
    .map((r) => ({
      id,
      tenantId: r.tenant,
      department: r.tenant === null ? null : r.department,
      groups: r.groups,
      traits: [],
      displayName: null,
      email: null,
      dbRole: null,
    }));

const directoryArb: fc.Arbitrary<Directory> = fc
  .tuple(...USERS.map((u) => userArb(u)))
  .map((users) => ({
    tenants: TENANTS.map((id) => ({ id, name: id, tenantType: null })),
    departments: TENANTS.flatMap((t) => DEPARTMENTS.map((id) => ({ tenantId: t, id, name: id }))),
    groups: GROUPS.map((id) => ({ id, tenantId: 't1', department: null, name: id })),
    users,
  }));

// Ad-hoc contexts, including repeated groups, groups without users and unknown ids.
const adHocArb: fc.Arbitrary<UserContext> = fc.record({
  userId: fc.option(fc.constantFrom(...USERS, 'ghost'), { nil: null }),
  tenantId: fc.option(fc.constantFrom(...TENANTS, 'tx'), { nil: null }),
  department: fc.option(fc.constantFrom(...DEPARTMENTS), { nil: null }),
  groups: fc.array(fc.constantFrom(...GROUPS, 'gx'), { maxLength: 5 }),
});

function contextsFor(index: ConfigIndex, adHoc: UserContext[]): UserContext[] {
  return [...USERS.map((u) => index.userContext(u)), ...adHoc];
}

function check(index: ConfigIndex, w: World, contexts: UserContext[]): void {
  for (const ctx of contexts) {
    const expected = naiveEffective(w, ctx);
    expect(index.effective(ctx)).toEqual(expected);
    for (const key of [...KEYS, 'meta.only', 'LEGACY_ONLY', 'never.set']) {
      expect(index.resolve(key, ctx)).toEqual(naiveResolve(w, key, ctx));
    }
  }
}

function applyUpsert(w: World, e: ConfigEntry): void {
  w.entries = w.entries.filter(
    (x) => !(x.level === e.level && x.scope === e.scope && x.key === e.key),
  );
  w.entries.push(e);
}

type Op =
  | { kind: 'upsert'; entry: ConfigEntry }
  | { kind: 'remove'; at: { level: Level; scope: string }; key: string }
  | { kind: 'meta'; meta: KeyMetadata }
  | { kind: 'legacy'; legacy: Map<string, string> | null }
  | { kind: 'read'; ctx: UserContext };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: entryArb.map((entry) => ({ kind: 'upsert' as const, entry })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ at: levelScope, key: fc.constantFrom(...KEYS) })
      .map((r) => ({ kind: 'remove' as const, ...r })),
  },
  { weight: 1, arbitrary: metaArb.map((meta) => ({ kind: 'meta' as const, meta })) },
  { weight: 1, arbitrary: legacyArb.map((legacy) => ({ kind: 'legacy' as const, legacy })) },
  { weight: 3, arbitrary: adHocArb.map((ctx) => ({ kind: 'read' as const, ctx })) },
);

describe('ConfigIndex matches a naive resolver', () => {
  it('for random worlds and contexts', () => {
    fc.assert(
      fc.property(
        directoryArb,
        fc.array(entryArb, { maxLength: 40 }),
        fc.array(metaArb, { maxLength: 4 }),
        legacyArb,
        fc.array(adHocArb, { maxLength: 4 }),
        (directory, entries, metadata, legacy, adHoc) => {
          const w: World = { entries: [], metadata, legacy };
          for (const e of entries) applyUpsert(w, e);
          const index = ConfigIndex.build({ entries, directory, metadata, legacy });
          expect(index.entryCount()).toBe(w.entries.length);
          check(index, w, contextsFor(index, adHoc));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('after random sequences of writes interleaved with reads', () => {
    fc.assert(
      fc.property(
        directoryArb,
        fc.array(entryArb, { maxLength: 20 }),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(adHocArb, { maxLength: 3 }),
        (directory, initial, ops, adHoc) => {
          const w: World = { entries: [], metadata: [], legacy: null };
          for (const e of initial) applyUpsert(w, e);
          const index = ConfigIndex.build({ entries: initial, directory, metadata: [] });
          for (const op of ops) {
            switch (op.kind) {
              case 'upsert':
                index.upsert(op.entry);
                applyUpsert(w, op.entry);
                break;
              case 'remove':
                index.remove({ ...op.at, key: op.key });
                w.entries = w.entries.filter(
                  (x) => !(x.level === op.at.level && x.scope === op.at.scope && x.key === op.key),
                );
                break;
              case 'meta':
                index.setMetadata(op.meta);
                w.metadata = [...w.metadata.filter((m) => m.key !== op.meta.key), op.meta];
                break;
              case 'legacy':
                index.setLegacy(op.legacy);
                w.legacy = op.legacy === null ? null : new Map(op.legacy);
                break;
              case 'read':
                // Reads warm the cached layers, so later writes must invalidate them correctly.
                expect(index.effective(op.ctx)).toEqual(naiveEffective(w, op.ctx));
                index.effective(index.userContext(USERS[0]!));
                break;
            }
          }
          const contexts = contextsFor(index, adHoc);
          check(index, w, contexts);
          expect(index.entryCount()).toBe(w.entries.length);
          const fresh = ConfigIndex.build({
            entries: index.allEntries(),
            directory,
            metadata: w.metadata,
            legacy: w.legacy,
          });
          for (const ctx of contexts) expect(index.effective(ctx)).toEqual(fresh.effective(ctx));
          expect(index.keys()).toEqual(fresh.keys());
          const expectedKeys = [
            ...new Set([...w.entries.map((e) => e.key), ...w.metadata.map((m) => m.key)]),
          ].sort();
          expect(index.keys()).toEqual(expectedKeys);
        },
      ),
      { numRuns: 300 },
    );
  });
});
