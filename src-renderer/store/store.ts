/**
 * The one bound store. Created per client so tests and both transports get their own; the React
 * tree reads it through StoreProvider / useStrata.
 */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { createStore, useStore, type StoreApi } from 'zustand';
import type { StrataClient } from '../../src-main/contract/client.js';
import { createAuditSlice } from './slices/audit.js';
import { createEditorSlice } from './slices/editor.js';
import { createNavigationSlice } from './slices/navigation.js';
import { createPaletteSlice } from './slices/palette.js';
import { createPreviewSlice } from './slices/preview.js';
import { createStagingSlice } from './slices/staging.js';
import { createWorkspaceSlice } from './slices/workspace.js';
import { createTemplatesSlice } from '../features/templates/templates-slice.js';
import { createDraftsSlice } from '../features/drafts/drafts-slice.js';
import { createConnectionsSlice } from '../features/connections/connections-slice.js';
import type { StoreDeps, StrataState } from './types.js';

/** A console store instance. */
export type StrataStore = StoreApi<StrataState>;

/** Creates a store bound to a client (null: not connected). */
export function createStrataStore(client: StrataClient | null): StrataStore {
  const deps: StoreDeps = { client };
  // The initial data of every slice: a switch to another workspace starts over from it.
  let pristine: Partial<StrataState> = {};
  const store = createStore<StrataState>()((set, get) => ({
    ...createWorkspaceSlice(set, get, deps),
    ...createNavigationSlice(set, get, deps),
    ...createEditorSlice(set, get, deps),
    ...createPreviewSlice(set, get, deps),
    ...createStagingSlice(set, get, deps),
    ...createAuditSlice(set, get, deps),
    ...createPaletteSlice(set, get, deps),
    ...createTemplatesSlice(set, get, deps),
    ...createDraftsSlice(set, get, deps),
    ...createConnectionsSlice(() => pristine)(set, get, deps),
  }));
  pristine = Object.fromEntries(
    Object.entries(store.getState()).filter(([, v]) => typeof v !== 'function'),
  ) as Partial<StrataState>;
  return store;
}

const StoreContext = createContext<StrataStore | null>(null);

/** Makes a store available to the components below. */
export function StoreProvider(props: { store: StrataStore; children: ReactNode }): ReactNode {
  return createElement(StoreContext.Provider, { value: props.store }, props.children);
}

/** Selects a narrow slice of the console state. */
export function useStrata<T>(selector: (state: StrataState) => T): T {
  return useStore(useStrataStore(), selector);
}

/**
 * The store itself, for event handlers that read state when they run (getState()) instead of
 * subscribing a component to it.
 */
export function useStrataStore(): StrataStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStrata needs a StoreProvider above it.');
  return store;
}
