import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  displayChange,
  parseTemplate,
  renderTemplate,
  SECRET_MASK,
} from '../../src-main/core/templates/index.js';
import type { TemplateDefinition, TemplateError } from '../../src-main/core/templates/index.js';
import { loadBuiltinTemplatesSync } from '../../src-main/services/template-files.js';

const builtins = new Map(loadBuiltinTemplatesSync().map((d) => [d.name, d]));
const builtin = (name: string) => builtins.get(name)!;

const VALID_VARS: Record<string, Record<string, string>> = {
  healthcare: {},
  business: {},
  default: {},
  'gmail-smtp': { EMAIL_USER: 'frontdesk@gmail.com', EMAIL_PASS: 'abcdefghijklmnop' },
  'sendgrid-smtp': { SENDGRID_API_KEY: 'SG.abcdefghijkl.mnopqrstuvwxyz0123456789' },
  'mailtrap-smtp': { MAILTRAP_USER: '1a2b3c4d5e6f7g', MAILTRAP_PASS: '9z8y7x6w5v4u3t' },
};

// A template exercising every validation rule a variable can have.
const rules: TemplateDefinition = parseTemplate({
  name: 'rules',
  description: 'Every kind of variable rule',
  version: 1,
  targetLevel: 'department',
  kind: 'custom',
  configs: {
    'fax.region': { value: '{{REGION}}' },
    'fax.station_id': { value: 'ST-{{STATION}}' },
    'fax.header': { value: '{{HEADER}}' },
    'fax.retries': { value: '{{RETRIES}}', valueType: 'number' },
    'fax.api_key': { value: '{{API_KEY}}' },
    'fax.note': { value: 'note: {{NOTE}}' },
  },
  variables: [
    {
      name: 'REGION',
      description: 'Region',
      required: true,
      validation: { options: ['eu', 'us'] },
    },
    {
      name: 'STATION',
      description: 'Station code',
      required: true,
      validation: { pattern: '^[0-9]+$', minLength: 3, maxLength: 6 },
      example: '1234',
    },
    { name: 'HEADER', description: 'Header', required: false, default: 'Hospital' },
    { name: 'RETRIES', description: 'Retries', required: false, default: '3' },
    {
      name: 'API_KEY',
      description: 'Fax API key',
      required: true,
      secret: true,
      validation: { minLength: 12, maxLength: 40, pattern: '^k_' },
    },
    { name: 'NOTE', description: 'Optional note', required: false },
  ],
  instructions: [],
  metadata: [{ key: 'fax.api_key', displayName: 'API key', validationRules: { maxLength: 30 } }],
});
const dept = { level: 'department' as const, scope: 'st-marys/er' };
const good = { REGION: 'eu', STATION: '1234', API_KEY: 'k_0123456789ab' };

function errorsOf(r: ReturnType<typeof renderTemplate>): TemplateError[] {
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

describe('renderTemplate with the built-ins', () => {
  it.each([...builtins.keys()])('%s applies with valid variables', (name) => {
    const def = builtin(name);
    const r = renderTemplate(def, VALID_VARS[name]!, { level: 'tenant', scope: 'st-marys' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.changes.map((c) => c.key)).toEqual(Object.keys(def.configs));
    for (const c of r.changes) {
      expect(c).toMatchObject({ level: 'tenant', scope: 'st-marys' });
      expect(c.value).not.toMatch(/\{\{/);
    }
  });

  it('gmail renders the seed values, the password secret and typed', () => {
    const r = renderTemplate(builtin('gmail-smtp'), VALID_VARS['gmail-smtp']!, {
      level: 'tenant',
      scope: 'st-marys',
    });
    expect(r.ok && r.changes).toEqual([
      {
        level: 'tenant',
        scope: 'st-marys',
        key: 'smtp.host',
        value: 'smtp.gmail.com',
        valueType: 'string',
        locked: false,
        secret: false,
      },
      {
        level: 'tenant',
        scope: 'st-marys',
        key: 'smtp.port',
        value: '587',
        valueType: 'number',
        locked: false,
        secret: false,
      },
      {
        level: 'tenant',
        scope: 'st-marys',
        key: 'smtp.secure',
        value: 'false',
        valueType: 'boolean',
        locked: false,
        secret: false,
      },
      {
        level: 'tenant',
        scope: 'st-marys',
        key: 'smtp.auth_user',
        value: 'frontdesk@gmail.com',
        valueType: 'string',
        locked: false,
        secret: false,
      },
      {
        level: 'tenant',
        scope: 'st-marys',
        key: 'smtp.auth_pass',
        value: 'abcdefghijklmnop',
        valueType: 'string',
        locked: false,
        secret: true,
      },
    ]);
    if (r.ok) expect(displayChange(r.changes[4]!).value).toBe(SECRET_MASK);
  });

  it('healthcare locks HIPAA at the tenant', () => {
    const r = renderTemplate(builtin('healthcare'), {}, { level: 'tenant', scope: 't1' });
    const locked = r.ok ? r.changes.filter((c) => c.locked).map((c) => c.key) : [];
    expect(locked).toEqual(['compliance.hipaa.enabled', 'compliance.hipaa.audit_level']);
  });

  it('provider templates may also be applied to a department or globally, never to a user', () => {
    const vars = VALID_VARS['gmail-smtp']!;
    expect(
      renderTemplate(builtin('gmail-smtp'), vars, { level: 'department', scope: 't/er' }).ok,
    ).toBe(true);
    expect(renderTemplate(builtin('gmail-smtp'), vars, { level: 'global', scope: '' }).ok).toBe(
      true,
    );
    expect(
      errorsOf(renderTemplate(builtin('gmail-smtp'), vars, { level: 'user', scope: 'u1' })),
    ).toEqual([
      {
        variable: '',
        message:
          'Template "gmail-smtp" applies at the global, tenant, department or group level, not user.',
      },
    ]);
    expect(
      errorsOf(renderTemplate(builtin('healthcare'), {}, { level: 'department', scope: 't/er' })),
    ).toEqual([
      {
        variable: '',
        message: 'Template "healthcare" applies at the tenant level, not department.',
      },
    ]);
  });

  it('refuses a malformed scope for the level', () => {
    const vars = VALID_VARS['gmail-smtp']!;
    const def = builtin('gmail-smtp');
    expect(
      errorsOf(renderTemplate(def, vars, { level: 'department', scope: 'er' }))[0]!.message,
    ).toMatch(
      /^Cannot apply template "gmail-smtp": Department scope 'er' is not valid: expected 'tenant\/department'/,
    );
    expect(errorsOf(renderTemplate(def, vars, { level: 'tenant', scope: '' }))[0]!.message).toMatch(
      /The tenant scope '' is not valid/,
    );
    expect(
      errorsOf(renderTemplate(def, vars, { level: 'global', scope: 'x' }))[0]!.message,
    ).toMatch(/takes no scope/);
  });

  it('refuses a non-gmail address and a wrong-length app password, masking the password', () => {
    const errors = errorsOf(
      renderTemplate(
        builtin('gmail-smtp'),
        { EMAIL_USER: 'bob@yahoo.com', EMAIL_PASS: 'abcd efgh ijkl mnop' },
        { level: 'tenant', scope: 't' },
      ),
    );
    expect(errors).toEqual([
      {
        variable: 'EMAIL_USER',
        message:
          'EMAIL_USER "bob@yahoo.com" must match the pattern ^[^@\\s]+@gmail\\.com$ (example: your-email@gmail.com).',
      },
      {
        variable: 'EMAIL_PASS',
        message: 'EMAIL_PASS must be exactly 16 characters long (example: abcdefghijklmnop).',
      },
    ]);
    expect(JSON.stringify(errors)).not.toContain('abcd efgh');
  });
});

describe('renderTemplate variable checks', () => {
  it('renders, filling defaults and leaving out keys whose optional variable is unset', () => {
    const r = renderTemplate(rules, good, dept);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.fromEntries(r.changes.map((c) => [c.key, c.value]))).toEqual({
      'fax.region': 'eu',
      'fax.station_id': 'ST-1234',
      'fax.header': 'Hospital',
      'fax.retries': '3',
      'fax.api_key': 'k_0123456789ab',
    });
    expect(r.changes.find((c) => c.key === 'fax.api_key')!.secret).toBe(true);
    const withNote = renderTemplate(rules, { ...good, NOTE: 'x' }, dept);
    expect(withNote.ok && withNote.changes.find((c) => c.key === 'fax.note')!.value).toBe(
      'note: x',
    );
  });

  it('treats an empty value as not given', () => {
    const r = renderTemplate(rules, { ...good, HEADER: '' }, dept);
    expect(r.ok && r.changes.find((c) => c.key === 'fax.header')!.value).toBe('Hospital');
    expect(errorsOf(renderTemplate(rules, { ...good, REGION: '' }, dept))[0]!.variable).toBe(
      'REGION',
    );
  });

  const cases: Array<[string, Record<string, string>, TemplateError]> = [
    [
      'a missing required variable',
      { STATION: '1234', API_KEY: 'k_0123456789ab' },
      { variable: 'REGION', message: 'REGION is required (Region).' },
    ],
    [
      'a value not among the options',
      { ...good, REGION: 'apac' },
      { variable: 'REGION', message: 'REGION "apac" must be one of eu, us.' },
    ],
    [
      'a pattern mismatch',
      { ...good, STATION: '12a4' },
      {
        variable: 'STATION',
        message: 'STATION "12a4" must match the pattern ^[0-9]+$ (example: 1234).',
      },
    ],
    [
      'a value too short',
      { ...good, STATION: '12' },
      {
        variable: 'STATION',
        message: 'STATION "12" must be at least 3 characters long (example: 1234).',
      },
    ],
    [
      'a value too long',
      { ...good, STATION: '1234567' },
      {
        variable: 'STATION',
        message: 'STATION "1234567" must be at most 6 characters long (example: 1234).',
      },
    ],
    [
      'an unknown variable',
      { ...good, COLOUR: 'red' },
      { variable: 'COLOUR', message: 'COLOUR is not a variable of template "rules".' },
    ],
    [
      'a secret too short',
      { ...good, API_KEY: 'k_short' },
      { variable: 'API_KEY', message: 'API_KEY must be at least 12 characters long.' },
    ],
    [
      'a secret not matching its pattern',
      { ...good, API_KEY: 'x_0123456789ab' },
      { variable: 'API_KEY', message: 'API_KEY must match the pattern ^k_.' },
    ],
    [
      'a value that makes a key the wrong type',
      { ...good, RETRIES: 'many' },
      { variable: 'RETRIES', message: 'RETRIES gives fax.retries "many", which must be a number.' },
    ],
    [
      "a secret that breaks its key's metadata rules",
      { ...good, API_KEY: `k_${'9'.repeat(33)}` },
      {
        variable: 'API_KEY',
        message:
          'API_KEY gives fax.api_key the secret value, which must be at most 30 characters long.',
      },
    ],
  ];
  it.each(cases)('refuses %s, naming the variable and why', (_what, vars, expected) => {
    expect(errorsOf(renderTemplate(rules, vars, dept))).toEqual([expected]);
  });

  it('reports every problem at once', () => {
    const errors = errorsOf(renderTemplate(rules, { REGION: 'apac', EXTRA: '1' }, dept));
    expect(errors.map((e) => e.variable).sort()).toEqual(['API_KEY', 'EXTRA', 'REGION', 'STATION']);
  });

  it('never puts a secret value in a message', () => {
    // The marker makes the secret impossible to find in a message by coincidence.
    const secret = fc.string({ maxLength: 60 }).map((s) => `Zq#${s}`);
    fc.assert(
      fc.property(
        secret,
        fc.constantFrom('eu', 'apac', ''),
        fc.boolean(),
        (value, region, retries) => {
          const vars: Record<string, string> = {
            REGION: region,
            STATION: 'x',
            API_KEY: value,
            BOGUS: value,
          };
          if (retries) vars.RETRIES = 'many';
          const r = renderTemplate(rules, vars, dept);
          return !r.ok && r.errors.every((e) => !e.message.includes('Zq#'));
        },
      ),
    );
  });

  it('does not substitute placeholders inside variable values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('{{REGION}}', '{{API_KEY}}', '{{STATION}}{{HEADER}}', '$&', "$'"),
        (header) => {
          const r = renderTemplate(rules, { ...good, HEADER: header }, dept);
          return r.ok && r.changes.find((c) => c.key === 'fax.header')!.value === header;
        },
      ),
    );
  });

  it('keeps literal values exactly as written', () => {
    const def = parseTemplate({
      name: 'lit',
      description: '',
      version: 1,
      targetLevel: 'tenant',
      kind: 'custom',
      configs: { 'mail.subject': { value: 'Hi {{NAME}}', literal: true } },
      variables: [],
      instructions: [],
    });
    const r = renderTemplate(def, {}, { level: 'tenant', scope: 't' });
    expect(r.ok && r.changes[0]!.value).toBe('Hi {{NAME}}');
  });
});
