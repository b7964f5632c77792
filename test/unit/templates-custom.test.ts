import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseTemplate,
  renderTemplate,
  templateFromOverrides,
} from '../../src-main/core/templates/index.js';
import type { OverrideEntry } from '../../src-main/core/templates/index.js';
import type { KeyMetadata } from '../../src-main/core/types.js';
import { StrataError, VALUE_TYPES } from '../../src-main/core/types.js';

const entries: OverrideEntry[] = [
  { key: 'smtp.host', value: 'smtp.example.org', valueType: 'string', secret: false },
  { key: 'smtp.port', value: '587', valueType: 'number', secret: false, locked: true },
  { key: 'smtp.auth_pass', value: 'hunter2-hunter2', valueType: 'string', secret: true },
  { key: 'fax.api_key', value: 'k_live_123456', valueType: 'string', secret: false },
  { key: 'mail.subject', value: 'Fax from {{sender}}', valueType: 'string', secret: false },
];

describe('templateFromOverrides', () => {
  it('keeps ordinary values literal and turns secrets into required secret variables', () => {
    const def = templateFromOverrides('er-smtp', entries, 'department', {
      description: 'ER mail settings',
    });
    expect(def).toMatchObject({
      name: 'er-smtp',
      description: 'ER mail settings',
      version: 1,
      kind: 'custom',
      targetLevel: 'department',
    });
    expect(def.configs).toEqual({
      'smtp.host': { value: 'smtp.example.org', valueType: 'string' },
      'smtp.port': { value: '587', valueType: 'number', locked: true },
      'smtp.auth_pass': { value: '{{SMTP_AUTH_PASS}}', valueType: 'string' },
      // Secret by its name although the entry was not flagged.
      'fax.api_key': { value: '{{FAX_API_KEY}}', valueType: 'string' },
      'mail.subject': { value: 'Fax from {{sender}}', valueType: 'string', literal: true },
    });
    expect(def.variables).toEqual([
      {
        name: 'SMTP_AUTH_PASS',
        description: 'Secret value for smtp.auth_pass',
        required: true,
        secret: true,
      },
      {
        name: 'FAX_API_KEY',
        description: 'Secret value for fax.api_key',
        required: true,
        secret: true,
      },
    ]);
    // smtp.auth_pass is not secret by name, so the template records that it is a password.
    expect(def.metadata).toEqual([
      {
        key: 'smtp.auth_pass',
        displayName: 'smtp.auth_pass',
        valueType: 'string',
        inputType: 'password',
      },
    ]);
    expect(JSON.stringify(def)).not.toContain('hunter2');
    expect(JSON.stringify(def)).not.toContain('k_live');
  });

  it('renders back to the same values once the secrets are supplied', () => {
    const def = templateFromOverrides('er-smtp', entries, 'department');
    const r = renderTemplate(
      def,
      { SMTP_AUTH_PASS: 'hunter2-hunter2', FAX_API_KEY: 'k_live_123456' },
      { level: 'department', scope: 'st-marys/er' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.changes.map((c) => [c.key, c.value, c.secret])).toEqual(
      entries.map((e) => [e.key, e.value, e.secret || e.key === 'fax.api_key']),
    );
    expect(renderTemplate(def, {}, { level: 'department', scope: 'st-marys/er' })).toMatchObject({
      ok: false,
      errors: [{ variable: 'SMTP_AUTH_PASS' }, { variable: 'FAX_API_KEY' }],
    });
  });

  it('copies metadata and honours password metadata', () => {
    const meta: KeyMetadata[] = [
      {
        key: 'pager.pin',
        category: 'pager',
        displayName: 'Pager PIN',
        description: null,
        inputType: 'password',
        valueType: 'string',
        validationRules: { minLength: 4 },
        defaultValue: null,
        isRequired: false,
        sortOrder: 3,
        groupName: 'Pager',
        helpText: 'Four digits',
      },
    ];
    const def = templateFromOverrides(
      'pager',
      [{ key: 'pager.pin', value: '4321', valueType: 'string', secret: false }],
      'group',
      { metadata: meta },
    );
    expect(def.configs['pager.pin']!.value).toBe('{{PAGER_PIN}}');
    expect(def.metadata).toEqual([
      {
        key: 'pager.pin',
        displayName: 'Pager PIN',
        category: 'pager',
        inputType: 'password',
        validationRules: { minLength: 4 },
        sortOrder: 3,
        helpText: 'Four digits',
        groupName: 'Pager',
        valueType: 'string',
      },
    ]);
    expect(JSON.stringify(def)).not.toContain('4321');
  });

  it('gives distinct variable names to keys that collide', () => {
    const def = templateFromOverrides(
      'clash',
      [
        { key: 'a.b_token', value: 's1', valueType: 'string', secret: true },
        { key: 'a_b.token', value: 's2', valueType: 'string', secret: true },
        { key: '_9.token', value: 's3', valueType: 'string', secret: true },
      ],
      'tenant',
    );
    expect(def.variables.map((v) => v.name)).toEqual(['A_B_TOKEN', 'A_B_TOKEN_2', 'V_9_TOKEN']);
  });

  it('refuses empty input, duplicate keys and bad names with one clear sentence', () => {
    expect(() => templateFromOverrides('x', [], 'tenant')).toThrow(
      new StrataError('invalid', 'There are no overrides to make a template from.'),
    );
    expect(() => templateFromOverrides('x', [entries[0]!, entries[0]!], 'tenant')).toThrow(
      'The key smtp.host is listed twice.',
    );
    expect(() => templateFromOverrides('Bad Name', [entries[0]!], 'tenant')).toThrow(
      /name: must be a lower-case slug/,
    );
  });

  it('never stores a secret value, whatever the overrides', () => {
    const entryArb = fc.record({
      key: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}(\.[a-z0-9_]{1,8}){0,2}$/),
      value: fc.string({ maxLength: 30 }),
      secret: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(entryArb, { minLength: 1, maxLength: 6, selector: (e) => e.key }),
        (raw) => {
          // Distinctive secrets so a match cannot be a coincidence.
          const list: OverrideEntry[] = raw.map((e, i) => ({
            key: e.key,
            value: e.secret ? `S3CRET-${i}-${e.value}` : e.value,
            valueType: 'string',
            secret: e.secret,
          }));
          const def = templateFromOverrides('prop', list, 'user');
          const text = JSON.stringify(def);
          expect(text).not.toContain('S3CRET-');
          expect(parseTemplate(JSON.parse(text))).toEqual(def);
          for (const e of list.filter((x) => x.secret)) {
            const name = def.configs[e.key]!.value.slice(2, -2);
            expect(def.variables.find((v) => v.name === name)).toMatchObject({
              required: true,
              secret: true,
            });
          }
        },
      ),
    );
  });

  it('keeps every value type', () => {
    for (const valueType of VALUE_TYPES) {
      const value = { string: 'a', number: '4', boolean: 'true', json: '{"a":1}' }[valueType];
      const def = templateFromOverrides(
        'types',
        [{ key: 'k', value, valueType, secret: false }],
        'tenant',
      );
      expect(def.configs.k).toEqual({ value, valueType });
    }
  });
});
