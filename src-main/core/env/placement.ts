/**
 * Where an imported .env value should land by default, after the migration plan's
 * `EnvImporter._determine_target`. Bugs in that function that are fixed here:
 *  1. Its "global" list mixed a full key ('uploads.max_size_mb') with prefixes ('security.',
 *     'platform.') under one `startswith` test, so 'uploads.max_size_mb_override' matched by
 *     accident while every other uploads.* key only reached global through the fallback; uploads
 *     is now a prefix like the others.
 *  2. Provider and compliance keys went to a hard-coded tenant 'default_tenant' that need not
 *     exist; they now go to the tenant the admin chose, or to global with a note when none was.
 *  3. Global was written with scope id 'global'; the global scope id is ''.
 *  4. Prefixes were matched case-sensitively, so a custom mapping to 'Providers.x' escaped the
 *     tenant rule; matching now ignores case.
 * Typing the value (its `_parse_value`) is not done here: the import plan types values from key
 * metadata instead of guessing.
 */
import type { Level } from '../types.js';

/** Key prefixes that are platform-wide and belong at the global level. */
export const GLOBAL_PREFIXES: readonly string[] = Object.freeze([
  'uploads.',
  'security.',
  'platform.',
  'features.',
]);

/** Key prefixes that differ per hospital and belong at the tenant level. */
export const TENANT_PREFIXES: readonly string[] = Object.freeze(['providers.', 'compliance.']);

/** A suggested slot for an imported key; `note` explains a fallback. */
export interface PlacementSuggestion {
  level: Level;
  scope: string;
  note?: string;
}

/** Options for suggestPlacement. */
export interface PlacementOptions {
  /** Tenant id chosen for tenant-level keys; without one they fall back to global. */
  tenant?: string | null;
}

function hasPrefix(lower: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (lower.startsWith(p)) return true;
  return false;
}

/**
 * Suggests the level and scope for a configuration key: uploads., security., platform. and
 * features. keys go global; providers. and compliance. keys go to the chosen tenant (global with
 * a note when no tenant is chosen); everything else goes global.
 */
export function suggestPlacement(
  configKey: string,
  opts: PlacementOptions = {},
): PlacementSuggestion {
  const lower = configKey.toLowerCase();
  if (hasPrefix(lower, GLOBAL_PREFIXES)) return { level: 'global', scope: '' };
  if (hasPrefix(lower, TENANT_PREFIXES)) {
    const tenant = opts.tenant ?? '';
    if (tenant !== '') return { level: 'tenant', scope: tenant };
    return {
      level: 'global',
      scope: '',
      note: `${configKey} is usually set per tenant, but no tenant was chosen, so it is placed at global.`,
    };
  }
  return { level: 'global', scope: '' };
}
