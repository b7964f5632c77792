/** Navigator slice: the selected slot, collapsed tree nodes and the user search. */
import type { NavigationSlice, SliceCreator } from '../types.js';

/** Creates the navigation slice. */
export const createNavigationSlice: SliceCreator<NavigationSlice> = (set, get) => ({
  selected: { level: 'global', scope: '' },
  collapsed: {},
  userQuery: '',

  async select(level, scope) {
    const current = get().selected;
    if (current.level === level && current.scope === scope && get().slot) return;
    // One update for the selection and the loading state: each store update re-renders the editor.
    set({
      selected: { level, scope },
      slot: null,
      slotStatus: 'loading',
      slotError: null,
      inputs: {},
      fieldErrors: {},
      chains: {},
      revealed: {},
      focusKey: null,
    });
    const work: Promise<void>[] = [get().loadSlot()];
    if (level === 'user') work.push(get().setPreviewTarget({ kind: 'user', userId: scope }));
    await Promise.all(work);
  },

  toggleNode(id) {
    set((s) => ({ collapsed: { ...s.collapsed, [id]: !s.collapsed[id] } }));
  },

  setUserQuery(query) {
    set({ userQuery: query });
  },
});
