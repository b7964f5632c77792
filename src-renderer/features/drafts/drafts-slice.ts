/**
 * Console state for drafts beyond the plain staged list: live changes from the target (and the
 * staged changes they now conflict with), the target URL of a draft that has no source yet, the
 * guardrail findings a push would trip and a super_admin's override, the impact and guardrails
 * panels, the point-in-time preview and reverting a whole push.
 */
import type { StrataEvent } from '../../../src-main/contract/contract.js';
import type {
  ImpactPreview,
  LintReport,
  LiveSlotChange,
  PointInTimeView,
  UserImpactView,
} from '../../../src-main/contract/impact-channels.js';
import type { Slot } from '../../../src-main/core/types.js';
import type { AuditRecord } from '../../../src-main/services/types.js';
import { call, errorMessage } from '../../store/call.js';
import type { SliceCreator } from '../../store/types.js';

/** The identity of a slot, as used to mark staged changes. */
export function slotKeyOf(s: { level: string; scope: string; key: string }): string {
  return `${s.level}\u0000${s.scope}\u0000${s.key}`;
}

/** Loading state of a panel. */
export type PanelStatus = 'idle' | 'loading' | 'ready' | 'error';

/** Drafts, live updates, impact, guardrails and point in time. */
export interface DraftsSlice {
  /** Staged slots that changed in the target after they were staged (live or on re-plan). */
  liveConflicts: Record<string, LiveSlotChange | Slot>;
  /** The most recent live changes (newest batch last). */
  liveChanges: LiveSlotChange[];
  liveStatus: { connected: boolean; message: string | null } | null;
  /** Target URL for the first push of a draft that has no source. */
  pushTarget: string;
  /** The guardrail findings of the staged set (shown in the plan). */
  planLint: LintReport | null;
  /** A super_admin's reason for overriding error-level policy findings. */
  overrideReason: string;
  impactOpen: boolean;
  impact: ImpactPreview | null;
  impactUser: UserImpactView | null;
  impactStatus: PanelStatus;
  impactError: string | null;
  guardrailsOpen: boolean;
  lint: LintReport | null;
  lintStaged: boolean;
  lintStatus: PanelStatus;
  lintError: string | null;
  /** Point in time in the Effective preview: the moment (ISO) and its view. */
  asOf: string | null;
  asOfView: PointInTimeView | null;
  asOfStatus: PanelStatus;
  asOfError: string | null;
  handleLiveEvent(event: StrataEvent): void;
  clearLiveConflicts(): void;
  setPushTarget(url: string): void;
  setOverrideReason(reason: string): void;
  loadPlanLint(): Promise<void>;
  openImpact(open: boolean): Promise<void>;
  drillImpactUser(userId: string | null, key?: string): Promise<void>;
  openGuardrails(open: boolean): Promise<void>;
  loadLint(staged: boolean): Promise<void>;
  setAsOf(at: string | null): Promise<void>;
  /** Stages the undo of every row of a past push. */
  revertPush(pushId: string): Promise<number>;
}

/** Creates the drafts slice. */
export const createDraftsSlice: SliceCreator<DraftsSlice> = (set, get, deps) => ({
  liveConflicts: {},
  liveChanges: [],
  liveStatus: null,
  pushTarget: '',
  planLint: null,
  overrideReason: '',
  impactOpen: false,
  impact: null,
  impactUser: null,
  impactStatus: 'idle',
  impactError: null,
  guardrailsOpen: false,
  lint: null,
  lintStaged: false,
  lintStatus: 'idle',
  lintError: null,
  asOf: null,
  asOfView: null,
  asOfStatus: 'idle',
  asOfError: null,

  handleLiveEvent(event) {
    if (event.type === 'live-status') {
      set({ liveStatus: { connected: event.connected, message: event.message } });
      return;
    }
    if (event.type !== 'live-changes') return;
    const marks = { ...get().liveConflicts };
    const changed = new Map(event.changes.map((c) => [slotKeyOf(c), c]));
    for (const slot of event.conflicts) {
      const k = slotKeyOf(slot);
      marks[k] = changed.get(k) ?? slot;
    }
    set((s) => ({
      liveConflicts: marks,
      liveChanges: [...s.liveChanges, ...event.changes].slice(-50),
    }));
    if (event.conflicts.length > 0) {
      const n = event.conflicts.length;
      get().notify(
        'warning',
        `${n} staged change(s) now conflict with a change made in the target; re-plan before pushing.`,
      );
      // An open plan is made again so its conflict rows (and buttons) appear at once.
      if (get().planOpen && get().planStatus === 'ready') void get().makePlan();
    }
  },

  clearLiveConflicts() {
    set({ liveConflicts: {} });
  },

  setPushTarget(url) {
    set({ pushTarget: url });
  },

  setOverrideReason(reason) {
    set({ overrideReason: reason });
  },

  async loadPlanLint() {
    if (get().info?.kind !== 'draft') {
      set({ planLint: null });
      return;
    }
    try {
      set({ planLint: await call(deps, 'lint:run', { staged: true }) });
    } catch {
      // Guardrails are re-checked by the push itself; the plan just shows nothing here.
      set({ planLint: null });
    }
  },

  async openImpact(open) {
    set({ impactOpen: open });
    if (!open) return;
    set({ impactStatus: 'loading', impactError: null, impactUser: null });
    try {
      set({
        impact: await call(deps, 'impact:preview', { includeUsers: true }),
        impactStatus: 'ready',
      });
    } catch (error) {
      set({ impactStatus: 'error', impactError: errorMessage(error) });
    }
  },

  async drillImpactUser(userId, key) {
    if (userId === null) {
      set({ impactUser: null });
      return;
    }
    try {
      const view = await call(deps, 'impact:preview', {
        userId,
        ...(key !== undefined ? { key } : {}),
      });
      set({ impactUser: view.user });
    } catch (error) {
      get().notify('error', errorMessage(error));
    }
  },

  async openGuardrails(open) {
    set({ guardrailsOpen: open });
    if (open) await get().loadLint(get().lintStaged);
  },

  async loadLint(staged) {
    set({ lintStaged: staged, lintStatus: 'loading', lintError: null });
    try {
      set({ lint: await call(deps, 'lint:run', staged ? { staged } : {}), lintStatus: 'ready' });
    } catch (error) {
      set({ lintStatus: 'error', lintError: errorMessage(error) });
    }
  },

  async setAsOf(at) {
    if (at === null) {
      set({ asOf: null, asOfView: null, asOfStatus: 'idle', asOfError: null });
      return;
    }
    const target = get().previewTarget;
    set({ asOf: at, asOfStatus: 'loading', asOfError: null });
    if (!target) {
      set({ asOfStatus: 'error', asOfError: 'Choose a user to preview first.' });
      return;
    }
    const context =
      target.kind === 'user'
        ? { userId: target.userId }
        : {
            tenantId: target.tenantId,
            ...(target.department ? { department: target.department } : {}),
            groups: target.groups,
          };
    try {
      const view = await call(deps, 'history:at', { at, context });
      set({ asOfView: view, asOfStatus: 'ready' });
    } catch (error) {
      set({ asOfStatus: 'error', asOfError: errorMessage(error) });
    }
  },

  async revertPush(pushId) {
    let records: AuditRecord[];
    try {
      records = await call(deps, 'audit:list', { limit: 5000 });
    } catch (error) {
      get().notify('error', errorMessage(error));
      return 0;
    }
    // Newest first: the oldest row of each slot holds the value before the push.
    const rows = records.filter((r) => r.pushId === pushId);
    const firstPerSlot = new Map<string, AuditRecord>();
    for (const r of rows) firstPerSlot.set(slotKeyOf(r), r);
    let staged = 0;
    for (const record of firstPerSlot.values()) {
      if (await get().revert(record)) staged++;
    }
    if (staged > 0) {
      get().notify('success', `Staged the undo of push ${pushId} (${staged} change(s)).`);
    } else if (rows.length === 0) {
      get().notify('warning', `No audit rows of push ${pushId} were found.`);
    }
    return staged;
  },
});
