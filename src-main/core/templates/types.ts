/**
 * The template format. One shape covers both customer seeds: the tenant-type templates of the
 * hierarchical plan (`_get_tenant_template`, default departments and groups, required traits,
 * a target level) and the provider templates of the schema notes (configs with {{VARIABLE}}
 * placeholders, variable definitions with validation, setup instructions).
 */
import type { InputType, Level, ValidationRules, ValueType } from '../types.js';

/** What a template is for: a tenant type, a provider (e.g. an SMTP service), or saved overrides. */
export const TEMPLATE_KINDS = ['tenant', 'provider', 'custom'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** One key a template sets. `value` may contain {{VARIABLE}} placeholders unless `literal`. */
export interface TemplateConfig {
  value: string;
  /** Defaults to the metadata's value type, else 'string'. */
  valueType?: ValueType;
  locked?: boolean;
  /**
   * The value is used exactly as written: `{{` in it is not a placeholder. Needed when a saved
   * override legitimately contains braces (e.g. a message template).
   */
  literal?: boolean;
}

/** Rules a variable's value must satisfy before it is substituted. */
export interface TemplateVariableValidation {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  options?: string[];
}

/** A value the person applying the template supplies. */
export interface TemplateVariable {
  /** Upper snake case, e.g. EMAIL_USER. */
  name: string;
  description: string;
  required: boolean;
  example?: string;
  /** Secret values are masked in every message and must never be stored in a template. */
  secret?: boolean;
  /** Used when no value is supplied. Secret variables cannot have one. */
  default?: string;
  validation?: TemplateVariableValidation;
}

/** UI and validation metadata a template ships for a key it sets (configuration_metadata). */
export interface TemplateKeyMetadata {
  key: string;
  displayName: string;
  description?: string;
  /** Defaults to the part of the key before the first dot. */
  category?: string;
  inputType?: InputType;
  valueType?: ValueType;
  validationRules?: ValidationRules;
  helpText?: string;
  groupName?: string;
  sortOrder?: number;
}

/** A department a tenant template creates by default. */
export interface TemplateDepartment {
  id: string;
  name: string;
}

/** A group a tenant template creates by default; `id` is local to the tenant. */
export interface TemplateGroup {
  id: string;
  name: string;
  /** Local id of one of the template's departments. */
  department?: string;
}

/** A parsed, validated template (the JSON stored in templates/*.json and config_templates). */
export interface TemplateDefinition {
  /** Lower-case slug, unique among templates. */
  name: string;
  description: string;
  /** Grows by one on every published change; recorded per scope for upgrades. */
  version: number;
  targetLevel: Level;
  /**
   * Further levels the template may be applied at. A provider template written for tenants may,
   * for instance, also be applied to one department.
   */
  allowedLevels?: Level[];
  /** Operator traits required to apply the template. */
  requiredTraits: string[];
  kind: TemplateKind;
  providerName?: string;
  category?: string;
  configs: Record<string, TemplateConfig>;
  variables: TemplateVariable[];
  instructions: string[];
  departments?: TemplateDepartment[];
  groups?: TemplateGroup[];
  metadata?: TemplateKeyMetadata[];
}

/** Where a template is applied. */
export interface TemplateTarget {
  level: Level;
  scope: string;
}

/** One value a rendered template sets. `value` is plaintext; secrets are encrypted on write. */
export interface TemplateChange {
  level: Level;
  scope: string;
  key: string;
  value: string;
  valueType: ValueType;
  locked: boolean;
  /** Mask `value` whenever it is displayed, logged or audited. */
  secret: boolean;
}

/** Why a template could not be rendered. `variable` is '' when the problem is not one variable. */
export interface TemplateError {
  variable: string;
  message: string;
}

/** The result of rendering a template. */
export type RenderResult =
  { ok: true; changes: TemplateChange[] } | { ok: false; errors: TemplateError[] };
