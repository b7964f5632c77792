import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENV_MAPPINGS,
  createEnvKeyMapper,
  envExportPairs,
  envKeyFor,
  mapEnvKey,
  suggestPlacement,
} from '../../src-main/core/env/index.js';

describe('mapEnvKey', () => {
  it("maps the migration plan's table", () => {
    expect(Object.fromEntries(DEFAULT_ENV_MAPPINGS)).toEqual({
      FAX_BACKEND: 'fax.backend.provider',
      PHAXIO_API_KEY: 'providers.phaxio.api_key',
      PHAXIO_API_SECRET: 'providers.phaxio.api_secret',
      HIPAA_MODE: 'compliance.hipaa.enabled',
      EMAIL_GATEWAY_ENABLED: 'features.email_gateway.enabled',
      MAX_FILE_SIZE_MB: 'uploads.max_size_mb',
      API_KEY: 'security.default_api_key',
    });
    for (const [env, key] of DEFAULT_ENV_MAPPINGS) expect(mapEnvKey(env)).toBe(key);
  });

  it('lower-cases anything else', () => {
    expect(mapEnvKey('FAX_TIMEOUT')).toBe('fax_timeout');
    expect(mapEnvKey('Mixed.Case-Name')).toBe('mixed.case-name');
  });

  it('lets custom mappings win over the table', () => {
    const custom = new Map([
      ['API_KEY', 'providers.sinch.api_key'],
      ['LOG_LEVEL', 'platform.logging.level'],
    ]);
    expect(mapEnvKey('API_KEY', custom)).toBe('providers.sinch.api_key');
    expect(mapEnvKey('LOG_LEVEL', custom)).toBe('platform.logging.level');
    expect(mapEnvKey('FAX_BACKEND', custom)).toBe('fax.backend.provider');
  });

  it('maps exported names of known dotted keys back to those keys', () => {
    const known = ['providers.sip.host', 'fax_timeout', 'a.b', 'a-b'];
    const mapper = createEnvKeyMapper({ knownKeys: known });
    expect(mapper('PROVIDERS_SIP_HOST')).toEqual({ key: 'providers.sip.host', source: 'known' });
    expect(mapper('FAX_TIMEOUT')).toEqual({ key: 'fax_timeout', source: 'known' });
    // Two known keys export as A_B: ambiguous, so the plain rule applies.
    expect(mapper('A_B')).toEqual({ key: 'a_b', source: 'lowercase' });
    expect(mapEnvKey('PROVIDERS_SIP_HOST', null, known)).toBe('providers.sip.host');
  });
});

describe('envKeyFor', () => {
  it('reverses the table, then upper-cases with dots and dashes as underscores', () => {
    for (const [env, key] of DEFAULT_ENV_MAPPINGS) expect(envKeyFor(key)).toBe(env);
    expect(envKeyFor('providers.sip.host')).toBe('PROVIDERS_SIP_HOST');
    expect(envKeyFor('feature-flags.beta')).toBe('FEATURE_FLAGS_BETA');
    expect(envKeyFor('fax_timeout')).toBe('FAX_TIMEOUT');
  });

  it('reverses custom mappings first', () => {
    const custom = new Map([['SINCH_KEY', 'providers.sinch.api_key']]);
    expect(envKeyFor('providers.sinch.api_key', custom)).toBe('SINCH_KEY');
    // A custom mapping that takes a table name away from its table key.
    const steal = new Map([['API_KEY', 'providers.sinch.api_key']]);
    expect(envKeyFor('security.default_api_key', steal)).toBe('SECURITY_DEFAULT_API_KEY');
  });

  it('property: export then import is a round trip for known keys', () => {
    const segment = fc
      .tuple(fc.constantFrom(...'abcxyz'), fc.array(fc.constantFrom(...'abz09_'), { maxLength: 6 }))
      .map(([a, b]) => a + b.join(''));
    const key = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 10 }), (keys) => {
        const mapper = createEnvKeyMapper({ knownKeys: keys });
        for (const k of keys) {
          const name = envKeyFor(k);
          const sharing = keys.filter((other) => envKeyFor(other) === name);
          const back = mapper(name).key;
          if (sharing.length === 1) expect(back).toBe(k);
          else expect(back).toBe(name.toLowerCase());
        }
      }),
    );
  });

  it('reports export name collisions instead of writing one name twice', () => {
    const { pairs, collisions } = envExportPairs([
      ['a.b', '1'],
      ['a_b', '2'],
      ['fax.backend.provider', 'phaxio'],
    ]);
    expect(pairs).toEqual([['FAX_BACKEND', 'phaxio']]);
    expect(collisions).toEqual([{ envKey: 'A_B', keys: ['a.b', 'a_b'] }]);
  });
});

describe('suggestPlacement', () => {
  it('places the mapped seed keys as the migration plan intends', () => {
    const where = (env: string, tenant: string | null = 'stmarys') => {
      const { level, scope } = suggestPlacement(mapEnvKey(env), { tenant });
      return `${level}:${scope}`;
    };
    expect(where('FAX_BACKEND')).toBe('global:');
    expect(where('PHAXIO_API_KEY')).toBe('tenant:stmarys');
    expect(where('PHAXIO_API_SECRET')).toBe('tenant:stmarys');
    expect(where('HIPAA_MODE')).toBe('tenant:stmarys');
    expect(where('EMAIL_GATEWAY_ENABLED')).toBe('global:');
    expect(where('MAX_FILE_SIZE_MB')).toBe('global:');
    expect(where('API_KEY')).toBe('global:');
  });

  it('treats uploads., security., platform. and features. as global prefixes', () => {
    for (const key of [
      'uploads.max_size_mb',
      'uploads.allowed_types',
      'uploads.max_size_mb_override',
      'security.session.timeout',
      'platform.name',
      'features.beta',
    ]) {
      expect(suggestPlacement(key, { tenant: 't1' })).toEqual({ level: 'global', scope: '' });
    }
  });

  it('sends providers. and compliance. to the chosen tenant, or global with a note', () => {
    expect(suggestPlacement('providers.sip.host', { tenant: 't1' })).toEqual({
      level: 'tenant',
      scope: 't1',
    });
    expect(suggestPlacement('Compliance.hipaa.enabled', { tenant: 't1' }).level).toBe('tenant');
    const none = suggestPlacement('compliance.hipaa.enabled', {});
    expect(none).toMatchObject({ level: 'global', scope: '' });
    expect(none.note).toMatch(/no tenant was chosen/);
    expect(suggestPlacement('providers.x', { tenant: null }).level).toBe('global');
  });

  it('puts everything else at global, with the global scope id', () => {
    expect(suggestPlacement('fax_timeout', { tenant: 't1' })).toEqual({
      level: 'global',
      scope: '',
    });
    expect(suggestPlacement('providersx.y', { tenant: 't1' })).toEqual({
      level: 'global',
      scope: '',
    });
  });
});
