/**
 * Console state for the Connections screen: the saved profiles, connection tests, opening a
 * profile (the served workspace switches) and which workspace is open. After a switch
 * every other part of the console starts over from its initial state, so nothing seen or queued
 * in one environment (a staged change, a revealed secret, a plan) carries over into the next.
 */
import type {
  ConnectionList,
  ConnectionTestResult,
  CurrentWorkspace,
  ProfileView,
} from '../../../src-main/contract/connection-channels.js';
import type { RequestOf } from '../../../src-main/contract/contract.js';
import { call, errorMessage } from '../../store/call.js';
import type { SliceCreator, StrataState } from '../../store/types.js';

/** Key of the unsaved form's test result. */
export const FORM_TEST = '__form__';

/** A profile as the form edits it. */
export type ProfileDraft = RequestOf<'connections:save'>;

/** The Connections slice. */
export interface ConnectionsSlice {
  connectionsOpen: boolean;
  connections: ConnectionList | null;
  connectionsStatus: 'idle' | 'loading' | 'ready' | 'error';
  connectionsError: string | null;
  /** Test outcome per profile id (FORM_TEST for the unsaved form). */
  connectionTests: Record<string, ConnectionTestResult | 'testing'>;
  /** The profile being opened, while it opens. */
  openingProfile: string | null;
  /**
   * The open workspace as last listed or switched to (null until then). Features whose state
   * belongs to one workspace (the .env import) key on it to start over when it changes.
   */
  currentWorkspace: CurrentWorkspace | null;
  setConnectionsOpen(open: boolean): void;
  loadConnections(): Promise<void>;
  /** Saves a profile; the message of a refusal comes back for the form to show. */
  saveConnection(
    draft: ProfileDraft,
  ): Promise<{ ok: true; profile: ProfileView } | { ok: false; message: string }>;
  deleteConnection(id: string): Promise<boolean>;
  testConnection(key: string, request: RequestOf<'connections:test'>): Promise<void>;
  /** Opens a profile (production: only with `confirmed`); true once the console reloaded. */
  openConnection(id: string, confirmed: boolean): Promise<boolean>;
  /** The served workspace changed (here or in another window): start over on it. */
  workspaceChanged(workspace: CurrentWorkspace): Promise<void>;
}

/** Identity of an open workspace, to tell a new one from the one already shown. */
export function workspaceKey(w: CurrentWorkspace): string {
  return `${w.profileId ?? ''}\u0000${w.kind}\u0000${w.target}`;
}

/** Creates the Connections slice; `pristine` is the whole console's initial state. */
export function createConnectionsSlice(
  pristine: () => Partial<StrataState>,
): SliceCreator<ConnectionsSlice> {
  return (set, get, deps) => {
    let shownKey: string | null = null;

    const reload = async (workspace: CurrentWorkspace): Promise<void> => {
      shownKey = workspaceKey(workspace);
      const keep = {
        themeMode: get().themeMode,
        connections: get().connections,
        connectionsStatus: get().connectionsStatus,
      };
      set({
        ...pristine(),
        ...keep,
        currentWorkspace: workspace,
      });
      await get().init();
    };

    return {
      connectionsOpen: false,
      connections: null,
      connectionsStatus: 'idle',
      connectionsError: null,
      connectionTests: {},
      openingProfile: null,
      currentWorkspace: null,

      setConnectionsOpen(open) {
        set({ connectionsOpen: open });
        if (open) void get().loadConnections();
      },

      async loadConnections() {
        set({ connectionsStatus: 'loading', connectionsError: null });
        try {
          const list = await call(deps, 'connections:list', {});
          set({ connections: list, connectionsStatus: 'ready', currentWorkspace: list.current });
          shownKey ??= workspaceKey(list.current);
        } catch (error) {
          set({ connectionsStatus: 'error', connectionsError: errorMessage(error) });
        }
      },

      async saveConnection(draft) {
        try {
          const profile = await call(deps, 'connections:save', draft);
          // A test result belongs to the settings it was made with.
          const tests = { ...get().connectionTests };
          delete tests[profile.id];
          delete tests[FORM_TEST];
          set({ connectionTests: tests });
          await get().loadConnections();
          return { ok: true, profile };
        } catch (error) {
          return { ok: false, message: errorMessage(error) };
        }
      },

      async deleteConnection(id) {
        try {
          await call(deps, 'connections:delete', { id });
          await get().loadConnections();
          return true;
        } catch (error) {
          set({ connectionsError: errorMessage(error) });
          return false;
        }
      },

      async testConnection(key, request) {
        set({ connectionTests: { ...get().connectionTests, [key]: 'testing' } });
        let result: ConnectionTestResult;
        try {
          result = await call(deps, 'connections:test', request);
        } catch (error) {
          result = {
            ok: false,
            status: 'failed',
            message: errorMessage(error),
            schemaVersion: null,
            operator: null,
            traits: [],
            canWrite: false,
            databaseEnvironment: null,
          };
        }
        set({ connectionTests: { ...get().connectionTests, [key]: result } });
      },

      async openConnection(id, confirmed) {
        set({ openingProfile: id, connectionsError: null });
        try {
          const workspace = await call(deps, 'connections:open', { id, confirmed });
          set({ openingProfile: null });
          await reload(workspace);
          void get().loadConnections();
          get().notify('success', `Opened ${workspace.name}.`);
          return true;
        } catch (error) {
          set({ openingProfile: null, connectionsError: errorMessage(error) });
          return false;
        }
      },

      async workspaceChanged(workspace) {
        // The window that opened it has reloaded already; other windows follow.
        if (shownKey === workspaceKey(workspace) || get().openingProfile !== null) return;
        await reload(workspace);
        get().notify('info', `The console switched to ${workspace.name}.`);
      },
    };
  };
}
