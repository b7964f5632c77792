import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  diffTemplateChanges,
  displayDiffItem,
  parseTemplate,
  renderTemplate,
  SECRET_MASK,
  toChange,
  upgradeChanges,
} from '../../src-main/core/templates/index.js';
import type {
  StoredValue,
  TemplateChange,
  TemplateDefinition,
  TemplateUpgradeChange,
} from '../../src-main/core/templates/index.js';
import type { Slot } from '../../src-main/core/types.js';
import { loadBuiltinTemplatesSync } from '../../src-main/services/template-files.js';

const gmail = loadBuiltinTemplatesSync().find((d) => d.name === 'gmail-smtp')!;
const target = { level: 'tenant' as const, scope: 'st-marys' };
const vars = { EMAIL_USER: 'frontdesk@gmail.com', EMAIL_PASS: 'abcdefghijklmnop' };

function rendered(def: TemplateDefinition, v: Record<string, string>): TemplateChange[] {
  const r = renderTemplate(def, v, target);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.changes;
}

// Stored state of one scope: key -> value/type/lock.
type State = Map<string, StoredValue>;
function stateOf(changes: readonly TemplateChange[], extra: Record<string, string> = {}): State {
  const s: State = new Map();
  for (const [k, v] of Object.entries(extra))
    s.set(k, { value: v, valueType: 'string', locked: false });
  for (const c of changes)
    s.set(c.key, { value: c.value, valueType: c.valueType, locked: c.locked });
  return s;
}
function apply(state: State, changes: readonly TemplateUpgradeChange[]): State {
  const s = new Map(state);
  for (const c of changes) {
    if (c.action === 'unset') s.delete(c.key);
    else s.set(c.key, { value: c.value!, valueType: c.valueType, locked: c.locked });
  }
  return s;
}

describe('diffTemplateChanges', () => {
  it('classifies create, update, unchanged and redundant', () => {
    const changes = rendered(gmail, vars);
    const stored: Record<string, StoredValue> = {
      'smtp.host': { value: 'smtp.gmail.com', valueType: 'string', locked: false },
      'smtp.port': { value: '25', valueType: 'number', locked: false },
      'smtp.auth_pass': { value: 'oldpassword12345', valueType: 'string', locked: false },
    };
    const inherited: Record<string, string> = {
      'smtp.secure': 'false',
      'smtp.auth_user': 'x@gmail.com',
    };
    const items = diffTemplateChanges(
      changes,
      (slot: Slot) => stored[slot.key],
      (slot: Slot) => inherited[slot.key] ?? null,
    );
    expect(items.map((i) => [i.key, i.action])).toEqual([
      ['smtp.host', 'unchanged'],
      ['smtp.port', 'update'],
      ['smtp.secure', 'redundant'],
      ['smtp.auth_user', 'create'],
      ['smtp.auth_pass', 'update'],
    ]);
    expect(items[1]).toMatchObject({ currentValue: '25', value: '587', inheritedValue: null });
    const pass = displayDiffItem(items[4]!);
    expect([pass.value, pass.currentValue]).toEqual([SECRET_MASK, SECRET_MASK]);
    expect(displayDiffItem(items[1]!)).toBe(items[1]);
  });

  it('counts a lock or type difference as an update, and a locked equal value as a create', () => {
    const [change] = rendered(gmail, vars);
    const lockedChange = { ...change!, locked: true };
    const cur = { value: change!.value, valueType: change!.valueType, locked: true };
    expect(
      diffTemplateChanges(
        [change!],
        () => cur,
        () => null,
      )[0]!.action,
    ).toBe('update');
    expect(
      diffTemplateChanges(
        [change!],
        () => ({ ...cur, locked: false, valueType: 'json' }),
        () => null,
      )[0]!.action,
    ).toBe('update');
    expect(
      diffTemplateChanges(
        [lockedChange],
        () => undefined,
        () => change!.value,
      )[0]!.action,
    ).toBe('create');
  });
});

describe('upgradeChanges', () => {
  const { 'smtp.auth_user': _dropped, ...kept } = structuredClone(gmail.configs);
  const v2 = parseTemplate({
    ...structuredClone(gmail),
    version: 2,
    configs: {
      ...kept,
      'smtp.port': { value: '465' },
      'smtp.secure': { value: 'true' },
      'smtp.from_name': { value: '{{FROM_NAME}}' },
      'smtp.reply_to': { value: '{{EMAIL_USER}}' },
    },
    variables: [
      ...structuredClone(gmail.variables),
      { name: 'FROM_NAME', description: 'Sender name', required: false, default: 'St Mary' },
    ],
    metadata: gmail.metadata!.filter((m) => m.key !== 'smtp.auth_user'),
  });

  it('yields exactly the difference between v1 and v2 and leaves other keys alone', () => {
    const r = upgradeChanges(gmail, v2, vars, target);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.changes.map((c) => [c.action, c.key, c.value])).toEqual([
      ['set', 'smtp.port', '465'],
      ['set', 'smtp.secure', 'true'],
      ['set', 'smtp.from_name', 'St Mary'],
      ['set', 'smtp.reply_to', 'frontdesk@gmail.com'],
      ['unset', 'smtp.auth_user', null],
    ]);
    const before = stateOf(rendered(gmail, vars), { 'ui.theme': 'medical' });
    expect(apply(before, r.changes)).toEqual(
      stateOf(rendered(v2, vars), { 'ui.theme': 'medical' }),
    );
  });

  it('does not ask again for a secret whose key the upgrade leaves alone', () => {
    const r = upgradeChanges(gmail, v2, { EMAIL_USER: vars.EMAIL_USER }, target);
    expect(r.ok && r.changes.map((c) => c.key)).toEqual([
      'smtp.port',
      'smtp.secure',
      'smtp.from_name',
      'smtp.reply_to',
      'smtp.auth_user',
    ]);
  });

  it('asks for the secret when its key changes, and validates it against the new version', () => {
    const v3 = parseTemplate({
      ...structuredClone(v2),
      version: 3,
      configs: {
        ...structuredClone(v2.configs),
        'smtp.auth_pass': { value: '{{EMAIL_PASS}}', locked: true },
      },
    });
    expect(upgradeChanges(v2, v3, { EMAIL_USER: vars.EMAIL_USER }, target)).toEqual({
      ok: false,
      errors: [
        {
          variable: 'EMAIL_PASS',
          message: 'EMAIL_PASS is required (Gmail App Password (16 characters, no spaces)).',
        },
      ],
    });
    const bad = upgradeChanges(v2, v3, { EMAIL_PASS: 'tooshort-secret' }, target);
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).not.toContain('tooshort-secret');
    const ok = upgradeChanges(v2, v3, vars, target);
    expect(ok.ok && ok.changes).toEqual([
      { action: 'set', ...rendered(v3, vars).find((c) => c.key === 'smtp.auth_pass')! },
    ]);
    expect(ok.ok && ok.changes[0]!.secret).toBe(true);
  });

  it('refuses other templates, unknown variables and wrong levels', () => {
    const other = parseTemplate({ ...structuredClone(v2), name: 'other' });
    expect(upgradeChanges(gmail, other, vars, target)).toMatchObject({
      ok: false,
      errors: [
        {
          variable: '',
          message: 'Cannot upgrade template "gmail-smtp" to a different template ("other").',
        },
      ],
    });
    expect(upgradeChanges(gmail, v2, { ...vars, NOPE: 'x' }, target)).toMatchObject({
      ok: false,
      errors: [{ variable: 'NOPE' }],
    });
    expect(upgradeChanges(gmail, v2, vars, { level: 'user', scope: 'u1' }).ok).toBe(false);
  });

  it('converts to core changes', () => {
    const r = upgradeChanges(gmail, v2, vars, target);
    const changes = r.ok ? r.changes.map((c) => toChange(c, 'upgrade gmail-smtp to v2')) : [];
    expect(changes.at(-1)).toEqual({
      level: 'tenant',
      scope: 'st-marys',
      key: 'smtp.auth_user',
      action: 'unset',
      value: null,
      valueType: 'string',
      locked: false,
      reason: 'upgrade gmail-smtp to v2',
    });
    expect(changes[0]!.action).toBe('set');
  });

  // Random pairs of versions over a small key pool: applying the upgrade to a scope rendered from
  // the old version must give exactly the new rendering, and no change may be a no-op.
  it('moves any rendered scope to the new rendering with no redundant change', () => {
    const KEYS = ['a.one', 'a.two', 'a.three', 'a.four'];
    const valueArb = fc.constantFrom('x', 'y', '{{A}}', 'p-{{B}}', '{{A}}{{B}}');
    const versionArb = fc.record({
      configs: fc.dictionary(
        fc.constantFrom(...KEYS),
        fc.record({ value: valueArb, locked: fc.boolean() }),
      ),
      defaultA: fc.constantFrom(undefined, 'd1', 'd2'),
      defaultB: fc.constantFrom(undefined, 'e1'),
    });
    type Version = {
      configs: Record<string, { value: string; locked: boolean }>;
      defaultA: string | undefined;
      defaultB: string | undefined;
    };
    const build = (version: number, v: Version) => {
      const used = Object.values(v.configs)
        .map((c) => c.value)
        .join('');
      const variables = [];
      if (used.includes('{{A}}'))
        variables.push({
          name: 'A',
          description: 'a',
          required: true,
          ...(v.defaultA ? { default: v.defaultA } : {}),
        });
      if (used.includes('{{B}}'))
        variables.push({
          name: 'B',
          description: 'b',
          required: false,
          ...(v.defaultB ? { default: v.defaultB } : {}),
        });
      return parseTemplate({
        name: 't',
        description: '',
        version,
        targetLevel: 'tenant',
        kind: 'custom',
        configs: v.configs,
        variables,
        instructions: [],
      });
    };
    fc.assert(
      fc.property(
        versionArb,
        versionArb,
        fc.constantFrom(undefined, 'va'),
        fc.constantFrom(undefined, 'vb'),
        (o, n, a, b) => {
          const oldDef = build(1, o);
          const newDef = build(2, n);
          const v: Record<string, string> = {};
          const declared = (n: string) =>
            [oldDef, newDef].some((d) => d.variables.some((x) => x.name === n));
          if (a !== undefined && declared('A')) v.A = a;
          if (b !== undefined && declared('B')) v.B = b;
          const forOld = Object.fromEntries(
            Object.entries(v).filter(([k]) => oldDef.variables.some((x) => x.name === k)),
          );
          const forNew = Object.fromEntries(
            Object.entries(v).filter(([k]) => newDef.variables.some((x) => x.name === k)),
          );
          const oldR = renderTemplate(oldDef, forOld, target);
          const newR = renderTemplate(newDef, forNew, target);
          fc.pre(oldR.ok && newR.ok);
          if (!oldR.ok || !newR.ok) return;
          const up = upgradeChanges(oldDef, newDef, v, target);
          expect(up.ok).toBe(true);
          if (!up.ok) return;
          const before = stateOf(oldR.changes, { 'z.foreign': 'keep' });
          expect(apply(before, up.changes)).toEqual(stateOf(newR.changes, { 'z.foreign': 'keep' }));
          for (const c of up.changes) {
            const prev = before.get(c.key);
            if (c.action === 'unset') expect(prev).toBeDefined();
            else
              expect(prev).not.toEqual({
                value: c.value,
                valueType: c.valueType,
                locked: c.locked,
              });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
