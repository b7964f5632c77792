/**
 * Parsing and validating template JSON. The zod schema checks the shape; a second pass checks
 * what a shape cannot: every placeholder names a declared variable, every variable is used,
 * secrets come only from secret variables, literal values fit their type and metadata.
 */
import { z } from 'zod';
import { categoryOf, isValidKey } from '../keys.js';
import { INPUT_TYPES, LEVELS, StrataError, VALUE_TYPES } from '../types.js';
import type { KeyMetadata, ValueType } from '../types.js';
import {
  ENTITY_ID_RE,
  TEMPLATE_NAME_RE,
  VARIABLE_NAME_RE,
  checkKeyRules,
  checkValueType,
  checkVariableRules,
  compilePattern,
  scanPlaceholders,
  templateKeyIsSecret,
} from './rules.js';
import { TEMPLATE_KINDS } from './types.js';
import type { TemplateDefinition } from './types.js';

const text = (max: number) => z.string().max(max, { error: `must be at most ${max} characters` });
const nonEmpty = (max: number) => text(max).min(1, { error: 'must not be empty' });
const level = z.enum(LEVELS, { error: `must be one of ${LEVELS.join(', ')}` });
const valueType = z.enum(VALUE_TYPES, { error: `must be one of ${VALUE_TYPES.join(', ')}` });
const entityId = nonEmpty(100).regex(ENTITY_ID_RE, {
  error: 'must be letters, digits, "_" or "-" (no "/")',
});
const length = z.int({ error: 'must be a whole number' }).min(0, { error: 'must not be negative' });

const validationRulesSchema = z.strictObject({
  required: z.boolean().optional(),
  minLength: length.optional(),
  maxLength: length.optional(),
  pattern: z.string().optional(),
  options: z.array(z.string()).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

const variableSchema = z.strictObject({
  name: z.string().regex(VARIABLE_NAME_RE, {
    error: 'must be upper snake case (A-Z, 0-9, _; starting with a letter)',
  }),
  description: text(500),
  required: z.boolean({ error: 'must be true or false' }),
  example: text(200).optional(),
  secret: z.boolean().optional(),
  default: text(10_000).optional(),
  validation: z
    .strictObject({
      pattern: z.string().optional(),
      minLength: length.optional(),
      maxLength: length.optional(),
      options: z.array(z.string()).min(1, { error: 'must list at least one option' }).optional(),
    })
    .optional(),
});

const configSchema = z.strictObject({
  value: z.string({ error: 'must be a string (write numbers and booleans in quotes)' }),
  valueType: valueType.optional(),
  locked: z.boolean().optional(),
  literal: z.boolean().optional(),
});

const metadataSchema = z.strictObject({
  key: z.string(),
  displayName: nonEmpty(200),
  description: text(1000).optional(),
  category: nonEmpty(50).optional(),
  inputType: z.enum(INPUT_TYPES, { error: `must be one of ${INPUT_TYPES.join(', ')}` }).optional(),
  valueType: valueType.optional(),
  validationRules: validationRulesSchema.optional(),
  helpText: text(1000).optional(),
  groupName: text(100).optional(),
  sortOrder: z.int().optional(),
});

/** The zod schema of template JSON (shape and cross-field rules). */
export const templateSchema = z
  .strictObject({
    name: nonEmpty(100).regex(TEMPLATE_NAME_RE, {
      error: 'must be a lower-case slug (a-z, 0-9, "_" and "-")',
    }),
    description: text(1000),
    version: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }),
    targetLevel: level,
    allowedLevels: z.array(level).optional(),
    requiredTraits: z.array(nonEmpty(100)).default([]),
    kind: z.enum(TEMPLATE_KINDS, { error: `must be one of ${TEMPLATE_KINDS.join(', ')}` }),
    providerName: nonEmpty(50).optional(),
    category: nonEmpty(50).optional(),
    configs: z.record(z.string(), configSchema),
    variables: z.array(variableSchema).default([]),
    instructions: z.array(text(1000)).default([]),
    departments: z.array(z.strictObject({ id: entityId, name: nonEmpty(200) })).optional(),
    groups: z
      .array(z.strictObject({ id: entityId, name: nonEmpty(200), department: entityId.optional() }))
      .optional(),
    metadata: z.array(metadataSchema).optional(),
  })
  .superRefine((def, ctx) => {
    const problem = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const asDef = def as TemplateDefinition;

    if (def.kind === 'provider' && def.providerName === undefined) {
      problem(['providerName'], 'is required for a provider template');
    }

    const variables = new Map<string, (typeof def.variables)[number]>();
    def.variables.forEach((v, i) => {
      if (variables.has(v.name)) problem(['variables', i, 'name'], `${v.name} is declared twice`);
      variables.set(v.name, v);
      const rules = v.validation;
      if (rules?.pattern !== undefined && !compilePattern(rules.pattern)) {
        problem(['variables', i, 'validation', 'pattern'], 'is not a valid regular expression');
      }
      if (
        rules?.minLength !== undefined &&
        rules.maxLength !== undefined &&
        rules.minLength > rules.maxLength
      ) {
        problem(['variables', i, 'validation'], 'minLength is greater than maxLength');
      }
      if (v.default !== undefined) {
        if (v.secret) {
          problem(['variables', i, 'default'], `${v.name} is secret, so it cannot have a default`);
        } else {
          const bad = checkVariableRules(v.default, rules);
          if (bad) problem(['variables', i, 'default'], `default of ${v.name} ${bad}`);
        }
      }
      if (v.example !== undefined) {
        const bad = checkVariableRules(v.example, rules);
        if (bad) problem(['variables', i, 'example'], `example of ${v.name} ${bad}`);
      }
    });

    const metaKeys = new Set<string>();
    (def.metadata ?? []).forEach((m, i) => {
      if (metaKeys.has(m.key)) problem(['metadata', i, 'key'], `${m.key} has metadata twice`);
      metaKeys.add(m.key);
      if (!Object.prototype.hasOwnProperty.call(def.configs, m.key)) {
        problem(['metadata', i, 'key'], `${m.key} is not a key this template sets`);
      }
      const pattern = m.validationRules?.pattern;
      if (pattern !== undefined && !compilePattern(pattern)) {
        problem(['metadata', i, 'validationRules', 'pattern'], 'is not a valid regular expression');
      }
    });

    const used = new Set<string>();
    for (const [key, cfg] of Object.entries(def.configs)) {
      const path = ['configs', key];
      if (!isValidKey(key)) {
        problem(
          path,
          'is not a valid key (dot-separated letters, digits, "_" and "-", starting with a letter or "_")',
        );
        continue;
      }
      const meta = def.metadata?.find((m) => m.key === key);
      if (cfg.valueType && meta?.valueType && cfg.valueType !== meta.valueType) {
        problem(
          [...path, 'valueType'],
          `is ${cfg.valueType} but the metadata says ${meta.valueType}`,
        );
      }
      const secretKey = templateKeyIsSecret(asDef, key);
      const names = cfg.literal ? [] : scanPlaceholders(cfg.value).names;
      if (!cfg.literal) {
        const { malformed } = scanPlaceholders(cfg.value);
        if (malformed !== null) {
          problem(
            [...path, 'value'],
            `has a malformed placeholder near "${malformed}" (write {{NAME}}, or set literal: true)`,
          );
        }
        for (const name of names) {
          used.add(name);
          const v = variables.get(name);
          if (!v) {
            problem([...path, 'value'], `uses the unknown placeholder {{${name}}}`);
          } else if (secretKey && !v.secret) {
            problem([...path, 'value'], `is a secret key, so ${name} must be a secret variable`);
          } else if (!secretKey && v.secret) {
            problem(
              [...path, 'value'],
              `uses the secret variable ${name} but is not a secret key (give it metadata with inputType password)`,
            );
          }
        }
      }
      if (names.length === 0) {
        if (secretKey && cfg.value !== '') {
          problem(
            [...path, 'value'],
            'is a secret key, so its value must come from a secret variable, never a literal',
          );
          continue;
        }
        const vt = cfg.valueType ?? meta?.valueType ?? 'string';
        const bad =
          checkValueType(cfg.value, vt) ?? checkKeyRules(cfg.value, meta?.validationRules);
        if (bad) problem([...path, 'value'], bad);
      }
    }
    def.variables.forEach((v, i) => {
      if (!used.has(v.name)) {
        problem(['variables', i, 'name'], `${v.name} is declared but no config uses it`);
      }
    });

    if (def.targetLevel !== 'tenant' && (def.departments?.length || def.groups?.length)) {
      problem(['departments'], 'only tenant templates can create departments and groups');
    }
    const deptIds = new Set<string>();
    (def.departments ?? []).forEach((d, i) => {
      if (deptIds.has(d.id)) problem(['departments', i, 'id'], `${d.id} is listed twice`);
      deptIds.add(d.id);
    });
    const groupIds = new Set<string>();
    (def.groups ?? []).forEach((g, i) => {
      if (groupIds.has(g.id)) problem(['groups', i, 'id'], `${g.id} is listed twice`);
      groupIds.add(g.id);
      if (g.department !== undefined && !deptIds.has(g.department)) {
        problem(
          ['groups', i, 'department'],
          `${g.department} is not one of the template's departments`,
        );
      }
    });
  });

/** A readable "where: what" line for one zod issue. */
function issueLine(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  return where ? `${where}: ${issue.message}` : issue.message;
}

/** Parses template JSON, returning every problem instead of throwing. */
export function safeParseTemplate(
  json: unknown,
): { ok: true; template: TemplateDefinition } | { ok: false; errors: string[] } {
  const r = templateSchema.safeParse(json);
  if (!r.success) return { ok: false, errors: r.error.issues.map(issueLine) };
  return { ok: true, template: normalise(r.data as TemplateDefinition) };
}

/**
 * Parses and validates template JSON (an already JSON.parse'd value).
 * Throws StrataError('invalid') naming the first problem; `details` lists them all.
 */
export function parseTemplate(json: unknown): TemplateDefinition {
  const r = safeParseTemplate(json);
  if (r.ok) return r.template;
  const name =
    typeof json === 'object' &&
    json !== null &&
    typeof (json as { name?: unknown }).name === 'string'
      ? ` "${(json as { name: string }).name}"`
      : '';
  const more = r.errors.length > 1 ? ` (and ${r.errors.length - 1} more problems)` : '';
  throw new StrataError('invalid', `Template${name} is invalid: ${r.errors[0]}${more}.`, {
    errors: r.errors,
  });
}

// Drops absent optionals so definitions compare and serialise stably.
function normalise(def: TemplateDefinition): TemplateDefinition {
  const out: TemplateDefinition = {
    name: def.name,
    description: def.description,
    version: def.version,
    targetLevel: def.targetLevel,
    requiredTraits: [...def.requiredTraits],
    kind: def.kind,
    configs: {},
    variables: def.variables.map((v) => stripUndefined({ ...v })),
    instructions: [...def.instructions],
  };
  if (def.allowedLevels) out.allowedLevels = [...new Set(def.allowedLevels)];
  if (def.providerName !== undefined) out.providerName = def.providerName;
  if (def.category !== undefined) out.category = def.category;
  for (const [key, cfg] of Object.entries(def.configs))
    out.configs[key] = stripUndefined({ ...cfg });
  if (def.departments) out.departments = def.departments.map((d) => ({ ...d }));
  if (def.groups) out.groups = def.groups.map((g) => stripUndefined({ ...g }));
  if (def.metadata) out.metadata = def.metadata.map((m) => stripUndefined({ ...m }));
  return out;
}

function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The value type a template key is written with: its own, else its metadata's, else string. */
export function configValueType(def: TemplateDefinition, key: string): ValueType {
  return (
    def.configs[key]?.valueType ?? def.metadata?.find((m) => m.key === key)?.valueType ?? 'string'
  );
}

/** Levels a template may be applied at. */
export function templateLevels(def: TemplateDefinition): TemplateDefinition['targetLevel'][] {
  return [def.targetLevel, ...(def.allowedLevels ?? []).filter((l) => l !== def.targetLevel)];
}

/** Traits the operator lacks to apply a template (empty when allowed). */
export function missingTraits(
  def: TemplateDefinition,
  operatorTraits: readonly string[],
): string[] {
  return def.requiredTraits.filter((t) => !operatorTraits.includes(t));
}

/**
 * Full configuration_metadata rows for the keys a template ships metadata for, with the gaps
 * filled (category from the key prefix, input type from the value type).
 */
export function templateKeyMetadata(def: TemplateDefinition): KeyMetadata[] {
  return (def.metadata ?? []).map((m, i) => {
    const vt = m.valueType ?? def.configs[m.key]?.valueType ?? 'string';
    const rules = m.validationRules ?? {};
    return {
      key: m.key,
      category: m.category ?? categoryOf(m.key),
      displayName: m.displayName,
      description: m.description ?? null,
      inputType:
        m.inputType ?? (vt === 'number' ? 'number' : vt === 'boolean' ? 'checkbox' : 'text'),
      valueType: vt,
      validationRules: { ...rules },
      defaultValue: null,
      isRequired: rules.required ?? false,
      sortOrder: m.sortOrder ?? i,
      groupName: m.groupName ?? null,
      helpText: m.helpText ?? null,
    };
  });
}
