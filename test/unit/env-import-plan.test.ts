import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  importPlanChanges,
  maskImportItem,
  parseEnv,
  planEnvImport,
  summarizeImportPlan,
} from '../../src-main/core/env/index.js';
import type { EnvEntry, ImportPlanItem, ImportPlanOptions } from '../../src-main/core/env/index.js';
import { MASK } from '../../src-main/core/masking.js';
import { StrataError } from '../../src-main/core/types.js';
import type { KeyMetadata, Slot, ValidationRules, ValueType } from '../../src-main/core/types.js';

function meta(
  key: string,
  valueType: ValueType,
  validationRules: ValidationRules = {},
  inputType: KeyMetadata['inputType'] = 'text',
): KeyMetadata {
  return {
    key,
    category: key.split('.')[0]!,
    displayName: key,
    description: null,
    inputType,
    valueType,
    validationRules,
    defaultValue: null,
    isRequired: false,
    sortOrder: 0,
    groupName: null,
    helpText: null,
  };
}

const METADATA = new Map(
  [
    meta('compliance.hipaa.enabled', 'boolean'),
    meta('features.email_gateway.enabled', 'boolean'),
    meta('uploads.max_size_mb', 'number', { min: 1, max: 100 }),
    meta('fax.backend.provider', 'string', { options: ['phaxio', 'sinch', 'sip'] }),
    meta('providers.phaxio.api_key', 'string', { minLength: 12 }, 'password'),
    meta('fax.cover_page', 'string', {}, 'password'),
  ].map((m) => [m.key, m]),
);

const slotId = (s: Slot) => `${s.level}|${s.scope}|${s.key}`;

/** A tiny stand-in store: values at slots; a tenant slot inherits global, global inherits nothing. */
function store(values: Record<string, string>): Pick<ImportPlanOptions, 'current' | 'inherited'> {
  const at = new Map(Object.entries(values));
  return {
    current: (s) => at.get(slotId(s)),
    inherited: (s) =>
      s.level === 'global'
        ? null
        : (at.get(slotId({ level: 'global', scope: '', key: s.key })) ?? null),
  };
}

function entries(text: string): EnvEntry[] {
  const r = parseEnv(new TextEncoder().encode(text));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.entries;
}

function byEnv(items: ImportPlanItem[], envKey: string): ImportPlanItem {
  const item = items.find((i) => i.envKey === envKey);
  if (!item) throw new Error(`no item for ${envKey}`);
  return item;
}

const SECRET = 'pk_live_0123456789abcdef';
const SEED = `FAX_BACKEND=phaxio
PHAXIO_API_KEY=${SECRET}
PHAXIO_API_SECRET=shh-0123456789
HIPAA_MODE=yes
EMAIL_GATEWAY_ENABLED=maybe
MAX_FILE_SIZE_MB=025
FAX_TIMEOUT=30
`;

describe('planEnvImport', () => {
  const base = {
    metadata: (k: string) => METADATA.get(k),
    ...store({
      'global||fax.backend.provider': 'phaxio',
      'global||uploads.max_size_mb': '20',
      'global||providers.phaxio.api_secret': 'shh-0123456789',
    }),
  };

  it('plans the seed file with auto placement', () => {
    const items = planEnvImport(entries(SEED), { ...base, placement: 'auto', tenant: 'stmarys' });
    const view = items.map((i) => [i.envKey, i.key, i.level, i.scope, i.action]);
    expect(view).toEqual([
      ['FAX_BACKEND', 'fax.backend.provider', 'global', '', 'unchanged'],
      ['PHAXIO_API_KEY', 'providers.phaxio.api_key', 'tenant', 'stmarys', 'create'],
      ['PHAXIO_API_SECRET', 'providers.phaxio.api_secret', 'tenant', 'stmarys', 'redundant'],
      ['HIPAA_MODE', 'compliance.hipaa.enabled', 'tenant', 'stmarys', 'create'],
      ['EMAIL_GATEWAY_ENABLED', 'features.email_gateway.enabled', 'global', '', 'invalid'],
      ['MAX_FILE_SIZE_MB', 'uploads.max_size_mb', 'global', '', 'update'],
      ['FAX_TIMEOUT', 'fax_timeout', 'global', '', 'create'],
    ]);
    expect(byEnv(items, 'HIPAA_MODE')).toMatchObject({ value: 'true', valueType: 'boolean' });
    expect(byEnv(items, 'MAX_FILE_SIZE_MB')).toMatchObject({
      value: '25',
      valueType: 'number',
      current: '20',
    });
    expect(byEnv(items, 'PHAXIO_API_SECRET')).toMatchObject({
      secret: true,
      inherited: 'shh-0123456789',
    });
    expect(byEnv(items, 'EMAIL_GATEWAY_ENABLED').message).toMatch(
      /^Line 5: .*features\.email_gateway\.enabled.*rule type/,
    );
    expect(byEnv(items, 'FAX_TIMEOUT')).toMatchObject({ valueType: 'string', line: 7 });
    expect(summarizeImportPlan(items)).toEqual({
      create: 3,
      update: 1,
      unchanged: 1,
      redundant: 1,
      invalid: 1,
    });
  });

  it('marks values that break metadata invalid, with the rule in the message', () => {
    const items = planEnvImport(entries('MAX_FILE_SIZE_MB=500\nFAX_BACKEND=fax-o-matic\n'), {
      ...base,
      placement: 'auto',
    });
    expect(items.map((i) => i.action)).toEqual(['invalid', 'invalid']);
    expect(items[0]!.message).toMatch(/rule max/);
    expect(items[1]!.message).toMatch(/rule options/);
  });

  it('never shows a secret value in a message, and masks items for display', () => {
    const items = planEnvImport(entries('PHAXIO_API_KEY=short\nCOVER_PASSWORD=hunter2hunter2\n'), {
      ...base,
      placement: 'auto',
      tenant: 'stmarys',
      mapping: new Map([['COVER_PASSWORD', 'fax.cover_page']]),
    });
    const key = byEnv(items, 'PHAXIO_API_KEY');
    expect(key).toMatchObject({ action: 'invalid', secret: true });
    expect(key.message).toMatch(/rule minLength/);
    expect(key.message).not.toContain('short');
    const cover = byEnv(items, 'COVER_PASSWORD');
    expect(cover).toMatchObject({ secret: true, action: 'create', value: 'hunter2hunter2' });
    expect(maskImportItem(cover)).toMatchObject({ value: MASK, current: null, inherited: null });
    expect(
      maskImportItem(
        byEnv(
          planEnvImport(entries(SEED), { ...base, placement: 'auto', tenant: 't' }),
          'PHAXIO_API_SECRET',
        ),
      ),
    ).toMatchObject({ value: MASK, inherited: MASK });
  });

  it('property: no message ever contains a secret value', () => {
    const secretValue = fc
      .array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-'), {
        minLength: 8,
        maxLength: 30,
      })
      .map((c) => c.join(''));
    const rules = fc.record(
      {
        minLength: fc.integer({ min: 0, max: 40 }),
        maxLength: fc.integer({ min: 0, max: 40 }),
        pattern: fc.constantFrom('^[0-9]+$', '^sk_', '.*'),
        options: fc.constant<string[]>(['alpha', 'beta']),
        required: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        secretValue,
        rules,
        fc.constantFrom<ValueType>('string', 'number', 'json'),
        (v, r, t) => {
          const metadata = new Map([
            ['providers.x.api_token', meta('providers.x.api_token', t, r)],
          ]);
          const items = planEnvImport(
            [
              { line: 1, key: 'X_TOKEN', value: v, quote: null },
              { line: 2, key: 'PASSWORD', value: v, quote: null },
            ],
            {
              placement: 'auto',
              tenant: 't1',
              mapping: new Map([['X_TOKEN', 'providers.x.api_token']]),
              metadata: (k) => metadata.get(k),
              current: () => undefined,
              inherited: () => null,
            },
          );
          for (const item of items) {
            expect(item.secret).toBe(true);
            expect(item.message ?? '').not.toContain(v);
            expect(JSON.stringify(maskImportItem(item))).not.toContain(v);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('places everything at one slot when asked', () => {
    const items = planEnvImport(entries('HIPAA_MODE=off\nFAX_TIMEOUT=30\n'), {
      ...base,
      placement: { level: 'group', scope: 'er-doctors' },
    });
    expect(items.map((i) => [i.level, i.scope, i.value])).toEqual([
      ['group', 'er-doctors', 'false'],
      ['group', 'er-doctors', '30'],
    ]);
  });

  it('refuses a bad placement or tenant up front', () => {
    const e = entries('A=1\n');
    expect(() => planEnvImport(e, { ...base, placement: { level: 'tenant', scope: '' } })).toThrow(
      StrataError,
    );
    expect(() =>
      planEnvImport(e, { ...base, placement: { level: 'nope' as 'tenant', scope: 'x' } }),
    ).toThrow(/Placement must be/);
    expect(() => planEnvImport(e, { ...base, placement: 'auto', tenant: 'bad tenant!' })).toThrow(
      StrataError,
    );
  });

  it('applies per-name overrides of key, level and scope', () => {
    const items = planEnvImport(entries('FAX_TIMEOUT=30\nHIPAA_MODE=1\nLOG=debug\n'), {
      ...base,
      placement: 'auto',
      tenant: 'stmarys',
      overrides: new Map([
        ['FAX_TIMEOUT', { key: 'fax.timeout_seconds', valueType: 'number' as const }],
        ['HIPAA_MODE', { level: 'global' as const }],
        ['LOG', { level: 'department' as const, scope: 'stmarys/er' }],
      ]),
    });
    expect(items.map((i) => [i.key, i.keySource, i.level, i.scope, i.value, i.action])).toEqual([
      ['fax.timeout_seconds', 'override', 'global', '', '30', 'create'],
      ['compliance.hipaa.enabled', 'default', 'global', '', 'true', 'create'],
      ['log', 'lowercase', 'department', 'stmarys/er', 'debug', 'create'],
    ]);
  });

  it('flags unmappable keys, missing scopes and two names landing on one slot', () => {
    const items = planEnvImport(entries('A..B=1\nFOO_BAR=1\nfoo_bar=2\nPROVIDERS_X=1\n'), {
      ...base,
      placement: 'auto',
      overrides: new Map([['PROVIDERS_X', { level: 'tenant' as const }]]),
    });
    expect(items.map((i) => i.action)).toEqual(['invalid', 'invalid', 'invalid', 'invalid']);
    expect(items[0]!.message).toMatch(/not a valid configuration key/);
    expect(items[1]!.message).toMatch(/FOO_BAR \(line 2\) and foo_bar \(line 3\) both set foo_bar/);
    expect(items[3]!.message).toMatch(/no tenant was chosen/);
  });

  it('notes when a tenant-level key falls back to global', () => {
    const items = planEnvImport(entries('HIPAA_MODE=true\n'), { ...base, placement: 'auto' });
    expect(items[0]).toMatchObject({ level: 'global', action: 'create' });
    expect(items[0]!.note).toMatch(/no tenant was chosen/);
  });

  it('maps exported dotted names back to known keys', () => {
    const items = planEnvImport(entries('PROVIDERS_SIP_HOST=sip.example.org\n'), {
      ...base,
      placement: 'auto',
      tenant: 't1',
      knownKeys: ['providers.sip.host'],
    });
    expect(items[0]).toMatchObject({
      key: 'providers.sip.host',
      keySource: 'known',
      level: 'tenant',
    });
  });
});

describe('importPlanChanges', () => {
  it('turns creates and updates into set changes, redundant ones only on request', () => {
    const items = planEnvImport(entries(SEED), {
      metadata: (k) => METADATA.get(k),
      placement: 'auto',
      tenant: 'stmarys',
      ...store({
        'global||uploads.max_size_mb': '20',
        'global||providers.phaxio.api_secret': 'shh-0123456789',
      }),
    });
    const keys = (c: ReturnType<typeof importPlanChanges>) => c.map((x) => x.key);
    const changes = importPlanChanges(items, { reason: 'import .env' });
    expect(keys(changes)).toEqual([
      'fax.backend.provider',
      'providers.phaxio.api_key',
      'compliance.hipaa.enabled',
      'uploads.max_size_mb',
      'fax_timeout',
    ]);
    expect(changes[2]).toEqual({
      level: 'tenant',
      scope: 'stmarys',
      key: 'compliance.hipaa.enabled',
      action: 'set',
      value: 'true',
      valueType: 'boolean',
      reason: 'import .env',
    });
    expect(keys(importPlanChanges(items, { includeRedundant: true }))).toContain(
      'providers.phaxio.api_secret',
    );
    expect(keys(importPlanChanges(items, { select: (i) => i.envKey.startsWith('FAX') }))).toEqual([
      'fax.backend.provider',
      'fax_timeout',
    ]);
  });
});
