/**
 * The impact, guardrail and point-in-time channels of the contract, plus the live-update events:
 * preview what a change set does to every user, run the guardrails (also over the staged set a
 * push would send), and show a context's effective configuration at a past moment against now.
 * Spread into the contract's request table; browser-safe (zod, core constants and types only).
 */
import { z } from 'zod';
import { LINT_RULES } from '../core/lint.js';
import type { LintReport } from '../core/lint.js';
import type { ImpactPreview } from '../services/impact-service.js';
import type { PointInTimeView } from '../services/history-service.js';
import type { LiveConsoleEvent } from '../services/live.js';

export type { KeyImpact, ImpactCount, SlotImpact } from '../core/impact.js';
export type { LintFinding, LintReport, LintRule, PolicyRule, PolicySource } from '../core/lint.js';
export type { ImpactPreview, UserImpactItem, UserImpactView } from '../services/impact-service.js';
export type {
  PointInTimeItem,
  PointInTimeValue,
  PointInTimeView,
} from '../services/history-service.js';
export type { LiveSlotChange } from '../services/live.js';

/** Live-update events pushed to the console (on the same events channel as the others). */
export type LiveStrataEvent = LiveConsoleEvent;

/** Most changes one impact preview may carry in its request. */
export const MAX_IMPACT_CHANGES = 10_000;

const level = z.enum(['global', 'tenant', 'department', 'group', 'user']);
const scope = z.string().max(201);
const id = z.string().min(1).max(100);
const key = z.string().min(1).max(200);
const utf8 = new TextEncoder();
const value = z
  .string()
  .max(64 * 1024)
  .refine((v) => utf8.encode(v).length <= 64 * 1024, { message: 'is larger than 64 KiB' });
const context = z.union([
  z.strictObject({ userId: id }),
  z.strictObject({
    tenantId: id,
    department: id.nullable().optional(),
    groups: z.array(id).max(100).optional(),
    userId: id.nullable().optional(),
  }),
]);
const change = z.strictObject({
  level,
  scope,
  key,
  action: z.enum(['set', 'unset']),
  value: value.nullable().optional(),
  valueType: z.enum(['string', 'number', 'boolean', 'json']).optional(),
  locked: z.boolean().optional(),
});

/** Request schemas of the impact, lint and history channels. */
export const impactRequestSchemas = {
  /** Without `changes`: the open draft's staged changes against its base. */
  'impact:preview': z.strictObject({
    changes: z.array(change).max(MAX_IMPACT_CHANGES).optional(),
    includeUsers: z.boolean().optional(),
    userId: id.optional(),
    key: key.optional(),
  }),
  /** `staged: true` runs what plan and push check (the draft's staged set only). */
  'lint:run': z.strictObject({
    staged: z.boolean().optional(),
    only: z.array(z.enum(LINT_RULES)).max(LINT_RULES.length).optional(),
  }),
  /** A context, or a level and scope, at a moment (ISO 8601 with a zone), against now. */
  'history:at': z.strictObject({
    at: z.string().min(1).max(40),
    context: context.optional(),
    level: level.optional(),
    scope: scope.optional(),
    changedOnly: z.boolean().optional(),
  }),
} as const;

/** The channel names defined here. */
export type ImpactChannel = keyof typeof impactRequestSchemas;

/** Response types of the impact, lint and history channels. */
export interface ImpactChannelResponses {
  'impact:preview': ImpactPreview;
  'lint:run': LintReport;
  'history:at': PointInTimeView;
}
