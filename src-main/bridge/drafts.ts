/**
 * The draft service a console workspace serves: the real StrataDraftService over the open draft,
 * with the push guardrails always on (lint errors refuse a push unless a super_admin overrides
 * policy findings with a reason) and the target of a fresh draft taken from the console the
 * first time it plans or pushes. Shared by `strata serve`, `npm start` and the Electron main.
 */
import type {
  DiscardRequest,
  DraftService,
  Plan,
  PullSummary,
  PushRequest,
  PushResult,
  ResolveConflictRequest,
  StagedChangeView,
} from '../contract/contract.js';
import { StrataConfigService } from '../services/config-service.js';
import { draftServiceFor, type DraftServiceOptions } from '../services/draft-service.js';
import { pushGuardrailHook } from '../services/lint-service.js';
import type { ConfigService } from '../services/types.js';

/** Plan options the console may pass (the target of a fresh draft). */
export interface ConsolePlanOptions {
  to?: string | null;
}

/** The console's DraftService over a draft workspace, with guardrails and a settable target. */
export class ConsoleDraftService implements DraftService {
  // StrataDraftService reads these options on every call, so a target given once sticks.
  private readonly opts: DraftServiceOptions;
  private readonly inner: DraftService;

  constructor(config: StrataConfigService, inner?: DraftService) {
    this.opts = { to: null, guardrails: pushGuardrailHook(null) };
    const made = inner ?? draftServiceFor(config, this.opts);
    if (!made) throw new Error('ConsoleDraftService needs a draft workspace.');
    this.inner = made;
  }

  private useTarget(to: string | null | undefined): void {
    if (typeof to === 'string' && to.trim() !== '') this.opts.to = to.trim();
  }

  /** Active staged changes. */
  staged(): Promise<StagedChangeView[]> {
    return this.inner.staged();
  }

  /** Discards staged changes. */
  discard(req: DiscardRequest): Promise<{ discarded: number }> {
    return this.inner.discard(req);
  }

  /** A new plan; `to` names the target of a draft that has no source yet. */
  plan(
    onProgress?: (done: number, total: number) => void,
    opts: ConsolePlanOptions = {},
  ): Promise<Plan> {
    this.useTarget(opts.to);
    return this.inner.plan(onProgress);
  }

  /** Pulls the draft's source again (a rebase that keeps the staged changes). */
  pull(onProgress?: (done: number, total: number) => void): Promise<PullSummary> {
    return this.inner.pull(onProgress);
  }

  /** Settles one conflict. */
  resolveConflict(req: ResolveConflictRequest): Promise<Plan> {
    return this.inner.resolveConflict(req);
  }

  /** Pushes with the guardrails; an override (super_admin, with a reason) waives policy errors. */
  push(req: PushRequest, onProgress?: (done: number, total: number) => void): Promise<PushResult> {
    this.useTarget(req.to);
    const guardrails = this.opts.guardrails;
    this.opts.guardrails = pushGuardrailHook(req.override ? { reason: req.override.reason } : null);
    try {
      // The inner service reads its options before its first await, so restoring them right
      // after the call cannot affect this push.
      return this.inner.push(
        { planId: req.planId, confirm: req.confirm, reason: req.reason ?? null },
        onProgress,
      );
    } finally {
      this.opts.guardrails = guardrails;
    }
  }
}

/** The console draft service of a workspace, or null when it is not a draft. */
export function workspaceDrafts(service: ConfigService): ConsoleDraftService | null {
  if (!(service instanceof StrataConfigService)) return null;
  return draftServiceFor(service) ? new ConsoleDraftService(service) : null;
}
