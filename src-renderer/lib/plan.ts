/**
 * Planning for changes queued in the console against a live workspace: the same three-way Plan
 * the draft service produces (base = the value when the change was staged, theirs = the value
 * now, mine = the staged value), so one Plan view serves both.
 */
import { MASK } from '../../src-main/core/masking.js';
import type {
  Plan,
  PlanItem,
  PlanItemStatus,
  PlanParentChange,
} from '../../src-main/contract/contract.js';
import type { EntryView } from '../../src-main/services/types.js';
import type { LocalChange } from '../store/types.js';
import { levelName } from './forms.js';

/** The current state of a slot as the target reports it (undefined when nothing is set). */
export type CurrentLookup = (change: LocalChange) => EntryView | undefined;

function statusOf(change: LocalChange, current: EntryView | undefined): PlanItemStatus {
  const theirsVersion = current?.version ?? null;
  if (theirsVersion !== change.baseVersion) return 'conflict';
  if (change.action === 'unset') return current ? 'delete' : 'unchanged';
  if (!current) return 'create';
  // Secrets are compared by version only: their stored text never equals the plaintext.
  if (!change.secret && current.value === change.value) return 'unchanged';
  return 'update';
}

/** Counts of a plan's items. */
export function summarise(items: readonly PlanItem[]): Plan['summary'] {
  const count = (s: PlanItemStatus): number => items.filter((i) => i.status === s).length;
  return {
    create: count('create'),
    update: count('update'),
    delete: count('delete'),
    conflicts: count('conflict'),
    unresolved: items.filter((i) => i.status === 'conflict' && i.resolution === null).length,
  };
}

/** Builds a plan for queued changes. */
export function buildLocalPlan(
  id: string,
  changes: readonly LocalChange[],
  current: CurrentLookup,
  target: { target: string; environment: string | null },
  now: string,
): Plan {
  const items: PlanItem[] = changes.map((change) => {
    const entry = current(change);
    const shown = (v: string | null): string | null => (change.secret && v !== null ? MASK : v);
    return {
      id: change.id,
      level: change.level,
      scope: change.scope,
      key: change.key,
      action: change.action,
      base: shown(change.baseValue),
      theirs: entry ? entry.value : null,
      mine: change.action === 'unset' ? null : shown(change.value),
      valueType: change.valueType,
      secret: change.secret,
      status: statusOf(change, entry),
      resolution: null,
      reason: change.reason,
    };
  });
  return {
    id,
    target: target.target,
    environment: target.environment,
    createdAt: now,
    items,
    summary: summarise(items),
  };
}

/** Applies an operator's choice to one conflict of a local plan. */
export function settle(
  plan: Plan,
  itemId: string,
  choice: 'mine' | 'theirs' | 'edit',
  edited?: string,
): Plan {
  const items = plan.items.map((item) => {
    if (item.id !== itemId) return item;
    const next: PlanItem = { ...item, resolution: choice };
    if (choice === 'edit' && edited !== undefined) {
      next.mine = item.secret ? MASK : edited;
      next.action = 'set';
    }
    return next;
  });
  return { ...plan, items, summary: summarise(items) };
}

/** The text the operator must type to confirm a push. */
export function confirmationWord(plan: Pick<Plan, 'environment' | 'target'>): string {
  return plan.environment ?? plan.target;
}

/** Items a push writes: everything except unchanged items and conflicts settled as "theirs". */
export function itemsToPush(plan: Plan): PlanItem[] {
  return plan.items.filter(
    (i) => i.status !== 'unchanged' && !(i.status === 'conflict' && i.resolution === 'theirs'),
  );
}

/** A value as a plan line quotes it: JSON-quoted, or "(not set)". */
export function showValue(v: string | null): string {
  return v === null ? '(not set)' : JSON.stringify(v);
}

/**
 * The note shown under a plan item whose more general level moved since the pull, e.g.
 * "Tenant value changed in production since your pull: "a" -> "b"". Values arrive masked for
 * secrets; this only formats them.
 */
export function describeParentChange(change: PlanParentChange, environment: string | null): string {
  const where = change.level === 'global' ? '' : ` (${change.scope})`;
  return `${levelName(change.level)}${where} value changed in ${environment ?? 'the target'} since your pull: ${showValue(change.base)} -> ${showValue(change.theirs)}`;
}
