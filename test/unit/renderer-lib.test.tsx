// @vitest-environment jsdom
/**
 * Pure pieces of the console: form helpers, the local three-way planner, the tree flattening,
 * the preview join, the palette and the bridge token handling.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Directory, KeyMetadata } from '../../src-main/core/types.js';
import type { SlotKeyView } from '../../src-main/contract/contract.js';
import type { EntryView } from '../../src-main/services/types.js';
import { takeBridgeToken } from '../../src-renderer/api/transport.js';
import { controlFor } from '../../src-renderer/components/key-input.js';
import { flattenTree } from '../../src-renderer/components/navigator.js';
import { previewRows } from '../../src-renderer/components/effective-preview.js';
import { slotTitle } from '../../src-renderer/components/level-editor.js';
import {
  checkValue,
  describeSource,
  environmentTone,
  groupByCategory,
  labelFor,
  sectionTitle,
} from '../../src-renderer/lib/forms.js';
import {
  buildLocalPlan,
  confirmationWord,
  itemsToPush,
  settle,
} from '../../src-renderer/lib/plan.js';
import type { LocalChange } from '../../src-renderer/store/types.js';

function meta(key: string, extra: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    key,
    category: key.split('.')[0]!,
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

const dir: Directory = {
  tenants: [
    { id: 't2', name: 'Zeta', tenantType: null },
    { id: 't1', name: 'Alpha', tenantType: null },
  ],
  departments: [{ tenantId: 't1', id: 'd1', name: 'Dept' }],
  groups: [
    { id: 'g1', tenantId: 't1', department: 'd1', name: 'In dept' },
    { id: 'g2', tenantId: 't1', department: null, name: 'Tenant group' },
    { id: 'g3', tenantId: null, department: null, name: 'Orphan' },
  ],
  users: [
    {
      id: 'u1',
      tenantId: 't1',
      department: 'd1',
      groups: ['g1'],
      traits: [],
      displayName: 'Una',
      email: null,
      dbRole: null,
    },
  ],
};

describe('forms', () => {
  it('labels, categories and sections follow metadata', () => {
    expect(labelFor('a.b', meta('a.b', { displayName: 'Nice' }))).toBe('Nice');
    expect(labelFor('a.b')).toBe('a.b');
    expect(sectionTitle('email_gateway')).toBe('Email Gateway');
    const item = (key: string): SlotKeyView => ({
      key,
      entry: null,
      inherited: null,
      lockedAbove: false,
    });
    const sections = groupByCategory([item('b.x'), item('a.z'), item('a.y'), item('flat')], {
      'a.z': meta('a.z', { sortOrder: 1 }),
      'a.y': meta('a.y', { sortOrder: 2 }),
    });
    expect(sections.map((s) => [s.category, s.items.map((i) => i.key)])).toEqual([
      ['a', ['a.z', 'a.y']],
      ['b', ['b.x']],
      ['general', ['flat']],
    ]);
  });

  it('validates with the core rules and masks secrets in messages', () => {
    const port = meta('smtp.port', {
      valueType: 'number',
      validationRules: { min: 1, max: 65535 },
    });
    expect(checkValue('smtp.port', '25', 'number', port)).toBeNull();
    expect(checkValue('smtp.port', '70000', 'number', port)).toMatch(/smtp\.port.*70000.*max/);
    const pass = meta('smtp.auth_pass', {
      inputType: 'password',
      validationRules: { minLength: 8 },
    });
    const message = checkValue('smtp.auth_pass', 'short1', 'string', pass);
    expect(message).toMatch(/minLength/);
    expect(message).not.toContain('short1');
  });

  it('picks controls from metadata and value types', () => {
    expect(
      controlFor(
        meta('a', { inputType: 'select', validationRules: { options: ['x'] } }),
        'string',
        false,
      ),
    ).toBe('select');
    expect(controlFor(meta('a', { inputType: 'select' }), 'string', false)).toBe('text');
    expect(controlFor(meta('a.token'), 'string', true)).toBe('password');
    expect(controlFor(undefined, 'boolean', false)).toBe('checkbox');
    expect(controlFor(undefined, 'json', false)).toBe('textarea');
    expect(controlFor(undefined, 'string', true)).toBe('password');
  });

  it('maps environments to banner tones', () => {
    expect(environmentTone('production')).toBe('production');
    expect(environmentTone('PROD-EU')).toBe('production');
    expect(environmentTone('staging')).toBe('staging');
    expect(environmentTone('development')).toBe('development');
    expect(environmentTone(null)).toBe('unlabelled');
    expect(environmentTone('')).toBe('unlabelled');
    expect(environmentTone('live')).toBe('production');
    expect(environmentTone('UAT')).toBe('staging');
    // A label the rule does not know is shown, as a label, in the development tone.
    expect(environmentTone('clinical-qa')).toBe('development');
    expect(describeSource('env_legacy', '')).toBe('Legacy .env');
    expect(describeSource('department', 't/d')).toBe('Department t/d');
  });
});

describe('local plans', () => {
  const change = (over: Partial<LocalChange>): LocalChange => ({
    id: 'c',
    level: 'tenant',
    scope: 't1',
    key: 'k',
    action: 'set',
    value: 'new',
    valueType: 'string',
    secret: false,
    reason: 'why',
    baseValue: 'old',
    baseVersion: 3,
    stagedAt: 'now',
    ...over,
  });
  const entry = (value: string, version: number): EntryView => ({
    level: 'tenant',
    scope: 't1',
    key: 'k',
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    version,
    updatedAt: 'x',
    updatedBy: null,
    staged: false,
  });
  const target = { target: 'postgres://h/db', environment: 'staging' };

  it('classifies create, update, delete, unchanged and conflict', () => {
    const plan = buildLocalPlan(
      'p',
      [
        change({ id: 'create', baseValue: null, baseVersion: null }),
        change({ id: 'update' }),
        change({ id: 'delete', action: 'unset', value: null }),
        change({ id: 'same', value: 'old' }),
        change({ id: 'conflict' }),
      ],
      (c) =>
        c.id === 'create' ? undefined : c.id === 'conflict' ? entry('theirs', 4) : entry('old', 3),
      target,
      'now',
    );
    expect(plan.items.map((i) => [i.id, i.status])).toEqual([
      ['create', 'create'],
      ['update', 'update'],
      ['delete', 'delete'],
      ['same', 'unchanged'],
      ['conflict', 'conflict'],
    ]);
    expect(plan.summary).toEqual({ create: 1, update: 1, delete: 1, conflicts: 1, unresolved: 1 });
    expect(confirmationWord(plan)).toBe('staging');
    const theirs = settle(plan, 'conflict', 'theirs');
    expect(theirs.summary.unresolved).toBe(0);
    expect(itemsToPush(theirs).map((i) => i.id)).toEqual(['create', 'update', 'delete']);
    const edited = settle(plan, 'conflict', 'edit', 'merged');
    expect(edited.items.find((i) => i.id === 'conflict')).toMatchObject({
      mine: 'merged',
      resolution: 'edit',
    });
    expect(itemsToPush(edited).map((i) => i.id)).toContain('conflict');
  });

  it('never carries secret plaintext (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (tail, exists) => {
        const secret = `SECRET_${tail}`;
        const plan = buildLocalPlan(
          'p',
          [
            change({
              key: 'providers.x.api_key',
              value: secret,
              secret: true,
              baseValue: exists ? 'enc:v1:a' : null,
            }),
          ],
          () => (exists ? entry('••••••••', 3) : undefined),
          target,
          'now',
        );
        const edited = settle(plan, 'c', 'edit', secret);
        expect(JSON.stringify(plan)).not.toContain(JSON.stringify(secret).slice(1, -1));
        expect(JSON.stringify(edited)).not.toContain(JSON.stringify(secret).slice(1, -1));
      }),
    );
  });
});

describe('navigator tree', () => {
  it('orders tenants by name and nests departments and groups', () => {
    const rows = flattenTree(dir, {});
    expect(rows.map((r) => `${'-'.repeat(r.depth)}${r.label}`)).toEqual([
      'Global',
      '-Alpha',
      '--Dept',
      '---In dept',
      '--Tenant group',
      '-Zeta',
    ]);
    expect(rows.find((r) => r.label === 'Dept')?.scope).toBe('t1/d1');
  });

  it('hides the children of collapsed nodes', () => {
    expect(flattenTree(dir, { 'tenant:t1': true }).map((r) => r.label)).toEqual([
      'Global',
      'Alpha',
      'Zeta',
    ]);
    expect(flattenTree(dir, { global: true }).map((r) => r.label)).toEqual(['Global']);
  });

  it('titles slots with their directory names', () => {
    expect(slotTitle('department', 't1/d1', dir)).toBe('Department Dept (t1/d1)');
    expect(slotTitle('user', 'u1', dir)).toBe('User Una (u1)');
    expect(slotTitle('group', 'nope', dir)).toBe('Group nope');
    expect(slotTitle('global', '', dir)).toBe('Global');
  });
});

describe('preview rows', () => {
  it('joins two effective configurations and flags differences', () => {
    const a = [
      {
        key: 'x',
        value: '1',
        valueType: 'string' as const,
        level: 'global' as const,
        scope: '',
        encrypted: false,
      },
      {
        key: 'y',
        value: '2',
        valueType: 'string' as const,
        level: 'global' as const,
        scope: '',
        encrypted: false,
      },
    ];
    const b = [{ ...a[0]!, value: '9', level: 'user' as const, scope: 'u' }];
    const rows = previewRows(a, b, '');
    expect(rows.map((r) => [r.key, r.differs])).toEqual([
      ['x', true],
      ['y', true],
    ]);
    expect(previewRows(a, null, 'Y').map((r) => r.key)).toEqual(['y']);
  });
});

describe('bridge token', () => {
  it('takes the token from the fragment, keeps it for reloads and clears the address bar', () => {
    const token = 'A'.repeat(43);
    window.history.replaceState(null, '', `/console?x=1#token=${token}`);
    expect(takeBridgeToken(window)).toBe(token);
    expect(window.location.hash).toBe('');
    expect(window.location.search).toBe('?x=1');
    expect(takeBridgeToken(window)).toBe(token);
    window.sessionStorage.clear();
    window.history.replaceState(null, '', '/#token=short');
    expect(takeBridgeToken(window)).toBeNull();
  });
});
