/**
 * Custom templates: "save these overrides as a template". Secret values never enter the template;
 * each becomes a required secret variable the next person applying it must supply.
 */
import { StrataError } from '../types.js';
import type { KeyMetadata, Level, ValueType } from '../types.js';
import { isSecretKeyName, scanPlaceholders } from './rules.js';
import { parseTemplate } from './schema.js';
import type {
  TemplateConfig,
  TemplateDefinition,
  TemplateKeyMetadata,
  TemplateVariable,
} from './types.js';

/** One override to turn into a template entry. `value` is plaintext; ignored when secret. */
export interface OverrideEntry {
  key: string;
  value: string;
  valueType: ValueType;
  secret: boolean;
  locked?: boolean;
}

/** Optional extras for a custom template. */
export interface CustomTemplateOptions {
  description?: string;
  /** Metadata of the keys, copied into the template (and used to spot password keys). */
  metadata?: readonly KeyMetadata[];
  requiredTraits?: string[];
  /** Further levels the template may be applied at. */
  allowedLevels?: Level[];
}

// SMTP_AUTH_PASS for smtp.auth_pass; a key starting with a digit gets a V_ prefix.
function variableNameFor(key: string, taken: Set<string>): string {
  let base = key
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!/^[A-Z]/.test(base)) base = `V_${base}`;
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Builds a custom template from overrides at one level. Non-secret values are stored literally;
 * secret ones (flagged, secret by key name, or password metadata) become required secret
 * variables, so the template never holds a secret. Throws StrataError('invalid') on bad input.
 */
export function templateFromOverrides(
  name: string,
  entries: readonly OverrideEntry[],
  level: Level,
  opts: CustomTemplateOptions = {},
): TemplateDefinition {
  if (entries.length === 0) {
    throw new StrataError('invalid', 'There are no overrides to make a template from.');
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.key)) {
      throw new StrataError('invalid', `The key ${e.key} is listed twice.`);
    }
    seen.add(e.key);
  }
  const passwordKeys = new Set(
    (opts.metadata ?? []).filter((m) => m.inputType === 'password').map((m) => m.key),
  );
  const taken = new Set<string>();
  const configs: Record<string, TemplateConfig> = {};
  const variables: TemplateVariable[] = [];
  const secretKeys = new Set<string>();
  for (const e of entries) {
    const secret = e.secret || isSecretKeyName(e.key) || passwordKeys.has(e.key);
    if (secret) secretKeys.add(e.key);
    const cfg: TemplateConfig = { value: '', valueType: e.valueType };
    if (e.locked) cfg.locked = true;
    if (secret) {
      const varName = variableNameFor(e.key, taken);
      cfg.value = `{{${varName}}}`;
      variables.push({
        name: varName,
        description: `Secret value for ${e.key}`,
        required: true,
        secret: true,
      });
    } else {
      cfg.value = e.value;
      const scan = scanPlaceholders(e.value);
      if (scan.names.length > 0 || scan.malformed !== null) cfg.literal = true;
    }
    configs[e.key] = cfg;
  }

  const metadata: TemplateKeyMetadata[] = [];
  for (const e of entries) {
    const m = (opts.metadata ?? []).find((x) => x.key === e.key);
    // A key flagged secret but not secret by name must say so in its metadata, or the value
    // would be shown in plaintext wherever the template's output is displayed.
    const needsPassword = secretKeys.has(e.key) && !isSecretKeyName(e.key);
    if (!m && !needsPassword) continue;
    const tm: TemplateKeyMetadata = { key: e.key, displayName: m?.displayName ?? e.key };
    if (m) {
      tm.category = m.category;
      tm.inputType = m.inputType;
      tm.validationRules = { ...m.validationRules };
      tm.sortOrder = m.sortOrder;
      if (m.description !== null) tm.description = m.description;
      if (m.helpText !== null) tm.helpText = m.helpText;
      if (m.groupName !== null) tm.groupName = m.groupName;
    }
    tm.valueType = e.valueType;
    if (needsPassword) tm.inputType = 'password';
    metadata.push(tm);
  }

  const def: TemplateDefinition = {
    name,
    description: opts.description ?? `Saved ${level} overrides`,
    version: 1,
    targetLevel: level,
    requiredTraits: opts.requiredTraits ?? [],
    kind: 'custom',
    configs,
    variables,
    instructions: [],
  };
  if (opts.allowedLevels) def.allowedLevels = opts.allowedLevels;
  if (metadata.length > 0) def.metadata = metadata;
  // Round-trip through the parser so a custom template obeys every rule a file does; a stored
  // value that breaks its own metadata rules is reported here rather than at apply time.
  return parseTemplate(def);
}
