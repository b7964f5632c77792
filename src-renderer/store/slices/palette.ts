/** Command palette slice: open state and the jumps it performs. */
import { categoryFor } from '../../lib/forms.js';
import type { PaletteSlice, SliceCreator } from '../types.js';

/** Creates the palette slice. */
export const createPaletteSlice: SliceCreator<PaletteSlice> = (set, get) => ({
  paletteOpen: false,

  setPaletteOpen(open) {
    set({ paletteOpen: open });
  },

  async jumpToKey(key) {
    const category = categoryFor(key, get().metaByKey[key]);
    set((s) => ({
      paletteOpen: false,
      keyFilter: key,
      focusKey: key,
      openSections: { ...s.openSections, [category]: true },
    }));
  },

  async jumpToUser(userId) {
    set({ paletteOpen: false });
    await get().select('user', userId);
  },
});
