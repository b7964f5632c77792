/**
 * What the template service answers: summaries, previews (diffs against what a scope holds and
 * inherits), apply / upgrade / tenant-provisioning / bulk-edit results. Every value in these
 * shapes is a display value: secrets are masked. The contract re-exports them for the console.
 */
import type { TemplateDefinition, TemplateError, TemplateKind } from '../core/templates/types.js';
import type { Level, SourceLevel, ValueType } from '../core/types.js';

/** Where a template comes from: a shipped file (possibly also stored) or config_templates only. */
export type TemplateSource = 'builtin' | 'stored';

/** One line of `template list`. */
export interface TemplateSummary {
  name: string;
  description: string;
  version: number;
  kind: TemplateKind;
  targetLevel: Level;
  /** Every level the template may be applied at, target level first. */
  levels: Level[];
  providerName: string | null;
  category: string | null;
  requiredTraits: string[];
  variableCount: number;
  keyCount: number;
  source: TemplateSource;
  /** True when config_templates holds the template (false: only the shipped file). */
  stored: boolean;
  /** For built-ins: the shipped file's version when it is newer than the stored row. */
  shippedVersion: number | null;
  /** Traits the operator lacks to apply it (empty: allowed). */
  missingTraits: string[];
}

/** Where (and at which version) a template was applied: one template_applications row. */
export interface TemplateApplication {
  template: string;
  version: number;
  level: Level;
  scope: string;
  appliedAt: string | null;
  appliedBy: string | null;
}

/** A template with its full definition, known versions and where it was applied. */
export interface TemplateDetail {
  summary: TemplateSummary;
  definition: TemplateDefinition;
  /** Versions whose definition is kept (for upgrades), oldest first. */
  versions: number[];
  applications: TemplateApplication[];
}

/**
 * What a change does to its slot. create: nothing set there yet; update: something else is set;
 * remove: an upgrade drops a key the new version no longer sets; unchanged: already exactly so;
 * redundant: nothing set and the value equals what the slot inherits (still written, so the
 * scope keeps the value when the level above changes).
 */
export type TemplateItemAction = 'create' | 'update' | 'remove' | 'unchanged' | 'redundant';

/** One slot of a preview: the new value beside what is there and what is inherited. */
export interface TemplateDiffView {
  level: Level;
  scope: string;
  key: string;
  action: TemplateItemAction;
  /** New value (masked when secret); null for remove. */
  value: string | null;
  valueType: ValueType;
  locked: boolean;
  secret: boolean;
  /** Value set at exactly this slot now (masked when secret), or null. */
  currentValue: string | null;
  /** Value the slot would inherit without its own entry (masked when secret), or null. */
  inheritedValue: string | null;
  /** Where the inherited value comes from, or null. */
  inheritedFrom: { level: SourceLevel; scope: string } | null;
  /** A more general level locks the key, so a value here has no effect. */
  lockedAbove: boolean;
}

/** Counts of a preview's items by action. */
export type TemplateDiffSummary = Record<TemplateItemAction, number>;

/** Request to preview or apply a template at one level and scope. */
export interface TemplateApplyRequest {
  template: string;
  level: Level;
  scope: string;
  vars?: Record<string, string>;
  reason?: string | null;
  /** Compute and return the diff without writing anything. */
  dryRun?: boolean;
}

/** A rendered template compared with its target: refusals, or the diff. */
export interface TemplatePreview {
  template: string;
  version: number;
  level: Level;
  scope: string;
  /** False when a variable or the target was refused; `errors` says which and why. */
  ok: boolean;
  errors: TemplateError[];
  items: TemplateDiffView[];
  summary: TemplateDiffSummary;
  instructions: string[];
}

/** Outcome of applying a template (or of an upgrade, tenant creation or bulk edit). */
export interface TemplateWriteResult {
  /** live: written to PostgreSQL (audited); staged: staged in a draft. */
  mode: 'live' | 'staged';
  dryRun: boolean;
  template: string | null;
  version: number | null;
  level: Level;
  scope: string;
  /** Slots written (or that would be written on a dry run). */
  written: number;
  items: TemplateDiffView[];
  summary: TemplateDiffSummary;
}

/** Request to create a tenant from a tenant template. */
export interface TenantCreateRequest {
  id: string;
  name: string;
  template: string;
  /** tenants.tenant_type; defaults to the template's name. */
  tenantType?: string | null;
  /** Department ids (or ids with names); default: the template's, else "general". */
  departments?: Array<string | { id: string; name?: string }>;
  /** Groups with ids local to the tenant, in priority order; default: the template's. */
  groups?: Array<{ id: string; name?: string; department?: string | null }>;
  vars?: Record<string, string>;
  reason?: string | null;
  dryRun?: boolean;
}

/** A group the tenant gets, in priority order. */
export interface TenantGroupView {
  id: string;
  localId: string;
  name: string;
  department: string | null;
  order: number;
}

/** The tenant, its departments and groups, and its values: created as one change set. */
export interface TenantCreateResult extends TemplateWriteResult {
  tenant: { id: string; name: string; tenantType: string | null };
  departments: Array<{ id: string; name: string }>;
  groups: TenantGroupView[];
}

/** The change that brings one scope from the template version it has to the current one. */
export interface TemplateUpgradeView {
  template: string;
  fromVersion: number;
  toVersion: number;
  level: Level;
  scope: string;
  /** False when the upgrade needs variables (see `errors`) or cannot be planned. */
  ok: boolean;
  errors: TemplateError[];
  /** Exact difference when the old version's definition is kept; else a diff of the new version. */
  exact: boolean;
  items: TemplateDiffView[];
  summary: TemplateDiffSummary;
}

/** Request to upgrade one scope to the template's current version. */
export interface TemplateUpgradeRequest {
  template: string;
  level: Level;
  scope: string;
  vars?: Record<string, string>;
  reason?: string | null;
  dryRun?: boolean;
}

/** Request to set or remove one key across many scopes of one level as one change set. */
export interface BulkSetRequest {
  key: string;
  action: 'set' | 'unset';
  /** Required for set. */
  value?: string;
  valueType?: ValueType;
  locked?: boolean;
  level: Exclude<Level, 'global'>;
  scopes: string[];
  reason?: string | null;
  dryRun?: boolean;
}

/** One scope of a bulk edit. */
export interface BulkItemView {
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  /** New display value (masked when secret); null for unset. */
  value: string | null;
  /** Display value set there before (masked when secret), or null. */
  previous: string | null;
  /** False when the slot already held exactly this (nothing to write there). */
  changed: boolean;
}

/** Outcome of a bulk edit. */
export interface BulkSetResult {
  mode: 'live' | 'staged';
  dryRun: boolean;
  key: string;
  level: Level;
  written: number;
  items: BulkItemView[];
}

/** Request to save a scope's current overrides as a custom template. */
export interface SaveTemplateRequest {
  name: string;
  level: Level;
  scope: string;
  description?: string;
}
