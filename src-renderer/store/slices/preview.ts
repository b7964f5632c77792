/** Effective preview slice: the effective configuration of a user or ad-hoc context. */
import type { ContextInput } from '../../../src-main/services/types.js';
import { call, errorMessage } from '../call.js';
import type { PreviewSlice, PreviewTarget, SliceCreator } from '../types.js';

/** The service context for a preview target. */
export function contextOf(target: PreviewTarget): ContextInput {
  if (target.kind === 'user') return { userId: target.userId };
  return { tenantId: target.tenantId, department: target.department, groups: target.groups };
}

/** Creates the preview slice. */
export const createPreviewSlice: SliceCreator<PreviewSlice> = (set, get, deps) => {
  let generation = 0;
  return {
    previewTarget: null,
    compareUserId: null,
    effective: null,
    compareEffective: null,
    previewStatus: 'idle',
    previewError: null,
    previewFilter: '',

    async setPreviewTarget(target) {
      set({ previewTarget: target });
      await get().loadPreview();
    },

    async setCompareUser(userId) {
      set({ compareUserId: userId, compareEffective: null });
      await get().loadPreview();
    },

    setPreviewFilter(filter) {
      set({ previewFilter: filter });
    },

    async loadPreview() {
      const { previewTarget, compareUserId } = get();
      if (!previewTarget) {
        set({ effective: null, compareEffective: null, previewStatus: 'idle' });
        return;
      }
      const mine = ++generation;
      set({ previewStatus: 'loading', previewError: null });
      try {
        const [effective, compareEffective] = await Promise.all([
          call(deps, 'config:effective', { context: contextOf(previewTarget) }),
          compareUserId
            ? call(deps, 'config:effective', { context: { userId: compareUserId } })
            : Promise.resolve(null),
        ]);
        if (mine !== generation) return;
        set({ effective, compareEffective, previewStatus: 'ready' });
      } catch (error) {
        if (mine !== generation) return;
        set({ previewStatus: 'error', previewError: errorMessage(error) });
      }
    },
  };
};
