/**
 * The template channels of the contract: choose, preview and apply templates, list and apply
 * template upgrades, save custom templates, provision tenants and bulk-edit one key across many
 * scopes. Spread into the contract's request table; browser-safe (zod and types only).
 */
import { z } from 'zod';
import type { TemplateDefinition } from '../core/templates/types.js';
import type {
  BulkSetResult,
  TemplateDetail,
  TemplatePreview,
  TemplateSummary,
  TemplateUpgradeView,
  TemplateWriteResult,
  TenantCreateResult,
} from '../services/template-types.js';

export type {
  BulkItemView,
  BulkSetResult,
  TemplateApplication,
  TemplateDetail,
  TemplateDiffSummary,
  TemplateDiffView,
  TemplateItemAction,
  TemplatePreview,
  TemplateSummary,
  TemplateUpgradeView,
  TemplateWriteResult,
  TenantCreateResult,
  TenantGroupView,
} from '../services/template-types.js';
export type { TemplateDefinition };

/** Most variables one request may carry. */
export const MAX_VARS = 100;
/** Most scopes one bulk edit may name (as the service allows). */
export const MAX_BULK_SCOPES = 10_000;
/** Most departments or groups one new tenant may get in one request. */
export const MAX_TENANT_PARTS = 500;

const level = z.enum(['global', 'tenant', 'department', 'group', 'user']);
const scope = z.string().max(201);
const id = z.string().min(1).max(100);
const name = z.string().min(1).max(100);
const reason = z.string().max(1000).nullable().optional();
const vars = z
  .record(z.string().min(1).max(100), z.string().max(10_000))
  .refine((v) => Object.keys(v).length <= MAX_VARS, {
    message: `has more than ${MAX_VARS} variables`,
  });

/** Request schemas of the template channels (strict objects, bounded strings and arrays). */
export const templateRequestSchemas = {
  'template:list': z.strictObject({}),
  'template:show': z.strictObject({ name }),
  'template:preview': z.strictObject({ template: name, level, scope, vars: vars.optional() }),
  'template:apply': z.strictObject({
    template: name,
    level,
    scope,
    vars: vars.optional(),
    reason,
    dryRun: z.boolean().optional(),
  }),
  'template:upgrades': z.strictObject({ template: name.optional(), tenant: id.optional() }),
  'template:upgrade': z.strictObject({
    template: name,
    level,
    scope,
    vars: vars.optional(),
    reason,
    dryRun: z.boolean().optional(),
  }),
  'template:save': z.strictObject({
    name,
    level,
    scope,
    description: z.string().max(1000).optional(),
  }),
  'tenant:create': z.strictObject({
    id,
    name: z.string().min(1).max(200),
    template: name,
    tenantType: z.string().max(100).nullable().optional(),
    departments: z
      .array(z.strictObject({ id, name: z.string().max(200).optional() }))
      .max(MAX_TENANT_PARTS)
      .optional(),
    groups: z
      .array(
        z.strictObject({
          id,
          name: z.string().max(200).optional(),
          department: id.nullable().optional(),
        }),
      )
      .max(MAX_TENANT_PARTS)
      .optional(),
    vars: vars.optional(),
    reason,
    dryRun: z.boolean().optional(),
  }),
  'bulk:set': z.strictObject({
    key: z.string().min(1).max(200),
    action: z.enum(['set', 'unset']),
    value: z
      .string()
      .max(64 * 1024)
      .optional(),
    valueType: z.enum(['string', 'number', 'boolean', 'json']).optional(),
    locked: z.boolean().optional(),
    level: z.enum(['tenant', 'department', 'group', 'user']),
    scopes: z.array(scope.min(1)).min(1).max(MAX_BULK_SCOPES),
    reason,
    dryRun: z.boolean().optional(),
  }),
} as const;

/** The template channel names. */
export type TemplateChannel = keyof typeof templateRequestSchemas;

/** Response types of the template channels. */
export interface TemplateChannelResponses {
  'template:list': TemplateSummary[];
  'template:show': TemplateDetail;
  'template:preview': TemplatePreview;
  'template:apply': TemplateWriteResult;
  'template:upgrades': TemplateUpgradeView[];
  'template:upgrade': TemplateWriteResult;
  'template:save': TemplateDetail;
  'tenant:create': TenantCreateResult;
  'bulk:set': BulkSetResult;
}
