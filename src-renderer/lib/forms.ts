/**
 * Pure helpers behind the Level editor's forms: labels, categories, inline validation and how a
 * source level reads to a person. Validation is the core's, so the console refuses exactly what
 * the service would refuse.
 */
import { categoryOf } from '../../src-main/core/keys.js';
import { isSecretKey } from '../../src-main/core/secret-keys.js';
import type { KeyMetadata, Level, SourceLevel, ValueType } from '../../src-main/core/types.js';
import { validateValue } from '../../src-main/core/validation.js';
import { environmentOfLabel } from '../../src-main/contract/connection-channels.js';
import type { SlotKeyView } from '../../src-main/contract/contract.js';

/** The label a key's input carries: its display name, else the key itself. */
export function labelFor(key: string, meta?: KeyMetadata): string {
  return meta?.displayName?.trim() || key;
}

/** The section a key is listed under. */
export function categoryFor(key: string, meta?: KeyMetadata): string {
  return meta?.category?.trim() || categoryOf(key);
}

/** True when the key's value must be masked. */
export function isSecret(key: string, meta?: KeyMetadata): boolean {
  return isSecretKey(key, meta);
}

/** The value type a write of this key uses. */
export function valueTypeFor(item: SlotKeyView, meta?: KeyMetadata): ValueType {
  return meta?.valueType ?? item.entry?.valueType ?? item.inherited?.valueType ?? 'string';
}

/** Inline validation: null when the value is acceptable, else the service's own message. */
export function checkValue(
  key: string,
  value: string,
  valueType: ValueType,
  meta?: KeyMetadata,
): string | null {
  return validateValue(key, value, valueType, meta, isSecret(key, meta))?.message ?? null;
}

/** One section of the Level editor. */
export interface Section {
  category: string;
  items: SlotKeyView[];
}

/** Groups slot items into category sections, in metadata order (categories alphabetical). */
export function groupByCategory(
  items: readonly SlotKeyView[],
  metaByKey: Readonly<Record<string, KeyMetadata>>,
): Section[] {
  const sections = new Map<string, SlotKeyView[]>();
  for (const item of items) {
    const category = categoryFor(item.key, metaByKey[item.key]);
    let list = sections.get(category);
    if (!list) sections.set(category, (list = []));
    list.push(item);
  }
  const order = (item: SlotKeyView): number => metaByKey[item.key]?.sortOrder ?? 1_000_000;
  return [...sections.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([category, list]) => ({
      category,
      items: list.sort((a, b) => order(a) - order(b) || a.key.localeCompare(b.key)),
    }));
}

/** A section title from a category id (`features` -> `Features`). */
export function sectionTitle(category: string): string {
  return category
    .split(/[_\-.]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

const LEVEL_NAMES: Record<SourceLevel, string> = {
  global: 'Global',
  tenant: 'Tenant',
  department: 'Department',
  group: 'Group',
  user: 'User',
  env_legacy: 'Legacy .env',
  default: 'Default',
};

/** How a level reads in the console. */
export function levelName(level: SourceLevel): string {
  return LEVEL_NAMES[level];
}

/** "Tenant mercy_hospital", "Global", "Default". */
export function describeSource(level: SourceLevel, scope: string): string {
  return scope ? `${LEVEL_NAMES[level]} ${scope}` : LEVEL_NAMES[level];
}

/** A stable id for a slot. */
export function slotId(level: Level, scope: string, key?: string): string {
  return key === undefined ? `${level}|${scope}` : `${level}|${scope}|${key}`;
}

/** Visual tone of the environment banner. */
export type EnvironmentTone = 'production' | 'staging' | 'development' | 'unlabelled';

/**
 * Maps an environment label to its banner tone: the environment it names (environmentOfLabel),
 * development for any other label, unlabelled for none.
 */
export function environmentTone(environment: string | null | undefined): EnvironmentTone {
  if (!environment) return 'unlabelled';
  return environmentOfLabel(environment) ?? 'development';
}

/** How each environment tone reads (the banner, the profiles' chips). */
export const ENVIRONMENT_LABEL: Record<EnvironmentTone, string> = {
  production: 'PRODUCTION',
  staging: 'Staging',
  development: 'Development',
  unlabelled: 'Unlabelled environment',
};
