/**
 * The draft lifecycle as one service (docs/DRAFTS.md): pull a PostgreSQL database into a SQLite
 * draft, stage changes offline (`strata --db draft.sqlite set ...`), plan them three-way against
 * production, settle conflicts, push in one transaction, rebase. The CLI calls the functions
 * below; the console calls StrataDraftService (the contract's DraftService) over the config
 * service it already has open. Progress of long runs arrives through a ProgressListener.
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
import { StrataError } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { DirectoryUpsert, WriteContext } from '../store/store.js';
import type { StrataConfigService } from './config-service.js';
import { contractPlan, secretTest, stagedView } from './draft-display.js';
import { computePlan, type DraftPlan } from './draft-plan.js';
import { pullIntoWorkspace, reconcilePending, type PullResult } from './draft-pull.js';
import { resolveConflicts, type ResolutionRequest, type ResolveOptions } from './draft-resolve.js';
import { chooseTarget, openTarget } from './draft-target.js';
import {
  DraftWorkspace,
  type DraftProgress,
  type ProgressListener,
  type StagedDirectoryRow,
} from './draft-workspace.js';
import { pushWorkspace, type GuardrailHook, type PushOutcome } from './push-service.js';

export { pullDraft, type PullOptions, type PullResult } from './draft-pull.js';
export {
  pushDraft,
  pushWorkspace,
  type GuardrailContext,
  type GuardrailHook,
  type PushFaults,
  type PushOptions,
  type PushOutcome,
} from './push-service.js';
export { parseSlotSpec, slotSpec, type ResolutionRequest } from './draft-resolve.js';
export { planJson, pushJson, type PlanJson } from './draft-display.js';
export type { DraftPlan } from './draft-plan.js';
export {
  DraftWorkspace,
  type DraftProgress,
  type ProgressListener,
  type StagedDirectoryRow,
} from './draft-workspace.js';

/** Options for planning a draft. */
export interface PlanDraftOptions {
  /** The target of a fresh draft (a pulled draft plans against its source). */
  to?: string | null;
  onProgress?: ProgressListener;
}

/**
 * Runs `fn` with the draft's target open. A push of this draft whose outcome the draft never
 * recorded (a lost COMMIT, a killed process) is settled first if it landed.
 */
export async function withDraftTarget<T>(
  ws: DraftWorkspace,
  to: string | null | undefined,
  fn: (live: PostgresStore) => Promise<T>,
): Promise<T> {
  const choice = chooseTarget(ws, to);
  const live = await openTarget(choice.url);
  try {
    await reconcilePending(ws, live);
    return await fn(live);
  } finally {
    await live.close();
  }
}

/** The three-way plan of a draft file against its target (reads only, writes nothing). */
export async function planDraft(file: string, opts: PlanDraftOptions = {}): Promise<DraftPlan> {
  const ws = DraftWorkspace.open(file);
  try {
    return await withDraftTarget(ws, opts.to, (live) =>
      computePlan(ws, live, opts.onProgress ? { onProgress: opts.onProgress } : {}),
    );
  } finally {
    await ws.close();
  }
}

/** Records conflict resolutions in a draft file and returns its plan computed again. */
export async function resolveDraft(
  file: string,
  requests: readonly ResolutionRequest[],
  opts: ResolveOptions & { to?: string | null } = {},
): Promise<DraftPlan> {
  const ws = DraftWorkspace.open(file);
  try {
    return await withDraftTarget(ws, opts.to, (live) => resolveConflicts(ws, live, requests, opts));
  } finally {
    await ws.close();
  }
}

/**
 * Stages directory rows (tenants, departments, groups, users with their ordered groups) in a
 * draft so they are pushed with the draft's configuration changes, in the same transaction and
 * before them. The rows are also written into the draft's directory so reads (and writes to the
 * new scopes) work at once. Call it inside an open SQLite transaction to stage directory and
 * values as one unit (it then runs as a savepoint). Returns the active staged rows it wrote.
 */
export function stageDirectory(
  store: SqliteStore,
  dir: DirectoryUpsert,
  ctx: WriteContext,
): StagedDirectoryRow[] {
  if (!(store instanceof SqliteStore)) {
    throw new StrataError('invalid', 'Directory changes are staged in a draft workspace only.');
  }
  return DraftWorkspace.wrap(store).stageDirectorySync(dir, ctx);
}

/** Options of the console's draft service. */
export interface DraftServiceOptions {
  /** Target of a fresh draft (a pulled draft pushes to its source). */
  to?: string | null;
  guardrails?: GuardrailHook | null;
}

function progressAdapter(
  onProgress: ((done: number, total: number) => void) | undefined,
  ...phases: Array<DraftProgress['phase']>
): ProgressListener | undefined {
  if (!onProgress) return undefined;
  return (p) => {
    if (phases.includes(p.phase)) onProgress(p.done, p.total);
  };
}

// Plans the console reviewed, kept so a push or a resolution names the plan it was made on.
const MAX_PLANS = 8;

/** The contract's DraftService over a config service whose store is a draft. */
export class StrataDraftService implements DraftService {
  private readonly plans = new Map<string, DraftPlan>();

  constructor(
    private readonly config: StrataConfigService,
    private readonly opts: DraftServiceOptions = {},
  ) {
    if (!(config.store instanceof SqliteStore)) {
      throw new StrataError('invalid', 'Plans and pushes need a draft workspace.');
    }
  }

  private workspace(): DraftWorkspace {
    return DraftWorkspace.wrap(this.config.store as SqliteStore);
  }

  private remember(id: string, plan: DraftPlan): void {
    this.plans.delete(id);
    this.plans.set(id, plan);
    while (this.plans.size > MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
  }

  private reviewed(planId: string): DraftPlan {
    const plan = this.plans.get(planId);
    if (!plan) {
      throw new StrataError(
        'not_found',
        'That plan is no longer known (it is too old, or the console restarted); make a new plan.',
      );
    }
    return plan;
  }

  private operatorId(): string | null {
    const op = this.config.operator();
    return op.source === 'directory' ? op.id : null;
  }

  /** Active staged changes, oldest first (secrets masked). */
  async staged(): Promise<StagedChangeView[]> {
    const ws = this.workspace();
    const isSecret = secretTest(await ws.store.readMetadata());
    return ws.stagedRows().map((r) => stagedView(r, isSecret));
  }

  /** Discards staged changes by id, or all of them (directory rows too). */
  async discard(req: DiscardRequest): Promise<{ discarded: number }> {
    const ws = this.workspace();
    let n: number;
    if ('all' in req) {
      n = ws.discardSync(null) + ws.discardDirectorySync(null);
    } else {
      const ids = req.ids.map((s) => {
        if (!/^\d+$/.test(s)) {
          throw new StrataError('invalid', `'${s.slice(0, 20)}' is not a staged change id.`);
        }
        return Number(s);
      });
      n = ws.discardSync(ids);
    }
    await this.config.reload();
    return { discarded: n };
  }

  /** A new plan of the open draft against its target. */
  async plan(onProgress?: (done: number, total: number) => void): Promise<Plan> {
    const ws = this.workspace();
    const progress = progressAdapter(onProgress, 'plan');
    const plan = await withDraftTarget(ws, this.opts.to, (live) =>
      computePlan(ws, live, progress ? { onProgress: progress } : {}),
    );
    this.remember(plan.id, plan);
    return contractPlan(plan, plan.id);
  }

  /**
   * Pulls the draft's source again into the open draft: a rebase that keeps every staged
   * change, or nothing to read when the audit trail shows the base is current. Plans made
   * before it are forgotten (their base is gone).
   */
  async pull(onProgress?: (done: number, total: number) => void): Promise<PullSummary> {
    const ws = this.workspace();
    const { url } = chooseTarget(ws, this.opts.to);
    const progress = progressAdapter(onProgress, 'read', 'write');
    let r: PullResult;
    try {
      r = await pullIntoWorkspace(ws, url, progress ? { onProgress: progress } : {});
    } finally {
      await this.config.reload();
    }
    this.plans.clear();
    return {
      mode: r.mode === 'current' ? 'current' : 'rebased',
      source: r.source,
      environment: r.environment,
      entries: r.entries,
      staged: r.staged,
      moved: r.moved,
      reconciled: r.reconciled,
    };
  }

  /** Settles one conflict of a reviewed plan; answers the plan computed again (same id). */
  async resolveConflict(req: ResolveConflictRequest): Promise<Plan> {
    this.reviewed(req.planId);
    const ws = this.workspace();
    const next = await withDraftTarget(ws, this.opts.to, (live) =>
      resolveConflicts(
        ws,
        live,
        [
          {
            item: req.itemId,
            choice: req.choice,
            ...(req.value !== undefined ? { value: req.value } : {}),
          },
        ],
        { service: this.config, operator: this.config.operator().id },
      ),
    );
    await this.config.reload();
    this.remember(req.planId, next);
    return contractPlan(next, req.planId);
  }

  /** Pushes a reviewed plan after the operator typed its environment (or target) to confirm. */
  async push(
    req: PushRequest,
    onProgress?: (done: number, total: number) => void,
  ): Promise<PushResult> {
    const reviewed = this.reviewed(req.planId);
    const progress = progressAdapter(onProgress, 'push');
    let out: PushOutcome;
    try {
      out = await pushWorkspace(this.workspace(), {
        to: this.opts.to ?? null,
        reason: req.reason ?? null,
        operator: this.operatorId(),
        confirm: req.confirm,
        guardrails: this.opts.guardrails ?? null,
        ...(progress ? { onProgress: progress } : {}),
        reviewed: (plan) => assertSamePlan(reviewed, plan),
      });
    } finally {
      await this.config.reload();
    }
    this.plans.delete(req.planId);
    return {
      pushId: out.pushId ?? '',
      applied: out.applied + out.directory,
      skipped: out.skipped + out.noop,
      target: out.target,
      environment: out.environment,
    };
  }
}

/** Refuses a push whose plan differs from the one the operator reviewed. */
export function assertSamePlan(reviewed: DraftPlan, now: DraftPlan): void {
  const sig = (p: DraftPlan): string =>
    JSON.stringify([
      p.items.map((i) => [i.id, i.action, i.write, i.resolution, i.mine?.value ?? null]),
      p.directory.map((d) => [d.id, d.action, d.write, d.resolution]),
    ]);
  if (sig(reviewed) !== sig(now)) {
    throw new StrataError(
      'conflict',
      'The plan changed since you reviewed it (staged changes or production moved); review the new plan and push again.',
    );
  }
}

/** The console's draft service for a config service, or null when it is not a draft. */
export function draftServiceFor(
  config: StrataConfigService,
  opts: DraftServiceOptions = {},
): StrataDraftService | null {
  return config.store instanceof SqliteStore ? new StrataDraftService(config, opts) : null;
}
