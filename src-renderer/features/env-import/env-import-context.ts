/** React access to the .env feature store (one per console page). */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { EnvImportState, EnvImportStore } from './env-import-store.js';

const EnvImportContext = createContext<EnvImportStore | null>(null);

/** Makes the .env store available to the feature's components. */
export function EnvImportProvider(props: {
  store: EnvImportStore;
  children: ReactNode;
}): ReactNode {
  return createElement(EnvImportContext.Provider, { value: props.store }, props.children);
}

/** Selects a narrow slice of the .env feature state. */
export function useEnvImport<T>(selector: (state: EnvImportState) => T): T {
  const store = useContext(EnvImportContext);
  if (!store) throw new Error('useEnvImport needs an EnvImportProvider above it.');
  return useStore(store, selector);
}
