/**
 * How legacy .env names become configuration keys and back. The built-in table is the one in the
 * customer's migration plan (`EnvImporter._map_env_key`); anything else is lower-cased, which
 * yields a flat key in category 'general' (FAX_TIMEOUT -> fax_timeout).
 */

/** The migration plan's table: legacy .env name -> configuration key. */
export const DEFAULT_ENV_MAPPINGS: ReadonlyMap<string, string> = new Map([
  ['FAX_BACKEND', 'fax.backend.provider'],
  ['PHAXIO_API_KEY', 'providers.phaxio.api_key'],
  ['PHAXIO_API_SECRET', 'providers.phaxio.api_secret'],
  ['HIPAA_MODE', 'compliance.hipaa.enabled'],
  ['EMAIL_GATEWAY_ENABLED', 'features.email_gateway.enabled'],
  ['MAX_FILE_SIZE_MB', 'uploads.max_size_mb'],
  ['API_KEY', 'security.default_api_key'],
]);

/** Where a mapped key came from, so a wizard can show why a name was chosen. */
export type EnvKeySource = 'custom' | 'default' | 'known' | 'lowercase';

/** A mapping decision. */
export interface EnvKeyMapping {
  key: string;
  source: EnvKeySource;
}

/** Options for mapping names in either direction. */
export interface EnvMappingOptions {
  /** Admin-supplied overrides (env name -> config key); they win over the built-in table. */
  custom?: ReadonlyMap<string, string> | null;
  /**
   * Keys the store already knows (set somewhere or described by metadata). An env name that is
   * exactly what export would write for one of them maps back to it, so export -> import is a
   * round trip for dotted keys too (PROVIDERS_SIP_HOST -> providers.sip.host).
   */
  knownKeys?: Iterable<string> | null;
}

/** The default export name for a configuration key: upper-cased, dots and dashes to '_'. */
export function defaultEnvName(configKey: string): string {
  return configKey.toUpperCase().replace(/[.-]/g, '_');
}

/**
 * Builds a reusable env name -> config key mapper (the known-key index is built once).
 * Precedence: custom mapping, the built-in table, a known key whose export name matches
 * (the lower-cased name itself if that is known, else a single unambiguous match), lower-case.
 */
export function createEnvKeyMapper(
  opts: EnvMappingOptions = {},
): (envKey: string) => EnvKeyMapping {
  const custom = opts.custom ?? null;
  const byEnvName = new Map<string, string[]>();
  for (const key of opts.knownKeys ?? []) {
    if (typeof key !== 'string') continue;
    const name = defaultEnvName(key);
    const list = byEnvName.get(name);
    if (list === undefined) byEnvName.set(name, [key]);
    else if (!list.includes(key)) list.push(key);
  }
  return (envKey: string): EnvKeyMapping => {
    const fromCustom = custom?.get(envKey);
    if (fromCustom !== undefined) return { key: fromCustom, source: 'custom' };
    const fromTable = DEFAULT_ENV_MAPPINGS.get(envKey);
    if (fromTable !== undefined) return { key: fromTable, source: 'default' };
    const lower = envKey.toLowerCase();
    const known = byEnvName.get(envKey);
    if (known !== undefined) {
      if (known.includes(lower)) return { key: lower, source: 'known' };
      if (known.length === 1) return { key: known[0]!, source: 'known' };
    }
    return { key: lower, source: 'lowercase' };
  };
}

/**
 * The configuration key for a legacy .env name: custom mapping first, then
 * DEFAULT_ENV_MAPPINGS, then (with knownKeys) a known key that exports to this name, else the
 * lower-cased name.
 */
export function mapEnvKey(
  envKey: string,
  custom?: ReadonlyMap<string, string> | null,
  knownKeys?: Iterable<string> | null,
): string {
  return createEnvKeyMapper({ custom: custom ?? null, knownKeys: knownKeys ?? null })(envKey).key;
}

function reverseLookup(map: ReadonlyMap<string, string>, configKey: string): string | undefined {
  for (const [envName, key] of map) {
    if (key === configKey) return envName;
  }
  return undefined;
}

/**
 * The .env name to export a configuration key under: the reverse of the custom mapping (first
 * match), then of DEFAULT_ENV_MAPPINGS, else upper-case with dots and dashes turned into '_'.
 */
export function envKeyFor(configKey: string, custom?: ReadonlyMap<string, string> | null): string {
  if (custom) {
    const fromCustom = reverseLookup(custom, configKey);
    if (fromCustom !== undefined) return fromCustom;
  }
  // A custom mapping that claims a table name for another key takes that name away from the table.
  const fromTable = reverseLookup(DEFAULT_ENV_MAPPINGS, configKey);
  if (fromTable !== undefined && !(custom && custom.has(fromTable))) return fromTable;
  return defaultEnvName(configKey);
}

/** Two or more configuration keys that would be exported under the same .env name. */
export interface EnvNameCollision {
  envKey: string;
  keys: string[];
}

/**
 * Names every (config key, value) pair for export and reports name collisions
 * (e.g. `a.b` and `a_b` both become A_B), so the caller can refuse or ask for a mapping
 * instead of silently writing one value twice.
 */
export function envExportPairs(
  items: Iterable<readonly [string, string]>,
  custom?: ReadonlyMap<string, string> | null,
): { pairs: Array<[string, string]>; collisions: EnvNameCollision[] } {
  const byName = new Map<string, { keys: string[]; value: string }>();
  for (const [key, value] of items) {
    const name = envKeyFor(key, custom);
    const slot = byName.get(name);
    if (slot === undefined) byName.set(name, { keys: [key], value });
    else slot.keys.push(key);
  }
  const pairs: Array<[string, string]> = [];
  const collisions: EnvNameCollision[] = [];
  for (const [envKey, { keys, value }] of byName) {
    if (keys.length > 1) collisions.push({ envKey, keys });
    else pairs.push([envKey, value]);
  }
  return { pairs, collisions };
}
