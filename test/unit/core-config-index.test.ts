import { describe, expect, it } from 'vitest';
import { ConfigIndex } from '../../src-main/core/config-index.js';
import type { RawResolution } from '../../src-main/core/config-index.js';
import { StrataError } from '../../src-main/core/types.js';
import type {
  ConfigEntry,
  Directory,
  KeyMetadata,
  Level,
  UserContext,
} from '../../src-main/core/types.js';

function entry(
  level: Level,
  scope: string,
  key: string,
  value: string,
  extra: Partial<ConfigEntry> = {},
): ConfigEntry {
  return {
    level,
    scope,
    key,
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    version: 1,
    updatedAt: '2025-01-01T00:00:00.000Z',
    updatedBy: null,
    ...extra,
  };
}

function meta(key: string, extra: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    key,
    category: key.includes('.') ? key.slice(0, key.indexOf('.')) : 'general',
    displayName: key,
    description: null,
    inputType: 'text',
    valueType: 'string',
    validationRules: {},
    defaultValue: null,
    isRequired: false,
    sortOrder: 0,
    groupName: null,
    helpText: null,
    ...extra,
  };
}

const directory: Directory = {
  tenants: [{ id: 'mercy_hospital', name: 'Mercy Hospital', tenantType: 'hospital' }],
  departments: [{ tenantId: 'mercy_hospital', id: 'medical', name: 'Medical' }],
  groups: [
    { id: 'doctors', tenantId: 'mercy_hospital', department: 'medical', name: 'Doctors' },
    {
      id: 'emergency_doctors_group',
      tenantId: 'mercy_hospital',
      department: 'medical',
      name: 'Emergency doctors',
    },
  ],
  users: [
    {
      id: 'user123',
      tenantId: 'mercy_hospital',
      department: 'medical',
      groups: ['emergency_doctors_group', 'doctors'],
      traits: [],
      displayName: 'Dr. Who',
      email: null,
      dbRole: null,
    },
    {
      id: 'nurse1',
      tenantId: 'mercy_hospital',
      department: null,
      groups: ['doctors'],
      traits: [],
      displayName: null,
      email: null,
      dbRole: null,
    },
  ],
};

function seedIndex(extra: ConfigEntry[] = []): ConfigIndex {
  return ConfigIndex.build({
    entries: [
      entry('global', '', 'fax_backend', 'phaxio'),
      entry('global', '', 'hipaa_mode', 'false'),
      entry('group', 'emergency_doctors_group', 'fax_backend', 'sip'),
      entry('group', 'emergency_doctors_group', 'priority_processing', 'true'),
      entry('group', 'emergency_doctors_group', 'notification_urgency', 'high'),
      ...extra,
    ],
    directory,
    metadata: [],
  });
}

function links(r: RawResolution): string[] {
  return r.chain.map(
    (l) =>
      `${l.level}:${l.scope}=${l.value ?? '-'}${l.winner ? ' W' : ''}${l.shadowed ? ' S' : ''}`,
  );
}

describe('ConfigIndex: the seed example', () => {
  it('resolves fax_backend to the group override with the chain showing shadowed links', () => {
    const index = seedIndex();
    const r = index.resolve('fax_backend', index.userContext('user123'));
    expect(r.value).toBe('sip');
    expect(r.level).toBe('group');
    expect(r.scope).toBe('emergency_doctors_group');
    expect(r.entry?.value).toBe('sip');
    expect(links(r)).toEqual([
      'global:=phaxio S',
      'tenant:mercy_hospital=-',
      'department:mercy_hospital/medical=-',
      'group:doctors=-',
      'group:emergency_doctors_group=sip W',
      'user:user123=-',
    ]);
  });

  it('effective() lists every relevant key with its source, sorted by key', () => {
    const index = seedIndex();
    const eff = index.effective(index.userContext('user123'));
    expect(eff.map((e) => [e.key, e.value, e.level])).toEqual([
      ['fax_backend', 'sip', 'group'],
      ['hipaa_mode', 'false', 'global'],
      ['notification_urgency', 'high', 'group'],
      ['priority_processing', 'true', 'group'],
    ]);
    const nurse = index.effective(index.userContext('nurse1'));
    expect(nurse.map((e) => [e.key, e.value])).toEqual([
      ['fax_backend', 'phaxio'],
      ['hipaa_mode', 'false'],
    ]);
  });
});

describe('ConfigIndex: overrides', () => {
  it.each(['false', '0', ''])('an explicit %j is an override', (falsy) => {
    const index = seedIndex([
      entry('tenant', 'mercy_hospital', 'hipaa_mode', 'true'),
      entry('user', 'user123', 'hipaa_mode', falsy),
    ]);
    const r = index.resolve('hipaa_mode', index.userContext('user123'));
    expect(r.value).toBe(falsy);
    expect(r.level).toBe('user');
    expect(
      index.effective(index.userContext('user123')).find((e) => e.key === 'hipaa_mode'),
    ).toMatchObject({ value: falsy, level: 'user', scope: 'user123' });
  });

  it('the first group in the user order wins among groups', () => {
    const index = seedIndex([entry('group', 'doctors', 'fax_backend', 'efax')]);
    const ctx = index.userContext('user123');
    expect(ctx.groups).toEqual(['emergency_doctors_group', 'doctors']);
    expect(index.resolve('fax_backend', ctx).scope).toBe('emergency_doctors_group');
    const flipped: UserContext = { ...ctx, groups: ['doctors', 'emergency_doctors_group'] };
    const r = index.resolve('fax_backend', flipped);
    expect(r.value).toBe('efax');
    expect(links(r).filter((l) => l.startsWith('group'))).toEqual([
      'group:emergency_doctors_group=sip S',
      'group:doctors=efax W',
    ]);
  });

  it('department beats tenant and user beats group', () => {
    const index = seedIndex([
      entry('tenant', 'mercy_hospital', 'x', 'tenant'),
      entry('department', 'mercy_hospital/medical', 'x', 'dept'),
      entry('group', 'doctors', 'y', 'group'),
      entry('user', 'user123', 'y', 'user'),
    ]);
    const ctx = index.userContext('user123');
    expect(index.resolve('x', ctx)).toMatchObject({ value: 'dept', level: 'department' });
    expect(index.resolve('y', ctx)).toMatchObject({ value: 'user', level: 'user' });
  });
});

describe('ConfigIndex: ad-hoc contexts', () => {
  const index = seedIndex([
    entry('tenant', 'mercy_hospital', 'k', 'tenant'),
    entry('department', 'mercy_hospital/medical', 'k', 'dept'),
    entry('group', 'doctors', 'k', 'group'),
  ]);

  it('tenant only', () => {
    const ctx: UserContext = {
      userId: null,
      tenantId: 'mercy_hospital',
      department: null,
      groups: [],
    };
    const r = index.resolve('k', ctx);
    expect(r).toMatchObject({ value: 'tenant', level: 'tenant' });
    expect(r.chain.map((l) => l.level)).toEqual(['global', 'tenant']);
  });

  it('tenant and department', () => {
    const ctx: UserContext = {
      userId: null,
      tenantId: 'mercy_hospital',
      department: 'medical',
      groups: [],
    };
    expect(index.resolve('k', ctx)).toMatchObject({
      value: 'dept',
      scope: 'mercy_hospital/medical',
    });
  });

  it('groups without a user', () => {
    const ctx: UserContext = {
      userId: null,
      tenantId: 'mercy_hospital',
      department: null,
      groups: ['doctors'],
    };
    const r = index.resolve('k', ctx);
    expect(r).toMatchObject({ value: 'group', level: 'group', scope: 'doctors' });
    expect(r.chain.map((l) => l.level)).toEqual(['global', 'tenant', 'group']);
    expect(index.effective(ctx).find((e) => e.key === 'k')?.value).toBe('group');
  });

  it('a department without a tenant is ignored', () => {
    const ctx: UserContext = { userId: null, tenantId: null, department: 'medical', groups: [] };
    expect(index.resolve('k', ctx).chain.map((l) => l.level)).toEqual(['global']);
    expect(index.effective(ctx).map((e) => e.key)).toEqual(['fax_backend', 'hipaa_mode']);
  });
});

describe('ConfigIndex: locks', () => {
  it('a locked tenant value cannot be overridden by more specific levels', () => {
    const index = seedIndex([
      entry('tenant', 'mercy_hospital', 'fax_backend', 'phaxio', { locked: true }),
      entry('user', 'user123', 'fax_backend', 'efax'),
    ]);
    const ctx = index.userContext('user123');
    const r = index.resolve('fax_backend', ctx);
    expect(r).toMatchObject({ value: 'phaxio', level: 'tenant', locked: true });
    expect(links(r)).toEqual([
      'global:=phaxio S',
      'tenant:mercy_hospital=phaxio W',
      'department:mercy_hospital/medical=-',
      'group:doctors=-',
      'group:emergency_doctors_group=sip S',
      'user:user123=efax S',
    ]);
    expect(index.effective(ctx).find((e) => e.key === 'fax_backend')).toMatchObject({
      value: 'phaxio',
      level: 'tenant',
      locked: true,
    });
  });

  it('the most general locked link wins when several are locked', () => {
    const index = seedIndex([
      entry('department', 'mercy_hospital/medical', 'k', 'dept', { locked: true }),
      entry('tenant', 'mercy_hospital', 'k', 'tenant', { locked: true }),
      entry('user', 'user123', 'k', 'user', { locked: true }),
    ]);
    const ctx = index.userContext('user123');
    expect(index.resolve('k', ctx)).toMatchObject({ value: 'tenant', level: 'tenant' });
    expect(index.effective(ctx).find((e) => e.key === 'k')?.value).toBe('tenant');
  });

  it('a locked lower-priority group is final over a higher-priority group', () => {
    const index = seedIndex([entry('group', 'doctors', 'fax_backend', 'efax', { locked: true })]);
    const ctx = index.userContext('user123');
    expect(index.resolve('fax_backend', ctx)).toMatchObject({ value: 'efax', scope: 'doctors' });
    expect(index.effective(ctx).find((e) => e.key === 'fax_backend')?.value).toBe('efax');
  });
});

describe('ConfigIndex: legacy and default levels', () => {
  const legacy = new Map([
    ['fax_backend', 'legacy-fax'],
    ['only_legacy', ''],
  ]);
  const metadata = [
    meta('only_default', { defaultValue: '42', valueType: 'number' }),
    meta('only_legacy', { defaultValue: 'dflt' }),
    meta('no_default'),
  ];

  function build(): ConfigIndex {
    return ConfigIndex.build({
      entries: [entry('global', '', 'fax_backend', 'phaxio')],
      directory,
      metadata,
      legacy,
    });
  }

  it('legacy sits below global and above the metadata default', () => {
    const index = build();
    const ctx = index.userContext('nurse1');
    const fax = index.resolve('fax_backend', ctx);
    expect(fax).toMatchObject({ value: 'phaxio', level: 'global' });
    expect(links(fax).slice(0, 2)).toEqual(['env_legacy:=legacy-fax S', 'global:=phaxio W']);
    expect(index.resolve('only_legacy', ctx)).toMatchObject({
      value: '',
      level: 'env_legacy',
      scope: '',
      entry: null,
    });
    const dflt = index.resolve('only_default', ctx);
    expect(dflt).toMatchObject({ value: '42', level: 'default', scope: '', valueType: 'number' });
    expect(dflt.chain.every((l) => !l.winner && !l.shadowed)).toBe(true);
    expect(index.resolve('no_default', ctx)).toMatchObject({ value: null, level: 'default' });
    expect(index.resolve('unknown', ctx)).toMatchObject({
      value: null,
      level: 'default',
      valueType: 'string',
    });
  });

  it('effective() includes legacy keys and metadata keys with defaults', () => {
    const index = build();
    expect(
      index.effective(index.userContext('nurse1')).map((e) => [e.key, e.value, e.level]),
    ).toEqual([
      ['fax_backend', 'phaxio', 'global'],
      ['only_default', '42', 'default'],
      ['only_legacy', '', 'env_legacy'],
    ]);
  });

  it('detaching the legacy map removes the env_legacy link', () => {
    const index = build();
    index.setLegacy(null);
    const ctx = index.userContext('nurse1');
    expect(index.resolve('fax_backend', ctx).chain[0]?.level).toBe('global');
    expect(index.resolve('only_legacy', ctx)).toMatchObject({ value: 'dflt', level: 'default' });
    expect(index.effective(ctx).map((e) => e.key)).toEqual([
      'fax_backend',
      'only_default',
      'only_legacy',
    ]);
  });
});

describe('ConfigIndex: maintenance', () => {
  it('incremental upsert/remove equals a fresh build', () => {
    const index = seedIndex();
    const ctx = index.userContext('user123');
    index.effective(ctx); // warm the cached layers so invalidation is exercised
    const added = [
      entry('global', '', 'new.key', 'g'),
      entry('tenant', 'mercy_hospital', 'fax_backend', 't', { locked: true }),
      entry('department', 'mercy_hospital/medical', 'new.key', 'd'),
      entry('user', 'user123', 'z', 'u'),
    ];
    for (const e of added) {
      index.upsert(e);
      index.effective(ctx);
    }
    index.remove({ level: 'group', scope: 'emergency_doctors_group', key: 'priority_processing' });
    index.upsert(entry('tenant', 'mercy_hospital', 'fax_backend', 't2'));
    const fresh = ConfigIndex.build({ entries: index.allEntries(), directory, metadata: [] });
    expect(index.effective(ctx)).toEqual(fresh.effective(ctx));
    expect(index.resolve('fax_backend', ctx)).toEqual(fresh.resolve('fax_backend', ctx));
    expect(index.resolve('fax_backend', ctx).value).toBe('sip');
    expect(index.entryCount()).toBe(8);
    expect(index.keys()).toEqual(fresh.keys());
    expect(index.keys('new')).toEqual(['new.key']);
  });

  it('get, entriesAt, allEntries and usersInScope', () => {
    const index = seedIndex();
    expect(index.get({ level: 'global', scope: '', key: 'fax_backend' })?.value).toBe('phaxio');
    expect(index.get({ level: 'user', scope: 'nobody', key: 'fax_backend' })).toBeUndefined();
    expect(index.entriesAt('group', 'emergency_doctors_group').map((e) => e.key)).toEqual([
      'fax_backend',
      'notification_urgency',
      'priority_processing',
    ]);
    expect(index.allEntries().map((e) => `${e.level}:${e.key}`)).toEqual([
      'global:fax_backend',
      'global:hipaa_mode',
      'group:fax_backend',
      'group:notification_urgency',
      'group:priority_processing',
    ]);
    expect(index.usersInScope('global', '').map((u) => u.id)).toEqual(['user123', 'nurse1']);
    expect(index.usersInScope('department', 'mercy_hospital/medical').map((u) => u.id)).toEqual([
      'user123',
    ]);
    expect(index.usersInScope('group', 'doctors').map((u) => u.id)).toEqual(['user123', 'nurse1']);
    expect(index.usersInScope('user', 'ghost')).toEqual([]);
  });

  it('metadata is sorted by category, sort order and key', () => {
    const index = ConfigIndex.build({
      entries: [],
      directory,
      metadata: [
        meta('smtp.port', { sortOrder: 2 }),
        meta('smtp.host', { sortOrder: 1 }),
        meta('fax.b', { sortOrder: 0 }),
        meta('fax.a', { sortOrder: 0 }),
      ],
    });
    expect(index.allMetadata().map((m) => m.key)).toEqual([
      'fax.a',
      'fax.b',
      'smtp.host',
      'smtp.port',
    ]);
    index.setMetadata(meta('smtp.auth', { sortOrder: 0, defaultValue: 'x' }));
    expect(index.allMetadata()[2]?.key).toBe('smtp.auth');
    expect(index.keys('smtp.')).toEqual(['smtp.auth', 'smtp.host', 'smtp.port']);
    expect(index.metadata('fax.a')?.key).toBe('fax.a');
  });

  it('userContext of an unknown user is a not_found error', () => {
    const index = seedIndex();
    let caught: unknown;
    try {
      index.userContext('ghost');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StrataError);
    expect((caught as StrataError).code).toBe('not_found');
    expect((caught as StrataError).message).toBe("No user 'ghost' in the directory.");
  });

  it('replaceDirectory updates user lookups', () => {
    const index = seedIndex();
    index.replaceDirectory({ ...directory, users: [] });
    expect(index.user('user123')).toBeUndefined();
    expect(index.usersInScope('group', 'doctors')).toEqual([]);
    expect(() => index.userContext('user123')).toThrow(StrataError);
  });

  it('knows the scopes of its directory, and of a replaced one', () => {
    const index = seedIndex();
    const known: Array<[Level, string]> = [
      ['global', ''],
      ['tenant', 'mercy_hospital'],
      ['department', 'mercy_hospital/medical'],
      ['group', 'doctors'],
      ['user', 'user123'],
    ];
    for (const [level, scope] of known)
      expect([level, index.inDirectory(level, scope)]).toEqual([level, true]);
    // A department is named with its tenant; stored values do not make a scope known.
    expect(index.inDirectory('department', 'medical')).toBe(false);
    expect(index.inDirectory('group', 'mercy_hospital')).toBe(false);
    expect(index.inDirectory('tenant', 'no_such_hospital')).toBe(false);
    index.upsert(entry('tenant', 'ghost_clinic', 'ui.theme', 'dark'));
    expect(index.inDirectory('tenant', 'ghost_clinic')).toBe(false);
    index.replaceDirectory({ ...directory, tenants: [], groups: [], users: [] });
    for (const [level, scope] of known.slice(1)) {
      expect([level, index.inDirectory(level, scope)]).toEqual([level, level === 'department']);
    }
  });

  it('cached items are frozen so a caller cannot corrupt later results', () => {
    const index = seedIndex();
    const ctx = index.userContext('nurse1');
    const first = index.effective(ctx)[0]!;
    expect(() => {
      (first as { value: string | null }).value = 'tampered';
    }).toThrow(TypeError);
    expect(index.effective(ctx)[0]?.value).toBe('phaxio');
  });

  it('refuses an entry with an unknown level', () => {
    const index = seedIndex();
    expect(() => index.upsert(entry('planet' as Level, '', 'k', 'v'))).toThrow(/Unknown level/);
  });
});
