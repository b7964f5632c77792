/**
 * `strata push`: applies a draft's plan to its target in ONE PostgreSQL transaction.
 *
 * Order of events, and why:
 *   1. A push the draft recorded as pending but never settled (lost COMMIT, killed process) is
 *      looked up in the target's config_pushes first: if it landed, the draft records that and
 *      the push reports "already applied" instead of applying anything twice.
 *   2. The plan is computed against the target as it is now. Any unresolved conflict stops the
 *      push with exit 3 before anything is sent (like a stale Terraform plan).
 *   3. A production target needs a reason; the operator is looked up in the target's directory
 *      and every item is checked against the access matrix; an optional guardrails hook may
 *      refuse. A refusal writes nothing (exit 2).
 *   4. The push id and the staged rows it settles are made durable in the draft, THEN the
 *      transaction runs (push-sql.ts): version-checked, batched, audited with push id + reason.
 *   5. Once it committed, the draft marks its staged rows pushed and refreshes its base. If that
 *      step is interrupted, step 1 of the next run finishes it.
 * Nothing in the draft is lost on failure: staged rows change state only after a confirmed
 * commit.
 */
import { randomUUID } from 'node:crypto';
import { ConfigIndex } from '../core/config-index.js';
import { isUnresolved, type PlanItem } from '../core/plan.js';
import type { SlotChange } from '../core/impact.js';
import { StrataError } from '../core/types.js';
import type { DirectoryUser } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { MAX_REASON_LENGTH } from './config-service.js';
import { computePlan, stagedDirectoryIdOf, stagedIdOf, type DraftPlan } from './draft-plan.js';
import { pushLanded, refreshAfterPush, refreshBase } from './draft-pull.js';
import { chooseTarget, databaseId, openTarget } from './draft-target.js';
import {
  DraftWorkspace,
  type DraftPushRecord,
  type ProgressListener,
  type PushSettles,
} from './draft-workspace.js';
import { pushOperator, pushRefusals, refusedError, type PushOperator } from './push-access.js';
import { pendingApplications } from './push-templates.js';
import {
  PushAlreadyApplied,
  applyPush,
  pushConflictError,
  type PushConflictItem,
  type PushWritten,
} from './push-sql.js';

/** What a guardrails hook sees before a push writes anything. */
export interface GuardrailContext {
  plan: DraftPlan;
  /** The target (read-only use). */
  live: PostgresStore;
  operator: PushOperator;
  reason: string | null;
  /** The config changes the push writes, in stored form. */
  changes: SlotChange[];
  /** The target's whole configuration as an index (built on first call). */
  liveIndex(): Promise<ConfigIndex>;
}

/**
 * A guardrails hook (lint, policy rules): throw a StrataError to refuse the push; nothing is
 * written then. Runs after the plan and the permission check, before the transaction.
 */
export type GuardrailHook = (ctx: GuardrailContext) => Promise<void> | void;

/** Test seams for fault injection around the commit (never set in normal use). */
export interface PushFaults {
  /** Inside the transaction, just before COMMIT. */
  beforeCommit?: () => Promise<void> | void;
  /** After COMMIT, before the draft records the outcome (simulates a crash there). */
  afterCommit?: () => Promise<void> | void;
}

/** Options of a push. */
export interface PushOptions {
  /** The target for a fresh draft (a pulled draft pushes to its source). */
  to?: string | null;
  reason?: string | null;
  /** Directory user to act as (--as); else the user mapped to the connection's role. */
  operator?: string | null;
  onProgress?: ProgressListener;
  guardrails?: GuardrailHook | null;
  /** When given, the push is refused unless it equals the target's environment (or target). */
  confirm?: string | null;
  /** Called with the plan computed at push time; throw to refuse (e.g. it is not the reviewed one). */
  reviewed?: (plan: DraftPlan) => void;
  faults?: PushFaults;
}

/** The outcome of a push. */
export interface PushOutcome {
  /** applied: written now; already-applied: an earlier attempt had landed; nothing: no writes. */
  status: 'applied' | 'already-applied' | 'nothing';
  pushId: string | null;
  draft: string;
  target: string;
  environment: string | null;
  /** Configuration rows written (created, updated or deleted). */
  applied: number;
  /** Directory rows written. */
  directory: number;
  /** Metadata rows created (fresh drafts). */
  metadata: number;
  /** Template applications recorded on the target (new or changed in the draft). */
  applications: number;
  /** Items production already had (nothing written, marked pushed). */
  noop: number;
  /** Conflicts settled as "take theirs" (not written, discarded). */
  skipped: number;
  /** False when the base could not be refreshed after the push (pull again). */
  baseRefreshed: boolean;
  warning: string | null;
  /** The plan the push carried out (null when an earlier attempt had landed). */
  plan: DraftPlan | null;
}

/** Checks a push reason: trimmed text up to the service limit (null when empty). */
export function checkPushReason(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw new StrataError('invalid', 'The reason must be text.');
  if (reason.length > MAX_REASON_LENGTH) {
    throw new StrataError(
      'invalid',
      `The reason is ${reason.length} characters long; the limit is ${MAX_REASON_LENGTH}.`,
    );
  }
  const t = reason.trim();
  return t === '' ? null : t;
}

/** True for a target labelled production. */
export function isProduction(environment: string | null): boolean {
  return environment !== null && environment.trim().toLowerCase() === 'production';
}

/** The text a push is confirmed with: the environment label, else the target. */
export function confirmationOf(plan: Pick<DraftPlan, 'environment' | 'target'>): string {
  return plan.environment ?? plan.target;
}

/** The unresolved conflicts of a plan, as reported by a refused push. */
export function unresolvedConflicts(plan: DraftPlan): PushConflictItem[] {
  const out: PushConflictItem[] = [];
  for (const i of plan.items) {
    if (!isUnresolved(i)) continue;
    out.push({
      kind: 'config',
      level: i.level,
      scope: i.scope,
      key: i.key,
      name: i.level === 'global' ? `${i.key} (global)` : `${i.key} (${i.level} ${i.scope})`,
    });
  }
  for (const d of plan.directory) {
    if (d.action !== 'conflict' || d.resolution !== null) continue;
    out.push({
      kind: 'directory',
      level: d.kind,
      scope: d.ref,
      key: '',
      name: `${d.kind} ${d.ref}`,
    });
  }
  return out;
}

function settlesOf(plan: DraftPlan): PushSettles {
  const s: PushSettles = {
    written: [],
    noop: [],
    theirs: [],
    dirWritten: [],
    dirNoop: [],
    dirTheirs: [],
  };
  for (const i of plan.items) {
    const id = stagedIdOf(i.id);
    if (id === null) continue;
    if (i.write !== null) s.written.push(id);
    else if (i.action === 'no-op') s.noop.push(id);
    else if (i.resolution === 'theirs') s.theirs.push(id);
  }
  for (const d of plan.directory) {
    const id = stagedDirectoryIdOf(d.id);
    if (id === null) continue;
    if (d.write !== null) s.dirWritten.push(id);
    else if (d.action === 'no-op') s.dirNoop.push(id);
    else if (d.resolution === 'theirs') s.dirTheirs.push(id);
  }
  for (const list of Object.values(s)) list.sort((a: number, b: number) => a - b);
  return s;
}

function sameSettles(a: PushSettles, b: PushSettles): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function changesOf(items: readonly PlanItem[]): SlotChange[] {
  return items
    .filter((i) => i.write !== null)
    .map((i) => ({
      level: i.level,
      scope: i.scope,
      key: i.key,
      action: i.write === 'delete' ? 'unset' : 'set',
      value: i.write === 'delete' ? null : (i.mine?.value ?? null),
      valueType: i.mine?.valueType ?? i.live?.valueType ?? 'string',
      encrypted: i.mine?.encrypted ?? false,
      locked: i.mine?.locked ?? false,
    }));
}

/**
 * Runs the refresh of the base after a push (refreshAfterPush, or refreshBase for a push whose
 * rows the draft did not record) and returns a warning when it failed.
 */
async function refreshQuietly(
  refresh: () => Promise<{ whole: boolean }>,
  onProgress?: ProgressListener,
): Promise<string | null> {
  try {
    onProgress?.({ phase: 'refresh', done: 0, total: 1 });
    const { whole } = await refresh();
    onProgress?.({
      phase: 'refresh',
      done: 1,
      total: 1,
      ...(whole ? {} : { message: 'nothing else changed the target: values and directory kept' }),
    });
    return null;
  } catch (err) {
    const why = err instanceof StrataError ? err.message.replace(/\.$/, '') : 'unexpected error';
    return `The push landed, but the draft's base could not be refreshed (${why}); run \`strata pull\` to refresh it.`;
  }
}

function outcomeOf(
  status: PushOutcome['status'],
  ws: DraftWorkspace,
  live: PostgresStore,
  environment: string | null,
  plan: DraftPlan | null,
  pushId: string | null,
  warning: string | null,
  applications = 0,
): PushOutcome {
  const items = plan?.items ?? [];
  const dir = plan?.directory ?? [];
  return {
    status,
    pushId,
    draft: ws.path,
    target: live.target,
    environment,
    applied: status === 'applied' ? items.filter((i) => i.write !== null).length : 0,
    directory: status === 'applied' ? dir.filter((d) => d.write !== null).length : 0,
    metadata: status === 'applied' ? (plan?.metadata.length ?? 0) : 0,
    applications: status === 'applied' ? applications : 0,
    noop: items.filter((i) => i.action === 'no-op').length,
    skipped: items.filter((i) => i.resolution === 'theirs').length,
    baseRefreshed: warning === null,
    warning,
    plan,
  };
}

/** Pushes an open draft workspace (see the module comment for the order of events). */
export async function pushWorkspace(
  ws: DraftWorkspace,
  opts: PushOptions = {},
): Promise<PushOutcome> {
  const progress = opts.onProgress;
  const choice = chooseTarget(ws, opts.to);
  const reason = checkPushReason(opts.reason);
  progress?.({ phase: 'connect', done: 0, total: 1, message: choice.target });
  const live = await openTarget(choice.url);
  try {
    const pending = ws.pendingPush(databaseId(live.target));
    if (pending !== null && (await pushLanded(live, pending.id))) {
      return await settleLanded(ws, live, pending, progress);
    }

    const plan = await computePlan(ws, live, { onProgress: progress });
    if (
      opts.confirm !== undefined &&
      opts.confirm !== null &&
      opts.confirm !== confirmationOf(plan)
    ) {
      throw new StrataError(
        'invalid',
        `The push was not confirmed: type ${confirmationOf(plan)} exactly to push there.`,
      );
    }
    opts.reviewed?.(plan);
    const conflicts = unresolvedConflicts(plan);
    if (conflicts.length > 0) {
      throw pushConflictError(
        conflicts,
        'plan',
        'settle each with `strata resolve-conflict` (keep mine, take theirs or edit), then push again.',
      );
    }
    if (isProduction(plan.environment) && reason === null) {
      throw new StrataError(
        'invalid',
        `A reason is required for every push to a production database; pass --reason "<why>".`,
      );
    }
    progress?.({ phase: 'check', done: 0, total: 1 });
    const operator = await pushOperator(
      live,
      (id) => ws.directoryRow('user', id) as DirectoryUser | null,
      opts.operator ?? null,
    );
    const applications = await pendingApplications(ws, live);
    const refusals = pushRefusals(
      operator,
      plan.items,
      plan.directory,
      plan.directoryAfter,
      plan.metadata.length,
      applications,
    );
    if (refusals.length > 0) throw refusedError(refusals);
    const items = plan.items.filter((i) => i.write !== null);
    const directory = plan.directory.filter((d) => d.write !== null);
    if (opts.guardrails) {
      let index: ConfigIndex | null = null;
      await opts.guardrails({
        plan,
        live,
        operator,
        reason,
        changes: changesOf(items),
        async liveIndex() {
          if (index === null) {
            const snap = await live.snapshot();
            index = ConfigIndex.build({
              entries: snap.entries,
              directory: snap.directory,
              metadata: snap.metadata,
            });
          }
          return index;
        },
      });
    }
    progress?.({ phase: 'check', done: 1, total: 1 });

    const settles = settlesOf(plan);
    if (items.length + directory.length + plan.metadata.length + applications.length === 0) {
      // Nothing to send: settle no-ops and "theirs" in the draft alone.
      const rec: DraftPushRecord = {
        id: `none-${randomUUID()}`,
        target: databaseId(live.target),
        state: 'pending',
        settles,
        itemCount: 0,
        fresh: plan.fresh,
        operator: operator.id,
        reason,
        createdAt: new Date().toISOString(),
        finishedAt: null,
      };
      ws.finalizePushSync(
        rec,
        null,
        plan.fresh ? { source: live.target, environment: plan.environment, pulledAt: '' } : null,
        { record: false },
      );
      const warning = await refreshQuietly(
        () => refreshAfterPush(ws, live, null, progress),
        progress,
      );
      return outcomeOf('nothing', ws, live, plan.environment, plan, null, warning);
    }

    const pushId =
      pending !== null && sameSettles(pending.settles, settles) ? pending.id : randomUUID();
    const rec: DraftPushRecord = {
      id: pushId,
      target: databaseId(live.target),
      state: 'pending',
      settles,
      itemCount: items.length + directory.length,
      fresh: plan.fresh,
      operator: operator.id,
      reason,
      createdAt: new Date().toISOString(),
      finishedAt: null,
    };
    ws.recordPendingPush(rec);
    let written: PushWritten;
    try {
      written = await applyPush(live, {
        pushId,
        operator: operator.id,
        reason,
        source: ws.path,
        items,
        directory,
        metadata: plan.metadata,
        applications,
        ...(progress ? { onProgress: progress } : {}),
        ...(opts.faults?.beforeCommit ? { beforeCommit: opts.faults.beforeCommit } : {}),
      });
    } catch (err) {
      if (err instanceof PushAlreadyApplied) {
        return await settleLanded(ws, live, rec, progress);
      }
      // The pending record stays in every case: even when this attempt surely rolled back, an
      // earlier attempt with the same id may still be in flight on an orphaned connection, so
      // the next run asks config_pushes first (and reuses the id for the same changes).
      throw err;
    }
    await opts.faults?.afterCommit?.();
    progress?.({ phase: 'finalize', done: 0, total: 1 });
    try {
      ws.finalizePushSync(
        rec,
        written,
        plan.fresh ? { source: live.target, environment: plan.environment, pulledAt: '' } : null,
      );
    } catch (err) {
      const why =
        err instanceof StrataError
          ? err.message.replace(/\.$/, '')
          : String((err as Error)?.message ?? err);
      throw new StrataError(
        'internal',
        `Push ${pushId} landed on ${live.target}, but the draft could not record it (${why}); run the push again to record it: nothing is applied twice.`,
        { pushId },
      );
    }
    progress?.({ phase: 'finalize', done: 1, total: 1 });
    const warning = await refreshQuietly(
      () => refreshAfterPush(ws, live, pushId, progress),
      progress,
    );
    return outcomeOf(
      'applied',
      ws,
      live,
      plan.environment,
      plan,
      pushId,
      warning,
      applications.length,
    );
  } finally {
    await live.close();
  }
}

async function settleLanded(
  ws: DraftWorkspace,
  live: PostgresStore,
  rec: DraftPushRecord,
  progress?: ProgressListener,
): Promise<PushOutcome> {
  const environment = await live.getSetting('environment');
  ws.finalizePushSync(
    rec,
    null,
    rec.fresh ? { source: live.target, environment, pulledAt: '' } : null,
  );
  // The draft never saw the push's rows: the whole base is read again.
  const warning = await refreshQuietly(async () => {
    await refreshBase(ws, live, progress);
    return { whole: true };
  }, progress);
  const out = outcomeOf('already-applied', ws, live, environment, null, rec.id, warning);
  out.applied = rec.settles.written.length;
  out.directory = rec.settles.dirWritten.length;
  return out;
}

/** Opens a draft file, pushes it, and closes it. */
export async function pushDraft(file: string, opts: PushOptions = {}): Promise<PushOutcome> {
  const ws = DraftWorkspace.open(file);
  try {
    return await pushWorkspace(ws, opts);
  } finally {
    await ws.close();
  }
}
