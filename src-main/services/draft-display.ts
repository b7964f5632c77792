/**
 * How plans, pushes and staged changes look to a user: the `--json` documents of the CLI and
 * the console contract's Plan. Secret values are always masked (a plan compares secrets by
 * fingerprint, never shows them); directory rows carry no secrets.
 */
import type { Plan, PlanItem as ContractPlanItem, StagedChangeView } from '../contract/contract.js';
import { MASK } from '../core/masking.js';
import type { DirectoryPlanItem, PlanItem, PlanValue } from '../core/plan.js';
import { isSecretKey } from '../core/secret-keys.js';
import type { KeyMetadata, Level } from '../core/types.js';
import type { StagedChangeRow } from '../store/sqlite-store.js';
import type { DraftPlan } from './draft-plan.js';
import type { PushOutcome } from './push-service.js';
import { slotSpec } from './draft-resolve.js';

/** Decides which keys are secrets for display (metadata input type, or the key's name). */
export function secretTest(metadata: readonly KeyMetadata[]): (key: string) => boolean {
  const byKey = new Map(metadata.map((m) => [m.key, m]));
  return (key) => isSecretKey(key, byKey.get(key) ?? null);
}

/** A stored value as shown: masked for secrets. */
export function shownValue(v: PlanValue | null, secret: boolean): string | null {
  if (v === null) return null;
  return secret || v.encrypted ? MASK : v.value;
}

/** One plan item as the CLI's JSON shows it. */
export interface PlanItemJson {
  id: string;
  /** key@level:scope, accepted by resolve-conflict and --keep-mine / --take-theirs. */
  slot: string;
  level: string;
  scope: string;
  key: string;
  action: string;
  /** What the draft wants: set or unset. */
  change: 'set' | 'unset';
  base: string | null;
  live: string | null;
  mine: string | null;
  value_type: string | null;
  secret: boolean;
  locked: boolean;
  conflict: string | null;
  resolution: string | null;
  parent_changed: Array<{ level: Level; scope: string; base: string | null; live: string | null }>;
}

/** A plan as the CLI's JSON shows it. */
export interface PlanJson {
  draft: string;
  target: string;
  environment: string | null;
  fresh: boolean;
  created_at: string;
  items: PlanItemJson[];
  directory: Array<{
    id: string;
    kind: string;
    ref: string;
    action: string;
    base: unknown;
    live: unknown;
    mine: unknown;
    resolution: string | null;
  }>;
  metadata_to_create: number;
  /** Conflicts still unresolved (config and directory): while any remain, push writes nothing. */
  conflicts: number;
  resolved_conflicts: number;
  summary: {
    create: number;
    update: number;
    delete: number;
    no_op: number;
    conflicts: number;
    unresolved: number;
    parent_changed: number;
    directory: { create: number; update: number; no_op: number; conflicts: number };
  };
}

function itemJson(i: PlanItem, isSecret: (key: string) => boolean): PlanItemJson {
  const secret = isSecret(i.key) || (i.mine?.encrypted ?? false) || (i.live?.encrypted ?? false);
  return {
    id: i.id,
    slot: slotSpec(i),
    level: i.level,
    scope: i.scope,
    key: i.key,
    action: i.action,
    change: i.change,
    base: shownValue(i.base, secret),
    live: shownValue(i.live, secret),
    mine: shownValue(i.mine, secret),
    value_type: i.mine?.valueType ?? i.live?.valueType ?? i.base?.valueType ?? null,
    secret,
    locked: i.mine?.locked ?? false,
    conflict: i.conflict,
    resolution: i.resolution,
    parent_changed: i.parentChanged.map((p) => ({
      level: p.level,
      scope: p.scope,
      base: shownValue(p.base, secret),
      live: shownValue(p.live, secret),
    })),
  };
}

function dirJson(d: DirectoryPlanItem): PlanJson['directory'][number] {
  return {
    id: d.id,
    kind: d.kind,
    ref: d.ref,
    action: d.action,
    base: d.base,
    live: d.live,
    mine: d.mine,
    resolution: d.resolution,
  };
}

/** The `--json` document of a plan. */
export function planJson(plan: DraftPlan): PlanJson {
  const isSecret = secretTest(plan.draftMetadata);
  const s = plan.summary;
  const ds = plan.directorySummary;
  return {
    draft: plan.draft,
    target: plan.target,
    environment: plan.environment,
    fresh: plan.fresh,
    created_at: plan.createdAt,
    items: plan.items.map((i) => itemJson(i, isSecret)),
    directory: plan.directory.map(dirJson),
    metadata_to_create: plan.metadata.length,
    conflicts: s.unresolved + ds.unresolved,
    resolved_conflicts: s.conflicts - s.unresolved + (ds.conflicts - ds.unresolved),
    summary: {
      create: s.create,
      update: s.update,
      delete: s.delete,
      no_op: s.noop,
      conflicts: s.conflicts,
      unresolved: s.unresolved,
      parent_changed: s.parentChanged,
      directory: { create: ds.create, update: ds.update, no_op: ds.noop, conflicts: ds.conflicts },
    },
  };
}

/** The `--json` document of a push. */
export function pushJson(out: PushOutcome): Record<string, unknown> {
  return {
    status: out.status,
    push_id: out.pushId,
    draft: out.draft,
    target: out.target,
    environment: out.environment,
    applied: out.applied,
    directory: out.directory,
    metadata: out.metadata,
    template_applications: out.applications,
    no_op: out.noop,
    skipped: out.skipped,
    base_refreshed: out.baseRefreshed,
    warning: out.warning,
  };
}

/** The console contract's view of a plan (config items; directory rows are counted). */
export function contractPlan(plan: DraftPlan, id: string): Plan {
  const isSecret = secretTest(plan.draftMetadata);
  const items: ContractPlanItem[] = plan.items.map((i) => {
    const j = itemJson(i, isSecret);
    return {
      id: i.id,
      level: i.level,
      scope: i.scope,
      key: i.key,
      action: i.change,
      base: j.base,
      theirs: j.live,
      mine: j.mine,
      valueType: i.mine?.valueType ?? i.live?.valueType ?? 'string',
      secret: j.secret,
      status: i.action === 'no-op' ? 'unchanged' : i.action,
      resolution: i.resolution,
      reason: i.reason,
      // The JSON form already shows them (masked for secrets); the contract says theirs for live.
      parentChanged: j.parent_changed.map((p) => ({
        level: p.level,
        scope: p.scope,
        base: p.base,
        theirs: p.live,
      })),
    };
  });
  const s = plan.summary;
  const ds = plan.directorySummary;
  return {
    id,
    target: plan.target,
    environment: plan.environment,
    createdAt: plan.createdAt,
    items,
    summary: {
      create: s.create + ds.create,
      update: s.update + ds.update,
      delete: s.delete,
      conflicts: s.conflicts + ds.conflicts,
      unresolved: s.unresolved + ds.unresolved,
    },
  };
}

/** A staged change as the console's Staged changes drawer lists it. */
export function stagedView(
  r: StagedChangeRow,
  isSecret: (key: string) => boolean,
): StagedChangeView {
  const secret = r.encrypted || isSecret(r.key);
  return {
    id: String(r.id),
    level: r.level,
    scope: r.scope,
    key: r.key,
    action: r.action,
    value: r.value === null ? null : secret ? MASK : r.value,
    valueType: r.valueType,
    encrypted: r.encrypted,
    locked: r.locked,
    reason: r.reason,
    author: r.author,
    createdAt: r.createdAt,
    baseVersion: r.baseVersion,
  };
}
