/**
 * Staged changes, plans and pushes. In a draft workspace the service stages every write, and
 * plans and pushes belong to the draft service. In a live workspace the console queues changes
 * itself (plaintext stays in memory, never in storage) and pushes them one by one after a plan.
 */
import { buildLocalPlan, confirmationWord, itemsToPush, settle } from '../../lib/plan.js';
import { slotId } from '../../lib/forms.js';
import type { EntryView } from '../../../src-main/services/types.js';
import { call, errorMessage } from '../call.js';
import type { LocalChange, SliceCreator, StagingSlice } from '../types.js';

function newId(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Creates the staging slice. */
export const createStagingSlice: SliceCreator<StagingSlice> = (set, get, deps) => {
  const isDraft = (): boolean => get().info?.kind === 'draft';

  // Row versions the target had when the local plan was made: a push writes only if they still hold.
  const theirsVersions = new Map<string, number | null>();

  const refreshAll = async (): Promise<void> => {
    await Promise.all([get().loadSlot(), get().loadPreview(), get().loadServerStaged()]);
  };

  return {
    local: [],
    serverStaged: [],
    draftsAvailable: true,
    drawerOpen: false,
    plan: null,
    planOpen: false,
    planStatus: 'idle',
    planError: null,
    planResult: null,
    planEdits: {},
    pushProgress: null,
    pulling: false,

    stagedCount() {
      const s = get();
      const server =
        s.info?.kind === 'draft' ? Math.max(s.serverStaged.length, s.info.stagedCount) : 0;
      return s.local.length + server;
    },

    setDrawerOpen(open) {
      set({ drawerOpen: open });
    },

    async stageChange(change) {
      try {
        if (isDraft()) {
          const base = {
            level: change.level,
            scope: change.scope,
            key: change.key,
            reason: change.reason,
          };
          if (change.action === 'set') {
            await call(deps, 'config:set', {
              ...base,
              value: change.value ?? '',
              valueType: change.valueType,
            });
          } else {
            await call(deps, 'config:unset', base);
          }
          get().notify('success', `Staged ${change.key} at ${change.level} ${change.scope}.`);
          await refreshAll();
          return true;
        }
        const entries = await call(deps, 'config:entries', {
          level: change.level,
          scope: change.scope,
        });
        const current = entries.find((e) => e.key === change.key);
        const queued: LocalChange = {
          ...change,
          id: newId(),
          stagedAt: new Date().toISOString(),
          baseValue: current?.value ?? null,
          baseVersion: current?.version ?? null,
        };
        const id = slotId(change.level, change.scope, change.key);
        set((s) => ({
          local: [...s.local.filter((c) => slotId(c.level, c.scope, c.key) !== id), queued],
        }));
        get().notify('info', `Staged ${change.key}; review it under Staged changes.`);
        return true;
      } catch (error) {
        get().notify('error', errorMessage(error));
        return false;
      }
    },

    async undo(id) {
      if (get().local.some((c) => c.id === id)) {
        set((s) => ({ local: s.local.filter((c) => c.id !== id) }));
        return;
      }
      try {
        await call(deps, 'draft:discard', { ids: [id] });
        await refreshAll();
      } catch (error) {
        get().notify('error', errorMessage(error));
      }
    },

    async loadServerStaged() {
      if (!isDraft()) {
        set({ serverStaged: [] });
        return;
      }
      await get().refreshInfo();
      if (!get().draftsAvailable) return;
      try {
        set({ serverStaged: await call(deps, 'draft:staged', {}) });
      } catch {
        // A draft without the draft service still stages; the drawer then shows only the count.
        set({ serverStaged: [], draftsAvailable: false });
      }
    },

    async pullAgain() {
      if (get().pulling) return false;
      set({ pulling: true });
      try {
        const r = await call(deps, 'draft:pull', {});
        const env = r.environment ? ` (${r.environment})` : '';
        const moved =
          r.moved > 0
            ? `; ${r.moved} of them on slots production changed since: plan to settle them`
            : '';
        const message =
          r.mode === 'current'
            ? `Nothing changed in ${r.source}${env} since this draft's last pull or push; ${r.staged} staged change(s) kept${moved}.`
            : `Pulled ${r.source}${env} again: ${r.entries} values in the base, ${r.staged} staged change(s) kept${moved}.`;
        get().notify(r.moved > 0 ? 'warning' : 'success', message);
        await Promise.all([get().refreshWorkspace(), refreshAll()]);
        return true;
      } catch (error) {
        get().notify('error', errorMessage(error));
        return false;
      } finally {
        set({ pulling: false });
      }
    },

    async makePlan() {
      set({
        planOpen: true,
        planStatus: 'planning',
        planError: null,
        planResult: null,
        plan: null,
        planEdits: {},
        pushProgress: null,
      });
      try {
        if (isDraft()) {
          const to = get().pushTarget.trim();
          const plan = await call(deps, 'draft:plan', to ? { to } : {});
          set({ plan, planStatus: 'ready' });
          await get().loadPlanLint();
          return;
        }
        const local = get().local;
        const slots = new Map<string, EntryView[]>();
        for (const change of local) {
          const id = slotId(change.level, change.scope);
          if (!slots.has(id)) {
            slots.set(
              id,
              await call(deps, 'config:entries', { level: change.level, scope: change.scope }),
            );
          }
        }
        const info = get().info;
        for (const change of local) {
          const current = slots
            .get(slotId(change.level, change.scope))
            ?.find((e) => e.key === change.key);
          theirsVersions.set(change.id, current?.version ?? null);
        }
        const plan = buildLocalPlan(
          newId(),
          local,
          (c) => slots.get(slotId(c.level, c.scope))?.find((e) => e.key === c.key),
          { target: info?.target ?? '', environment: info?.environment ?? null },
          new Date().toISOString(),
        );
        set({ plan, planStatus: 'ready' });
      } catch (error) {
        set({ planStatus: 'error', planError: errorMessage(error) });
      }
    },

    closePlan() {
      set({ planOpen: false, pushProgress: null });
      if (get().planStatus !== 'pushing') set({ planStatus: 'idle' });
    },

    setPlanEdit(itemId, value) {
      set((s) => ({ planEdits: { ...s.planEdits, [itemId]: value } }));
    },

    async resolveConflict(itemId, choice) {
      const plan = get().plan;
      if (!plan) return;
      const edited = get().planEdits[itemId];
      if (choice === 'edit' && edited === undefined) {
        get().notify('warning', 'Type the value to push before choosing Edit.');
        return;
      }
      const isLocal = get().local.some((c) => c.id === itemId);
      try {
        if (!isLocal) {
          const next = await call(deps, 'draft:resolveConflict', {
            planId: plan.id,
            itemId,
            choice,
            ...(choice === 'edit' && edited !== undefined ? { value: edited } : {}),
          });
          set({ plan: next });
          return;
        }
        if (choice === 'edit' && edited !== undefined) {
          set((s) => ({
            local: s.local.map((c) =>
              c.id === itemId ? { ...c, action: 'set' as const, value: edited } : c,
            ),
          }));
        }
        set({ plan: settle(plan, itemId, choice, edited) });
      } catch (error) {
        get().notify('error', errorMessage(error));
      }
    },

    async push(confirm, reason) {
      const plan = get().plan;
      if (!plan) return false;
      if (plan.summary.unresolved > 0) {
        get().notify(
          'warning',
          'Resolve every conflict (Keep mine or Take theirs) before pushing.',
        );
        return false;
      }
      if (confirm !== confirmationWord(plan)) {
        get().notify('warning', `Type ${confirmationWord(plan)} exactly to confirm the push.`);
        return false;
      }
      const items = itemsToPush(plan);
      set({ planStatus: 'pushing', pushProgress: { done: 0, total: items.length } });
      try {
        if (!get().local.some((c) => plan.items.some((i) => i.id === c.id))) {
          const to = get().pushTarget.trim();
          const why = get().overrideReason.trim();
          const result = await call(deps, 'draft:push', {
            planId: plan.id,
            confirm,
            reason,
            ...(to ? { to } : {}),
            ...(why ? { override: { reason: why } } : {}),
          });
          const message = `Pushed ${result.applied} change(s) to ${result.target} (push ${result.pushId}).`;
          set({
            liveConflicts: {},
            overrideReason: '',
            planStatus: 'done',
            planResult: message,
            pushProgress: { done: result.applied, total: result.applied },
          });
          get().notify('success', message);
          await refreshAll();
          return true;
        }
        const byId = new Map(get().local.map((c) => [c.id, c]));
        let done = 0;
        for (const item of items) {
          const change = byId.get(item.id);
          if (!change) continue;
          const why = change.reason ?? reason;
          // Another admin's change since the plan makes the service refuse (conflict) instead of
          // silently overwriting it.
          const expectedVersion = theirsVersions.has(change.id)
            ? (theirsVersions.get(change.id) ?? null)
            : change.baseVersion;
          if (change.action === 'set') {
            await call(deps, 'config:set', {
              level: change.level,
              scope: change.scope,
              key: change.key,
              value: change.value ?? '',
              valueType: change.valueType,
              reason: why,
              expectedVersion,
            });
          } else {
            await call(deps, 'config:unset', {
              level: change.level,
              scope: change.scope,
              key: change.key,
              reason: why,
              expectedVersion,
            });
          }
          done++;
          set({ pushProgress: { done, total: items.length } });
          set((s) => ({ local: s.local.filter((c) => c.id !== change.id) }));
        }
        const pushedIds = new Set(plan.items.map((i) => i.id));
        const message = `Pushed ${done} change(s) to ${confirmationWord(plan)}.`;
        set((s) => ({
          local: s.local.filter((c) => !pushedIds.has(c.id)),
          planStatus: 'done',
          planResult: message,
        }));
        get().notify('success', message);
        await refreshAll();
        return true;
      } catch (error) {
        const done = get().pushProgress?.done ?? 0;
        set({
          planStatus: 'error',
          planError: `Pushed ${done} of ${items.length}: ${errorMessage(error)}`,
        });
        await refreshAll();
        return false;
      }
    },
  };
};
