/** Workspace slice: what is open, the directory, metadata, theme, messages and live events. */
import type { KeyMetadata } from '../../../src-main/core/types.js';
import { call, errorMessage } from '../call.js';
import type { SliceCreator, WorkspaceSlice } from '../types.js';

const THEME_STORAGE = 'strata.theme';

function initialTheme(): 'light' | 'dark' {
  try {
    const saved = globalThis.localStorage?.getItem(THEME_STORAGE);
    if (saved === 'light' || saved === 'dark') return saved;
    if (globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches) return 'dark';
  } catch {
    // No storage or media queries (tests, locked-down pages): use light.
  }
  return 'light';
}

function indexMetadata(metadata: KeyMetadata[]): Record<string, KeyMetadata> {
  const byKey: Record<string, KeyMetadata> = Object.create(null) as Record<string, KeyMetadata>;
  for (const m of metadata) byKey[m.key] = m;
  return byKey;
}

/** Creates the workspace slice. */
export const createWorkspaceSlice: SliceCreator<WorkspaceSlice> = (set, get, deps) => {
  let unsubscribe: (() => void) | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  const scheduleRefresh = (): void => {
    // Several events arrive per push; refresh once they settle.
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void get().loadSlot();
      void get().loadPreview();
      void get().loadServerStaged();
      if (get().auditOpen) {
        void get().loadAudit();
        if (get().auditTab === 'directory') void get().loadDirectoryAudit();
      }
    }, 150);
  };

  return {
    status: 'idle',
    loadError: null,
    info: null,
    directory: null,
    metadata: [],
    metaByKey: {},
    themeMode: initialTheme(),
    toast: null,

    async init() {
      if (!deps.client) {
        set({
          status: 'error',
          loadError:
            'This page was opened without its access token; open the full URL that `strata serve` printed.',
        });
        return;
      }
      set({ status: 'loading', loadError: null });
      try {
        const [info, directory, metadata] = await Promise.all([
          call(deps, 'workspace:info', {}),
          call(deps, 'directory:get', {}),
          call(deps, 'metadata:list', {}),
        ]);
        set({ info, directory, metadata, metaByKey: indexMetadata(metadata), status: 'ready' });
        if (!unsubscribe) unsubscribe = deps.client.onEvent((event) => get().handleEvent(event));
        // Preview the operator when they are a directory user, else the first user.
        const firstUser = directory.users.find((u) => u.id === info.operator) ?? directory.users[0];
        await Promise.all([
          get().loadSlot(),
          get().loadServerStaged(),
          firstUser
            ? get().setPreviewTarget({ kind: 'user', userId: firstUser.id })
            : Promise.resolve(),
        ]);
      } catch (error) {
        set({ status: 'error', loadError: errorMessage(error) });
      }
    },

    async refreshWorkspace() {
      try {
        const [info, directory, metadata] = await Promise.all([
          call(deps, 'workspace:info', {}),
          call(deps, 'directory:get', {}),
          call(deps, 'metadata:list', {}),
        ]);
        set({ info, directory, metadata, metaByKey: indexMetadata(metadata) });
      } catch (error) {
        get().notify('error', errorMessage(error));
      }
    },

    async refreshInfo() {
      try {
        set({ info: await call(deps, 'workspace:info', {}) });
      } catch {
        // Keep the last known info; the next action reports any real failure.
      }
    },

    toggleTheme() {
      const next = get().themeMode === 'light' ? 'dark' : 'light';
      try {
        globalThis.localStorage?.setItem(THEME_STORAGE, next);
      } catch {
        // Not persisted; the toggle still applies to this session.
      }
      set({ themeMode: next });
    },

    notify(severity, message) {
      set({ toast: { severity, message } });
    },

    dismissToast() {
      set({ toast: null });
    },

    dispose() {
      unsubscribe?.();
      unsubscribe = null;
      if (refreshTimer) clearTimeout(refreshTimer);
      refreshTimer = null;
    },

    handleEvent(event) {
      switch (event.type) {
        case 'progress':
          if (event.operation === 'push') {
            set({ pushProgress: { done: event.done, total: event.total } });
          }
          break;
        case 'config-changed':
        case 'staged-changed':
          scheduleRefresh();
          break;
        case 'live-changes':
          get().handleLiveEvent(event);
          scheduleRefresh();
          break;
        case 'live-status':
          get().handleLiveEvent(event);
          break;
        case 'workspace-changed':
          void get().workspaceChanged(event.workspace);
          break;
        case 'rules-changed':
          if (get().guardrailsOpen) void get().loadLint(get().lintStaged);
          break;
      }
    },
  };
};
