/** Level editor slice: the selected slot's keys, unsaved inputs, chains and reveals. */
import type { Resolution } from '../../../src-main/core/types.js';
import type { SlotKeyView, SlotView } from '../../../src-main/contract/contract.js';
import { checkValue, isSecret, labelFor, valueTypeFor } from '../../lib/forms.js';
import { call, errorMessage } from '../call.js';
import type { EditorSlice, SliceCreator, StrataState } from '../types.js';

function itemFor(state: StrataState, key: string): SlotKeyView | undefined {
  return state.slot?.items.find((i) => i.key === key);
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const next = { ...record };
  delete next[key];
  return next;
}

/** Deep equality of two JSON values (slot items are plain JSON from the service). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

/**
 * The new slot with every item equal to one of the previous slot's items replaced by that
 * previous object. Rows are memoised on their item, so moving between tenants re-renders only
 * the keys whose values differ (most keys inherit the same global value everywhere).
 */
export function shareSlotItems(previous: SlotView | null, next: SlotView): SlotView {
  if (previous === null || previous.items.length === 0) return next;
  const before = new Map<string, SlotKeyView>();
  for (const item of previous.items) before.set(item.key, item);
  const items = next.items.map((item) => {
    const old = before.get(item.key);
    return old !== undefined && sameJson(old, item) ? old : item;
  });
  return { ...next, items };
}

/** A chain for the global slot, which no context resolves on its own. */
function globalChain(item: SlotKeyView): Resolution {
  const entry = item.entry;
  const inherited = item.inherited;
  const valueType = entry?.valueType ?? inherited?.valueType ?? 'string';
  return {
    key: item.key,
    value: entry?.value ?? inherited?.value ?? null,
    valueType,
    level: entry ? 'global' : 'default',
    scope: '',
    encrypted: entry?.encrypted ?? false,
    chain: [
      ...(inherited
        ? [
            {
              level: inherited.level,
              scope: inherited.scope,
              value: inherited.value,
              valueType: inherited.valueType,
              encrypted: inherited.encrypted,
              locked: inherited.locked,
              winner: !entry,
              shadowed: !!entry,
            },
          ]
        : []),
      {
        level: 'global' as const,
        scope: '',
        value: entry?.value ?? null,
        valueType: entry?.valueType ?? null,
        encrypted: entry?.encrypted ?? false,
        locked: entry?.locked ?? false,
        winner: !!entry,
        shadowed: false,
      },
    ],
  };
}

/** Creates the editor slice. */
export const createEditorSlice: SliceCreator<EditorSlice> = (set, get, deps) => {
  // The last slot loaded: select() clears `slot`, but its items can still be shared.
  let lastSlot: SlotView | null = null;
  const slotLabel = (): string => {
    const { level, scope } = get().selected;
    return scope ? `${level} ${scope}` : level;
  };

  const afterWrite = async (mode: 'live' | 'staged'): Promise<void> => {
    await Promise.all([
      get().loadSlot(),
      get().loadPreview(),
      mode === 'staged' ? get().loadServerStaged() : Promise.resolve(),
    ]);
  };

  return {
    slot: null,
    slotStatus: 'idle',
    slotError: null,
    inputs: {},
    fieldErrors: {},
    chains: {},
    revealed: {},
    openSections: {},
    keyFilter: '',
    onlySetHere: false,
    changeReason: '',
    focusKey: null,
    busyKeys: {},

    async loadSlot() {
      const { level, scope } = get().selected;
      set({ slotStatus: 'loading', slotError: null });
      try {
        const fresh = await call(deps, 'config:slot', { level, scope });
        const now = get().selected;
        if (now.level !== level || now.scope !== scope) return;
        const slot = shareSlotItems(lastSlot, fresh);
        lastSlot = slot;
        set({ slot, slotStatus: 'ready' });
        // Open chains stay open and show fresh values.
        const open = Object.keys(get().chains);
        if (open.length > 0) {
          set({ chains: {} });
          await Promise.all(open.map((key) => get().toggleChain(key)));
        }
      } catch (error) {
        set({ slotStatus: 'error', slotError: errorMessage(error) });
      }
    },

    setInput(key, value) {
      const state = get();
      const item = itemFor(state, key);
      const meta = state.metaByKey[key];
      const valueType = item ? valueTypeFor(item, meta) : (meta?.valueType ?? 'string');
      set((s) => ({
        inputs: { ...s.inputs, [key]: value },
        fieldErrors: { ...s.fieldErrors, [key]: checkValue(key, value, valueType, meta) },
      }));
    },

    resetInput(key) {
      set((s) => ({ inputs: without(s.inputs, key), fieldErrors: without(s.fieldErrors, key) }));
    },

    async save(key, reason = null) {
      const state = get();
      const value = state.inputs[key];
      const item = itemFor(state, key);
      if (value === undefined || !item) return false;
      const meta = state.metaByKey[key];
      const valueType = valueTypeFor(item, meta);
      const problem = checkValue(key, value, valueType, meta);
      if (problem) {
        set((s) => ({ fieldErrors: { ...s.fieldErrors, [key]: problem } }));
        return false;
      }
      const { level, scope } = state.selected;
      set((s) => ({ busyKeys: { ...s.busyKeys, [key]: true } }));
      try {
        const result = await call(deps, 'config:set', {
          level,
          scope,
          key,
          value,
          valueType,
          reason,
        });
        set((s) => ({ inputs: without(s.inputs, key), fieldErrors: without(s.fieldErrors, key) }));
        get().notify(
          'success',
          `${result.mode === 'staged' ? 'Staged' : 'Saved'} ${labelFor(key, meta)} at ${slotLabel()}.`,
        );
        await afterWrite(result.mode);
        return true;
      } catch (error) {
        const message = errorMessage(error);
        set((s) => ({ fieldErrors: { ...s.fieldErrors, [key]: message } }));
        get().notify('error', message);
        return false;
      } finally {
        set((s) => ({ busyKeys: without(s.busyKeys, key) }));
      }
    },

    async removeOverride(key, reason = null) {
      const { level, scope } = get().selected;
      const meta = get().metaByKey[key];
      set((s) => ({ busyKeys: { ...s.busyKeys, [key]: true } }));
      try {
        const result = await call(deps, 'config:unset', { level, scope, key, reason });
        set((s) => ({ inputs: without(s.inputs, key), fieldErrors: without(s.fieldErrors, key) }));
        get().notify(
          'success',
          `${result.mode === 'staged' ? 'Staged removal of' : 'Removed'} ${labelFor(key, meta)} at ${slotLabel()}.`,
        );
        await afterWrite(result.mode);
        return true;
      } catch (error) {
        get().notify('error', errorMessage(error));
        return false;
      } finally {
        set((s) => ({ busyKeys: without(s.busyKeys, key) }));
      }
    },

    async stageInput(key, reason) {
      const state = get();
      const value = state.inputs[key];
      const item = itemFor(state, key);
      if (value === undefined || !item) return false;
      const meta = state.metaByKey[key];
      const valueType = valueTypeFor(item, meta);
      const problem = checkValue(key, value, valueType, meta);
      if (problem) {
        set((s) => ({ fieldErrors: { ...s.fieldErrors, [key]: problem } }));
        return false;
      }
      const ok = await get().stageChange({
        level: state.selected.level,
        scope: state.selected.scope,
        key,
        action: 'set',
        value,
        valueType,
        secret: isSecret(key, meta),
        reason,
      });
      if (ok) get().resetInput(key);
      return ok;
    },

    async addKey(key, value, valueType, reason) {
      const { level, scope } = get().selected;
      const meta = get().metaByKey[key];
      const problem = checkValue(key, value, valueType, meta);
      if (problem) {
        get().notify('error', problem);
        return false;
      }
      try {
        const result = await call(deps, 'config:set', {
          level,
          scope,
          key,
          value,
          valueType,
          reason,
        });
        get().notify(
          'success',
          `${result.mode === 'staged' ? 'Staged' : 'Saved'} ${labelFor(key, meta)} at ${slotLabel()}.`,
        );
        set({ keyFilter: '', focusKey: key });
        await afterWrite(result.mode);
        return true;
      } catch (error) {
        get().notify('error', errorMessage(error));
        return false;
      }
    },

    async toggleChain(key) {
      const state = get();
      if (state.chains[key]) {
        set((s) => ({ chains: without(s.chains, key) }));
        return;
      }
      const slot = state.slot;
      const item = itemFor(state, key);
      if (!slot || !item) return;
      if (!slot.context) {
        set((s) => ({ chains: { ...s.chains, [key]: globalChain(item) } }));
        return;
      }
      set((s) => ({ chains: { ...s.chains, [key]: 'loading' } }));
      try {
        const resolution = await call(deps, 'config:resolve', { key, context: slot.context });
        set((s) => ({ chains: { ...s.chains, [key]: resolution } }));
      } catch (error) {
        set((s) => ({ chains: without(s.chains, key) }));
        get().notify('error', errorMessage(error));
      }
    },

    async reveal(key) {
      const { level, scope } = get().selected;
      try {
        const result = await call(deps, 'secret:reveal', { level, scope, key });
        set((s) => ({ revealed: { ...s.revealed, [key]: result.value } }));
      } catch (error) {
        get().notify('error', errorMessage(error));
      }
    },

    hide(key) {
      set((s) => ({ revealed: without(s.revealed, key) }));
    },

    setSectionOpen(category, open) {
      set((s) => ({ openSections: { ...s.openSections, [category]: open } }));
    },

    setKeyFilter(filter) {
      set({ keyFilter: filter });
    },

    setOnlySetHere(only) {
      set({ onlySetHere: only });
    },

    setChangeReason(reason) {
      set({ changeReason: reason });
    },

    focusOnKey(key) {
      set({ focusKey: key });
    },
  };
};
