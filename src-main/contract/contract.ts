/**
 * The one contract between the console and main: every namespaced channel, the strict zod schema
 * of its request and the type of its response. Electron IPC, the local web bridge and the
 * renderer client are all derived from this table, so a channel cannot exist in one and not in
 * the others. Browser-safe: imports zod, types and plain constants only.
 */
import { z } from 'zod';
import { templateRequestSchemas, type TemplateChannelResponses } from './template-channels.js';
import { envRequestSchemas, type EnvChannelResponses } from './env-channels.js';
import {
  connectionRequestSchemas,
  type ConnectionChannelResponses,
  type WorkspaceChangedEvent,
} from './connection-channels.js';
import {
  impactRequestSchemas,
  type ImpactChannelResponses,
  type LiveStrataEvent,
} from './impact-channels.js';
import type {
  Directory,
  ErrorCode,
  KeyMetadata,
  Level,
  Resolution,
  SourceLevel,
  ValueType,
} from '../core/types.js';
import { DIRECTORY_AUDIT_KINDS } from '../services/types.js';
import type {
  AuditRecord,
  ContextInput,
  DirectoryAuditRecord,
  EffectiveItem,
  EntryView,
  WorkspaceInfo,
  WriteResult,
} from '../services/types.js';

/** The directory audit kinds, re-exported for the console (which imports only the contract). */
export { DIRECTORY_AUDIT_KINDS };
export type { DirectoryAuditKind, DirectoryAuditRecord } from '../services/types.js';

/** Longest key the schema accepts (matches VARCHAR(200) in the config tables). */
export const MAX_KEY = 200;
/** Longest scope id: `tenant/department` with two 100-character parts. */
export const MAX_SCOPE = 201;
/** Longest directory id (tenant, department, group or user). */
export const MAX_ID = 100;
/** Largest value in UTF-8 bytes. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Longest reason text. */
export const MAX_REASON = 1000;
/** Most groups an ad-hoc context may name. */
export const MAX_GROUPS = 100;
/** Most ids one discard request may name. */
export const MAX_IDS = 10_000;
/** Longest push target URL. */
export const MAX_TARGET_URL = 2000;
/** Most audit rows one request may ask for. */
export const MAX_AUDIT_ROWS = 5_000;

const utf8 = new TextEncoder();

const levelSchema = z.enum(['global', 'tenant', 'department', 'group', 'user']);
const valueTypeSchema = z.enum(['string', 'number', 'boolean', 'json']);
const keySchema = z.string().min(1).max(MAX_KEY);
const scopeSchema = z.string().max(MAX_SCOPE);
const idSchema = z.string().min(1).max(MAX_ID);
const reasonSchema = z.string().max(MAX_REASON).nullable().optional();
const valueSchema = z
  .string()
  .max(MAX_VALUE_BYTES)
  .refine((v) => utf8.encode(v).length <= MAX_VALUE_BYTES, { message: 'is larger than 64 KiB' });
const isoSchema = z.string().min(1).max(40);
/** Optimistic concurrency: the row version the caller saw (null: the slot must be empty). */
const versionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional();
const emptySchema = z.strictObject({});
/** A push target URL (checked by the draft service; never echoed back). */
const targetUrlSchema = z.string().min(1).max(MAX_TARGET_URL);

/** A context: a directory user id, or an ad-hoc tenant/department/groups context. */
export const contextInputSchema = z.union([
  z.strictObject({ userId: idSchema }),
  z.strictObject({
    tenantId: idSchema,
    department: idSchema.nullable().optional(),
    groups: z.array(idSchema).max(MAX_GROUPS).optional(),
    userId: idSchema.nullable().optional(),
  }),
]);

const slotSchema = { level: levelSchema, scope: scopeSchema, key: keySchema };

/** Request schemas, one per channel. Every object is strict: unknown fields are refused. */
export const requestSchemas = {
  'workspace:info': emptySchema,
  'directory:get': emptySchema,
  'metadata:list': emptySchema,
  'config:resolve': z.strictObject({
    key: keySchema,
    context: contextInputSchema,
    reveal: z.boolean().optional(),
  }),
  'config:effective': z.strictObject({
    context: contextInputSchema,
    reveal: z.boolean().optional(),
  }),
  'config:entries': z.strictObject({
    level: levelSchema,
    scope: scopeSchema,
    reveal: z.boolean().optional(),
  }),
  'config:slot': z.strictObject({ level: levelSchema, scope: scopeSchema }),
  'config:keys': z.strictObject({ prefix: z.string().max(MAX_KEY).optional() }),
  'config:set': z.strictObject({
    ...slotSchema,
    value: valueSchema,
    valueType: valueTypeSchema.optional(),
    locked: z.boolean().optional(),
    reason: reasonSchema,
    expectedVersion: versionSchema,
  }),
  'config:unset': z.strictObject({
    ...slotSchema,
    reason: reasonSchema,
    expectedVersion: versionSchema,
  }),
  'audit:list': z.strictObject({
    key: keySchema.optional(),
    level: levelSchema.optional(),
    scope: scopeSchema.optional(),
    changedBy: z.string().max(MAX_ID).optional(),
    since: isoSchema.optional(),
    until: isoSchema.optional(),
    limit: z.number().int().min(1).max(MAX_AUDIT_ROWS).optional(),
  }),
  /**
   * Directory changes (tenants, departments, groups, users, memberships); PostgreSQL only. `ref`
   * is a tenant, group or user id or 'tenant/department' (a user id also matches the user's
   * memberships unless a kind is given).
   */
  'audit:directory': z.strictObject({
    kind: z.enum(DIRECTORY_AUDIT_KINDS).optional(),
    ref: z.string().min(1).max(MAX_SCOPE).optional(),
    changedBy: z.string().max(MAX_ID).optional(),
    since: isoSchema.optional(),
    until: isoSchema.optional(),
    limit: z.number().int().min(1).max(MAX_AUDIT_ROWS).optional(),
  }),
  /** Reveals one slot's secret; the reveal is recorded (with the optional reason) first. */
  'secret:reveal': z.strictObject({ ...slotSchema, reason: reasonSchema }),
  'draft:staged': emptySchema,
  'draft:discard': z.union([
    z.strictObject({ ids: z.array(z.string().min(1).max(MAX_ID)).min(1).max(MAX_IDS) }),
    z.strictObject({ all: z.literal(true) }),
  ]),
  /** `to`: the PostgreSQL URL of a draft that has no source yet (its first push creates it). */
  'draft:plan': z.strictObject({ to: targetUrlSchema.optional() }),
  /** Pulls the draft's source again: a rebase that keeps staged changes (see PullSummary). */
  'draft:pull': emptySchema,
  'draft:resolveConflict': z.strictObject({
    planId: idSchema,
    itemId: idSchema,
    choice: z.enum(['mine', 'theirs', 'edit']),
    value: valueSchema.optional(),
  }),
  'draft:push': z.strictObject({
    planId: idSchema,
    /** The operator types the target environment (or target) to confirm. */
    confirm: z.string().min(1).max(MAX_SCOPE),
    reason: reasonSchema,
    /** The PostgreSQL URL of a draft that has no source yet. */
    to: targetUrlSchema.optional(),
    /** A super_admin waives error-level policy findings, with a reason. */
    override: z.strictObject({ reason: z.string().trim().min(1).max(MAX_REASON) }).optional(),
  }),
  ...templateRequestSchemas,
  ...envRequestSchemas,
  ...impactRequestSchemas,
  ...connectionRequestSchemas,
} as const;

/** Every channel name. */
export type Channel = keyof typeof requestSchemas;

/** All channel names, in contract order. */
export const CHANNELS = Object.keys(requestSchemas) as Channel[];

/** What a caller passes on a channel. */
export type RequestOf<C extends Channel> = z.input<(typeof requestSchemas)[C]>;

/** What a handler receives after parsing. */
export type ParsedRequestOf<C extends Channel> = z.output<(typeof requestSchemas)[C]>;

/** How a key looks from one slot: its own entry and what it would inherit without it. */
export interface SlotKeyView {
  key: string;
  /** The value set at exactly this slot, if any. */
  entry: EntryView | null;
  /** The value a more general level (or env_legacy/default) supplies, ignoring this slot. */
  inherited: {
    value: string | null;
    valueType: ValueType;
    level: SourceLevel;
    scope: string;
    encrypted: boolean;
    locked: boolean;
  } | null;
  /** A more general level locks the key, so a value here has no effect. */
  lockedAbove: boolean;
}

/** The Level editor's view of one slot. */
export interface SlotView {
  level: Level;
  scope: string;
  /** The context that resolves exactly the levels down to this slot (null for global). */
  context: ContextInput | null;
  items: SlotKeyView[];
}

/** A change staged in a draft workspace, as listed in the Staged changes drawer. */
export interface StagedChangeView {
  id: string;
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  /** Display value (masked for secrets); null for unset. */
  value: string | null;
  valueType: ValueType;
  encrypted: boolean;
  locked: boolean;
  reason: string | null;
  author: string | null;
  createdAt: string;
  /** Version of the base row when the change was staged (null when the slot was empty). */
  baseVersion: number | null;
}

/** Outcome class of one plan item. */
export type PlanItemStatus = 'create' | 'update' | 'delete' | 'unchanged' | 'conflict';

/**
 * A more general level of the same key whose value moved in the target since the pull: the
 * staged value now overrides something else than it did (values masked for secrets).
 */
export interface PlanParentChange {
  level: Level;
  scope: string;
  /** The value when the draft was pulled (null: not set then). */
  base: string | null;
  /** The value in the target now (null: removed since). */
  theirs: string | null;
}

/** One slot of a plan: three-way view of base (pulled), theirs (target now) and mine (staged). */
export interface PlanItem {
  id: string;
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  base: string | null;
  theirs: string | null;
  mine: string | null;
  valueType: ValueType;
  secret: boolean;
  status: PlanItemStatus;
  /** For conflicts: how the operator chose to settle it (null while unresolved). */
  resolution: 'mine' | 'theirs' | 'edit' | null;
  reason: string | null;
  /** More general levels that changed in the target since the pull (absent: none known). */
  parentChanged?: PlanParentChange[];
}

/** A reviewed plan, ready to push once every conflict is resolved. */
export interface Plan {
  id: string;
  /** Push target with any password removed. */
  target: string;
  environment: string | null;
  createdAt: string;
  items: PlanItem[];
  summary: {
    create: number;
    update: number;
    delete: number;
    conflicts: number;
    unresolved: number;
  };
}

/** Result of a push. */
export interface PushResult {
  pushId: string;
  applied: number;
  skipped: number;
  target: string;
  environment: string | null;
}

/** Result of pulling a draft's source again. */
export interface PullSummary {
  /** 'rebased': the base was read again; 'current': the audit trail showed nothing to read. */
  mode: 'rebased' | 'current';
  /** The source, without its password. */
  source: string;
  environment: string | null;
  /** Values in the base now. */
  entries: number;
  /** Staged changes kept. */
  staged: number;
  /** Of those, the ones whose slot production changed since they were made (now conflicts). */
  moved: number;
  /** Pushes from this draft found to have landed while their outcome was unrecorded. */
  reconciled: string[];
}

/** Response types, one per channel. */
export interface ChannelResponses
  extends
    TemplateChannelResponses,
    EnvChannelResponses,
    ImpactChannelResponses,
    ConnectionChannelResponses {
  'workspace:info': WorkspaceInfo;
  'directory:get': Directory;
  'metadata:list': KeyMetadata[];
  'config:resolve': Resolution;
  'config:effective': EffectiveItem[];
  'config:entries': EntryView[];
  'config:slot': SlotView;
  'config:keys': string[];
  'config:set': WriteResult;
  'config:unset': WriteResult;
  'audit:list': AuditRecord[];
  'audit:directory': DirectoryAuditRecord[];
  'secret:reveal': { level: Level; scope: string; key: string; value: string };
  'draft:staged': StagedChangeView[];
  'draft:discard': { discarded: number };
  'draft:plan': Plan;
  'draft:pull': PullSummary;
  'draft:resolveConflict': Plan;
  'draft:push': PushResult;
}

/** What a channel answers. */
export type ResponseOf<C extends Channel> = ChannelResponses[C];

/** A safe error: a code and one sentence, never a stack and never the payload. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Every answer on every transport. */
export type Envelope<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** Progress and live-change events pushed from main to the console. */
export type StrataEvent =
  | {
      type: 'config-changed';
      changes: Array<{ level: Level; scope: string; key: string; action: 'set' | 'unset' }>;
      mode: 'live' | 'staged';
    }
  | {
      type: 'progress';
      operation: 'push' | 'pull' | 'plan';
      done: number;
      total: number;
      message: string | null;
    }
  | { type: 'staged-changed'; count: number }
  | WorkspaceChangedEvent
  | LiveStrataEvent;

/** The IPC channel (and SSE stream) events travel on. */
export const EVENTS_CHANNEL = 'strata:events';

/** Draft discard request, parsed. */
export type DiscardRequest = ParsedRequestOf<'draft:discard'>;
/** Conflict resolution request, parsed. */
export type ResolveConflictRequest = ParsedRequestOf<'draft:resolveConflict'>;
/** Push request, parsed. */
export type PushRequest = ParsedRequestOf<'draft:push'>;

/**
 * The draft/plan/push service behind the draft channels (implemented by a later task). Progress
 * reported through `onProgress` reaches the console as `progress` events.
 */
export interface DraftService {
  /** Active staged changes of the open draft, oldest first. */
  staged(): Promise<StagedChangeView[]>;
  /** Discards staged changes by id, or all of them. */
  discard(req: DiscardRequest): Promise<{ discarded: number }>;
  /** Computes a three-way plan of the staged changes against the draft's source (or `to`). */
  plan(
    onProgress?: (done: number, total: number) => void,
    opts?: { to?: string | null },
  ): Promise<Plan>;
  /** Pulls the draft's source again, keeping every staged change. */
  pull(onProgress?: (done: number, total: number) => void): Promise<PullSummary>;
  /** Settles one conflict of a plan and returns the updated plan. */
  resolveConflict(req: ResolveConflictRequest): Promise<Plan>;
  /** Pushes a fully resolved plan in one transaction. */
  push(req: PushRequest, onProgress?: (done: number, total: number) => void): Promise<PushResult>;
}

/** The API object the Electron preload exposes as `window.strata`. */
export interface StrataBridgeApi {
  /** Calls one channel; never rejects for domain errors (they come back as envelopes). */
  invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Envelope<ResponseOf<C>>>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: StrataEvent) => void): () => void;
}

/** Turns a zod failure into one sentence that names the field but never echoes the input. */
export function describeIssues(channel: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `Invalid request for ${channel}.`;
  const field = issue.path.filter((p) => typeof p === 'string' || typeof p === 'number');
  const where = field.length > 0 ? `field '${field.join('.')}'` : 'the request';
  let what: string;
  switch (issue.code) {
    case 'invalid_type':
      what = issue.input === undefined ? 'is required' : `must be ${issue.expected}`;
      break;
    case 'too_big':
      what =
        issue.origin === 'string'
          ? `is longer than ${String(issue.maximum)} characters`
          : issue.origin === 'array'
            ? `has more than ${String(issue.maximum)} items`
            : `is larger than ${String(issue.maximum)}`;
      break;
    case 'too_small':
      what =
        issue.origin === 'string'
          ? 'must not be empty'
          : issue.origin === 'array'
            ? `needs at least ${String(issue.minimum)} item(s)`
            : `is smaller than ${String(issue.minimum)}`;
      break;
    case 'unrecognized_keys':
      // The unknown names come from the caller; count them instead of echoing them.
      what = `has ${issue.keys.length} unexpected field(s)`;
      break;
    case 'invalid_value':
      what = `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
      break;
    case 'invalid_union':
      what = 'does not match any accepted form';
      break;
    case 'custom':
      what = issue.message;
      break;
    default:
      what = 'is invalid';
  }
  return `Invalid request for ${channel}: ${where} ${what}.`;
}

/** Parses a request for a channel; the error names the channel and field only. */
export function parseRequest<C extends Channel>(
  channel: C,
  request: unknown,
): { ok: true; data: ParsedRequestOf<C> } | { ok: false; error: ErrorBody } {
  const result = requestSchemas[channel].safeParse(request ?? {});
  if (result.success) return { ok: true, data: result.data as ParsedRequestOf<C> };
  return { ok: false, error: { code: 'invalid', message: describeIssues(channel, result.error) } };
}

/** True when `name` is a contract channel (own property, not inherited). */
export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, name);
}
