import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUILTIN_TEMPLATE_FILES,
  BUILTIN_TEMPLATE_NAMES,
  missingTraits,
  parseTemplate,
  safeParseTemplate,
  templateKeyMetadata,
} from '../../src-main/core/templates/index.js';
import type { TemplateDefinition } from '../../src-main/core/templates/index.js';
import { StrataError } from '../../src-main/core/types.js';
import {
  builtinTemplatesDir,
  loadBuiltinTemplates,
  loadBuiltinTemplatesSync,
  loadTemplateFile,
} from '../../src-main/services/template-files.js';

const base = (): Record<string, unknown> => ({
  name: 'example',
  description: 'An example provider template',
  version: 1,
  targetLevel: 'tenant',
  requiredTraits: [],
  kind: 'custom',
  configs: {
    'mail.host': { value: 'mail.example.org' },
    'mail.user': { value: '{{MAIL_USER}}' },
  },
  variables: [{ name: 'MAIL_USER', description: 'Mail user', required: true }],
  instructions: [],
});

function errorsOf(json: unknown): string[] {
  const r = safeParseTemplate(json);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

describe('built-in template files', () => {
  it('every built-in parses, is named after its file and loads the same sync and async', async () => {
    const defs = await loadBuiltinTemplates();
    expect(defs.map((d) => d.name)).toEqual(BUILTIN_TEMPLATE_NAMES);
    expect(loadBuiltinTemplatesSync()).toEqual(defs);
    for (const file of BUILTIN_TEMPLATE_FILES) {
      const raw: unknown = JSON.parse(readFileSync(join(builtinTemplatesDir(), file), 'utf8'));
      expect(parseTemplate(raw).name).toBe(file.replace(/\.json$/, ''));
    }
  });

  it('the tenant templates carry the seed values', async () => {
    const byName = new Map((await loadBuiltinTemplates()).map((d) => [d.name, d]));
    const values = (n: string) =>
      Object.fromEntries(Object.entries(byName.get(n)!.configs).map(([k, c]) => [k, c.value]));
    expect(values('healthcare')).toEqual({
      'compliance.hipaa.enabled': 'true',
      'compliance.hipaa.audit_level': 'maximum',
      'features.email_gateway.enabled': 'false',
      'features.phi_access.enabled': 'true',
      'ui.theme': 'medical',
      'ui.terminology': 'clinical',
      'notifications.compliance_alerts': 'true',
    });
    expect(values('business')).toEqual({
      'compliance.hipaa.enabled': 'false',
      'features.email_gateway.enabled': 'true',
      'features.phi_access.enabled': 'false',
      'ui.theme': 'business',
      'ui.terminology': 'standard',
      'notifications.marketing_features': 'true',
    });
    expect(values('default')).toEqual({
      'compliance.hipaa.enabled': 'false',
      'features.email_gateway.enabled': 'true',
      'ui.theme': 'neutral',
    });
    const hc = byName.get('healthcare')!;
    expect(hc.departments!.map((d) => d.id)).toEqual(['medical', 'it', 'administration']);
    expect(hc.groups!.map((g) => g.id)).toEqual(['doctors', 'nurses', 'admins']);
  });

  it('the smtp templates set the five smtp keys, with secret passwords', async () => {
    const smtp = (await loadBuiltinTemplates()).filter((d) => d.category === 'smtp');
    expect(smtp.map((d) => d.providerName)).toEqual(['gmail', 'sendgrid', 'mailtrap']);
    for (const d of smtp) {
      expect(Object.keys(d.configs).sort()).toEqual(
        ['smtp.auth_pass', 'smtp.auth_user', 'smtp.host', 'smtp.port', 'smtp.secure'].sort(),
      );
      const passVar = d.configs['smtp.auth_pass']!.value.slice(2, -2);
      expect(d.variables.find((v) => v.name === passVar)?.secret).toBe(true);
      expect(d.instructions.length).toBeGreaterThan(0);
      const meta = templateKeyMetadata(d);
      expect(meta.find((m) => m.key === 'smtp.auth_pass')?.inputType).toBe('password');
      expect(meta.find((m) => m.key === 'smtp.port')).toMatchObject({
        inputType: 'number',
        valueType: 'number',
        validationRules: { min: 1, max: 65535 },
      });
      expect(meta.find((m) => m.key === 'smtp.secure')?.inputType).toBe('select');
    }
  });

  it('every key a built-in sets has metadata, identical across built-ins', async () => {
    const seen = new Map<string, unknown>();
    for (const d of await loadBuiltinTemplates()) {
      const meta = templateKeyMetadata(d);
      expect(meta.map((m) => m.key).sort()).toEqual(Object.keys(d.configs).sort());
      for (const m of meta) {
        if (seen.has(m.key)) expect(m).toEqual(seen.get(m.key));
        else seen.set(m.key, m);
      }
    }
  });
});

describe('template files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-templates-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file when its JSON or its content is bad', async () => {
    writeFileSync(join(dir, 'broken.json'), '{ "name": ');
    await expect(loadTemplateFile(join(dir, 'broken.json'))).rejects.toThrow(
      /broken\.json is not valid JSON/,
    );
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...base(), version: 0 }));
    await expect(loadTemplateFile(join(dir, 'bad.json'))).rejects.toThrow(
      /^bad\.json: Template "example" is invalid: version: must be at least 1\.$/,
    );
    await expect(loadTemplateFile(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('refuses a built-in folder whose file is named differently from its template', async () => {
    const builtins = join(dir, 'builtins');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(builtins);
    for (const f of BUILTIN_TEMPLATE_FILES) {
      writeFileSync(join(builtins, f), readFileSync(join(builtinTemplatesDir(), f)));
    }
    writeFileSync(join(builtins, 'default.json'), JSON.stringify({ ...base(), name: 'other' }));
    await expect(loadBuiltinTemplates(builtins)).rejects.toThrow(/default\.json names "other"/);
  });
});

describe('templateSchema', () => {
  it('accepts a minimal template and fills defaults', () => {
    const def = parseTemplate({ ...base(), requiredTraits: undefined, instructions: undefined });
    expect(def.requiredTraits).toEqual([]);
    expect(def.instructions).toEqual([]);
  });

  it('throws StrataError(invalid) naming the first problem and listing all', () => {
    const json = { ...base(), version: 0, kind: 'nope' };
    let err: unknown;
    try {
      parseTemplate(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe('invalid');
    expect((err as StrataError).message).toMatch(
      /^Template "example" is invalid: version: must be at least 1 \(and 1 more problems\)\.$/,
    );
    expect(((err as StrataError).details as { errors: string[] }).errors).toHaveLength(2);
  });

  const cases: Array<[string, (j: Record<string, unknown>) => void, RegExp]> = [
    [
      'unknown placeholders',
      (j) => ((j.configs as Record<string, unknown>)['mail.pass'] = { value: '{{NOPE}}' }),
      /configs\.mail\.pass\.value: uses the unknown placeholder \{\{NOPE\}\}/,
    ],
    [
      'malformed placeholders',
      (j) => ((j.configs as Record<string, unknown>)['mail.from'] = { value: 'x {{lower}} y' }),
      /configs\.mail\.from\.value: has a malformed placeholder near/,
    ],
    [
      'variables declared but unused',
      (j) => (j.variables as unknown[]).push({ name: 'UNUSED', description: 'x', required: false }),
      /variables\.1\.name: UNUSED is declared but no config uses it/,
    ],
    [
      'bad variable names',
      (j) => {
        j.variables = [{ name: 'mail_user', description: 'x', required: true }];
        (j.configs as Record<string, { value: string }>)['mail.user'] = { value: 'x' };
      },
      /variables\.0\.name: must be upper snake case/,
    ],
    ['bad template names', (j) => (j.name = 'Not A Slug'), /name: must be a lower-case slug/],
    [
      'bad keys',
      (j) => ((j.configs as Record<string, unknown>)['bad key!'] = { value: 'x' }),
      /configs\.bad key!: is not a valid key/,
    ],
    ['a version below 1', (j) => (j.version = 0), /version: must be at least 1/],
    ['a fractional version', (j) => (j.version = 1.5), /version: must be a whole number/],
    ['an unknown level', (j) => (j.targetLevel = 'ward'), /targetLevel: must be one of global/],
    [
      'non-string values',
      (j) => ((j.configs as Record<string, unknown>)['mail.port'] = { value: 25 }),
      /configs\.mail\.port\.value: must be a string/,
    ],
    ['unknown fields', (j) => (j.extra = true), /Unrecognized key: "extra"/],
    [
      'literal secrets',
      (j) => ((j.configs as Record<string, unknown>)['mail.password'] = { value: 'hunter22' }),
      /configs\.mail\.password\.value: is a secret key, so its value must come from a secret variable/,
    ],
    [
      'secret keys filled from non-secret variables',
      (j) =>
        ((j.configs as Record<string, unknown>)['mail.api_token'] = { value: '{{MAIL_USER}}' }),
      /configs\.mail\.api_token\.value: is a secret key, so MAIL_USER must be a secret variable/,
    ],
    [
      'secret variables in ordinary keys',
      (j) => ((j.variables as Array<Record<string, unknown>>)[0]!.secret = true),
      /configs\.mail\.user\.value: uses the secret variable MAIL_USER but is not a secret key/,
    ],
    [
      'defaults on secret variables',
      (j) => {
        (j.configs as Record<string, unknown>)['mail.password'] = { value: '{{MAIL_PASS}}' };
        (j.variables as unknown[]).push({
          name: 'MAIL_PASS',
          description: 'x',
          required: true,
          secret: true,
          default: 'hunter22',
        });
      },
      /variables\.1\.default: MAIL_PASS is secret, so it cannot have a default/,
    ],
    [
      'defaults that break their own validation',
      (j) =>
        ((j.variables as Array<Record<string, unknown>>)[0] = {
          name: 'MAIL_USER',
          description: 'x',
          required: false,
          default: 'bob',
          validation: { options: ['alice', 'carol'] },
        }),
      /variables\.0\.default: default of MAIL_USER must be one of alice, carol/,
    ],
    [
      'examples that break their own validation',
      (j) =>
        ((j.variables as Array<Record<string, unknown>>)[0] = {
          name: 'MAIL_USER',
          description: 'x',
          required: true,
          example: 'abcd efgh',
          validation: { minLength: 4, maxLength: 4 },
        }),
      /variables\.0\.example: example of MAIL_USER must be exactly 4 characters long/,
    ],
    [
      'invalid patterns',
      (j) =>
        ((j.variables as Array<Record<string, unknown>>)[0]!.validation = { pattern: '([a-z' }),
      /variables\.0\.validation\.pattern: is not a valid regular expression/,
    ],
    [
      'duplicate variables',
      (j) =>
        (j.variables as unknown[]).push({ name: 'MAIL_USER', description: 'x', required: true }),
      /variables\.1\.name: MAIL_USER is declared twice/,
    ],
    [
      'provider templates without a provider name',
      (j) => (j.kind = 'provider'),
      /providerName: is required for a provider template/,
    ],
    [
      'departments outside tenant templates',
      (j) => {
        j.targetLevel = 'group';
        j.departments = [{ id: 'er', name: 'ER' }];
      },
      /departments: only tenant templates can create departments and groups/,
    ],
    [
      'groups in unknown departments',
      (j) => {
        j.departments = [{ id: 'er', name: 'ER' }];
        j.groups = [{ id: 'docs', name: 'Docs', department: 'icu' }];
      },
      /groups\.0\.department: icu is not one of the template's departments/,
    ],
    [
      'department ids with a slash',
      (j) => (j.departments = [{ id: 'a/b', name: 'AB' }]),
      /departments\.0\.id: must be letters, digits/,
    ],
    [
      'metadata for keys it does not set',
      (j) => (j.metadata = [{ key: 'other.key', displayName: 'Other' }]),
      /metadata\.0\.key: other\.key is not a key this template sets/,
    ],
    [
      'value types that contradict the metadata',
      (j) => {
        (j.configs as Record<string, unknown>)['mail.port'] = { value: '25', valueType: 'string' };
        j.metadata = [{ key: 'mail.port', displayName: 'Port', valueType: 'number' }];
      },
      /configs\.mail\.port\.valueType: is string but the metadata says number/,
    ],
    [
      'literal values of the wrong type',
      (j) =>
        ((j.configs as Record<string, unknown>)['mail.tls'] = {
          value: 'yes',
          valueType: 'boolean',
        }),
      /configs\.mail\.tls\.value: must be true or false/,
    ],
    [
      'literal values that break the metadata rules',
      (j) => {
        (j.configs as Record<string, unknown>)['mail.port'] = { value: '70000' };
        j.metadata = [
          {
            key: 'mail.port',
            displayName: 'Port',
            valueType: 'number',
            validationRules: { min: 1, max: 65535 },
          },
        ];
      },
      /configs\.mail\.port\.value: must be at most 65535/,
    ],
  ];
  it.each(cases)('refuses %s', (_what, mutate, expected) => {
    const json = structuredClone(base());
    mutate(json);
    const errors = errorsOf(json);
    expect(
      errors.some((e) => expected.test(e)),
      errors.join('\n'),
    ).toBe(true);
  });

  it('lets literal values contain braces', () => {
    const json = base();
    (json.configs as Record<string, unknown>)['mail.subject'] = {
      value: 'Hello {{name}}',
      literal: true,
    };
    expect(parseTemplate(json).configs['mail.subject']!.literal).toBe(true);
  });
});

describe('missingTraits', () => {
  it('lists the traits an operator lacks', () => {
    const def = { ...parseTemplate(base()), requiredTraits: ['admin_capable', 'hipaa_trained'] };
    expect(missingTraits(def as TemplateDefinition, ['admin_capable'])).toEqual(['hipaa_trained']);
    expect(missingTraits(def as TemplateDefinition, ['hipaa_trained', 'admin_capable'])).toEqual(
      [],
    );
  });
});
