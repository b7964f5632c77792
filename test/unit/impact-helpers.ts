/**
 * Shared fixtures for the impact and lint unit tests: datasets as ConfigIndex inputs and a
 * brute-force reference that resolves every user of the directory with and without a change set.
 */
import { ConfigIndex } from '../../src-main/core/config-index.js';
import type { SlotChange } from '../../src-main/core/impact.js';
import type { ConfigEntry, KeyMetadata } from '../../src-main/core/types.js';
import type { DemoDataset } from '../../src-main/demo/hospital-network.js';

/** A fake v1 envelope with a chosen fingerprint (the core compares fingerprints only). */
export function envelope(fp: string, salt = 'n'): string {
  const hex = [...fp]
    .map((c) => c.charCodeAt(0).toString(16))
    .join('')
    .padEnd(16, '0')
    .slice(0, 16);
  return `enc:v1:0a0b0c0d:${hex}:${salt.padEnd(16, 'x')}:${'c'.repeat(24)}`;
}

/** ConfigEntries of a demo dataset; secrets become fake envelopes keyed by their plaintext. */
export function datasetEntries(ds: DemoDataset): ConfigEntry[] {
  return ds.entries.map((e) => ({
    level: e.level,
    scope: e.scope,
    key: e.key,
    value: e.secret ? envelope(e.value) : e.value,
    valueType: e.valueType,
    encrypted: e.secret,
    locked: e.locked,
    version: 1,
    updatedAt: '2025-01-01T00:00:00.000Z',
    updatedBy: 'test',
  }));
}

/** Builds an index over a dataset. */
export function indexOf(ds: DemoDataset, extra: { metadata?: KeyMetadata[] } = {}): ConfigIndex {
  return ConfigIndex.build({
    entries: datasetEntries(ds),
    directory: ds.directory,
    metadata: extra.metadata ?? ds.metadata,
  });
}

/** A new index equal to `index` with the change set applied (the slow, obviously right way). */
export function applyChanges(index: ConfigIndex, changes: readonly SlotChange[]): ConfigIndex {
  const byslot = new Map<string, ConfigEntry>();
  const id = (s: { level: string; scope: string; key: string }): string =>
    `${s.level}\u0000${s.scope}\u0000${s.key}`;
  for (const e of index.allEntries()) byslot.set(id(e), e);
  for (const c of changes) {
    if (c.action === 'unset') byslot.delete(id(c));
    else
      byslot.set(id(c), {
        level: c.level,
        scope: c.scope,
        key: c.key,
        value: c.value!,
        valueType: c.valueType,
        encrypted: c.encrypted,
        locked: c.locked,
        version: 1,
        updatedAt: '',
        updatedBy: null,
      });
  }
  return ConfigIndex.build({
    entries: [...byslot.values()],
    directory: index.directory(),
    metadata: index.allMetadata(),
    legacy: index.legacyMap(),
  });
}

function fingerprintOr(value: string | null, encrypted: boolean): string | null {
  if (value !== null && encrypted && value.startsWith('enc:v1:'))
    return `fp:${value.split(':')[3]}`;
  return value;
}

/** Per key: the ids of users whose resolved value differs between the two indexes. */
export function bruteForceImpact(
  beforeIdx: ConfigIndex,
  afterIdx: ConfigIndex,
  keys: readonly string[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const key of keys) {
    const ids: string[] = [];
    for (const u of beforeIdx.directory().users) {
      const ctx = beforeIdx.userContext(u.id);
      const b = beforeIdx.resolve(key, ctx);
      const a = afterIdx.resolve(key, ctx);
      const same =
        b.valueType === a.valueType &&
        b.encrypted === a.encrypted &&
        fingerprintOr(b.value, b.encrypted) === fingerprintOr(a.value, a.encrypted);
      if (!same) ids.push(u.id);
    }
    out.set(key, ids.sort());
  }
  return out;
}

/** A set change in stored form. */
export function set(
  level: SlotChange['level'],
  scope: string,
  key: string,
  value: string,
  extra: Partial<SlotChange> = {},
): SlotChange {
  return {
    level,
    scope,
    key,
    action: 'set',
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    ...extra,
  };
}

/** An unset change. */
export function unset(level: SlotChange['level'], scope: string, key: string): SlotChange {
  return {
    level,
    scope,
    key,
    action: 'unset',
    value: null,
    valueType: 'string',
    encrypted: false,
    locked: false,
  };
}
