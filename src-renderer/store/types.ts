/**
 * The console's state: one bound zustand store made of typed slices. Components select narrow
 * fields; every call to main goes through a store action (which uses the typed client).
 */
import type {
  Directory,
  KeyMetadata,
  Level,
  Resolution,
  ValueType,
} from '../../src-main/core/types.js';
import type {
  Plan,
  SlotView,
  StagedChangeView,
  StrataEvent,
} from '../../src-main/contract/contract.js';
import type {
  AuditRecord,
  ContextInput,
  DirectoryAuditRecord,
  DirectoryHistoryFilter,
  EffectiveItem,
  HistoryFilter,
  WorkspaceInfo,
} from '../../src-main/services/types.js';
import type { StrataClient } from '../../src-main/contract/client.js';
import type { TemplatesSlice } from '../features/templates/templates-slice.js';
import type { DraftsSlice } from '../features/drafts/drafts-slice.js';
import type { ConnectionsSlice } from '../features/connections/connections-slice.js';

/** Store dependencies (the client is null when the page has no way to reach main). */
export interface StoreDeps {
  client: StrataClient | null;
}

/** A one-line message for the operator. */
export interface Toast {
  severity: 'success' | 'info' | 'warning' | 'error';
  message: string;
}

/** Workspace, directory, metadata, theme and messages. */
export interface WorkspaceSlice {
  status: 'idle' | 'loading' | 'ready' | 'error';
  loadError: string | null;
  info: WorkspaceInfo | null;
  directory: Directory | null;
  metadata: KeyMetadata[];
  metaByKey: Record<string, KeyMetadata>;
  themeMode: 'light' | 'dark';
  toast: Toast | null;
  init(): Promise<void>;
  refreshWorkspace(): Promise<void>;
  /** Re-reads only the workspace info (staged count, environment). */
  refreshInfo(): Promise<void>;
  toggleTheme(): void;
  notify(severity: Toast['severity'], message: string): void;
  dismissToast(): void;
  handleEvent(event: StrataEvent): void;
  /** Stops the event subscription (the page is going away). */
  dispose(): void;
}

/** A place in the hierarchy. */
export interface SlotRef {
  level: Level;
  scope: string;
}

/** Navigator: the selected slot, collapsed tree nodes and the user search. */
export interface NavigationSlice {
  selected: SlotRef;
  collapsed: Record<string, boolean>;
  userQuery: string;
  select(level: Level, scope: string): Promise<void>;
  toggleNode(id: string): void;
  setUserQuery(query: string): void;
}

/** The Level editor of the selected slot. */
export interface EditorSlice {
  slot: SlotView | null;
  slotStatus: 'idle' | 'loading' | 'ready' | 'error';
  slotError: string | null;
  /** Edited, unsaved input per key. */
  inputs: Record<string, string>;
  /** Inline validation message per key. */
  fieldErrors: Record<string, string | null>;
  chains: Record<string, Resolution | 'loading'>;
  revealed: Record<string, string>;
  openSections: Record<string, boolean>;
  keyFilter: string;
  /** Only keys set at exactly this slot. */
  onlySetHere: boolean;
  /** Reason recorded with the next Save, Stage or Remove override. */
  changeReason: string;
  focusKey: string | null;
  busyKeys: Record<string, boolean>;
  loadSlot(): Promise<void>;
  setInput(key: string, value: string): void;
  resetInput(key: string): void;
  save(key: string, reason?: string | null): Promise<boolean>;
  removeOverride(key: string, reason?: string | null): Promise<boolean>;
  stageInput(key: string, reason: string | null): Promise<boolean>;
  /** Sets a key not listed at this slot yet (no metadata, nothing inherited). */
  addKey(key: string, value: string, valueType: ValueType, reason: string | null): Promise<boolean>;
  toggleChain(key: string): Promise<void>;
  reveal(key: string): Promise<void>;
  hide(key: string): void;
  setSectionOpen(category: string, open: boolean): void;
  setKeyFilter(filter: string): void;
  setOnlySetHere(only: boolean): void;
  setChangeReason(reason: string): void;
  focusOnKey(key: string | null): void;
}

/** Who the Effective preview resolves for. */
export type PreviewTarget =
  | { kind: 'user'; userId: string }
  | { kind: 'adhoc'; tenantId: string; department: string | null; groups: string[] };

/** The Effective preview (and the side-by-side comparison). */
export interface PreviewSlice {
  previewTarget: PreviewTarget | null;
  compareUserId: string | null;
  effective: EffectiveItem[] | null;
  compareEffective: EffectiveItem[] | null;
  previewStatus: 'idle' | 'loading' | 'ready' | 'error';
  previewError: string | null;
  previewFilter: string;
  setPreviewTarget(target: PreviewTarget | null): Promise<void>;
  setCompareUser(userId: string | null): Promise<void>;
  setPreviewFilter(filter: string): void;
  loadPreview(): Promise<void>;
}

/** A change queued in the console (live workspaces), pushed later through a plan. */
export interface LocalChange {
  id: string;
  level: Level;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  /** Plaintext for set (held in memory only), null for unset. */
  value: string | null;
  valueType: ValueType;
  secret: boolean;
  reason: string | null;
  /** The slot's stored value and version when the change was staged (the plan's base). */
  baseValue: string | null;
  baseVersion: number | null;
  stagedAt: string;
}

/** Staged changes, plans and pushes. */
export interface StagingSlice {
  local: LocalChange[];
  serverStaged: StagedChangeView[];
  /** False once the workspace answered that it has no draft service. */
  draftsAvailable: boolean;
  drawerOpen: boolean;
  plan: Plan | null;
  planOpen: boolean;
  planStatus: 'idle' | 'planning' | 'ready' | 'pushing' | 'done' | 'error';
  planError: string | null;
  /** Outcome of the last push, shown inside the plan (toasts are hidden behind the dialog). */
  planResult: string | null;
  /** Edited values for conflicts settled with "edit". */
  planEdits: Record<string, string>;
  pushProgress: { done: number; total: number } | null;
  /** True while the draft's source is being pulled again. */
  pulling: boolean;
  stagedCount(): number;
  setDrawerOpen(open: boolean): void;
  stageChange(
    change: Omit<LocalChange, 'id' | 'stagedAt' | 'baseValue' | 'baseVersion'>,
  ): Promise<boolean>;
  undo(id: string): Promise<void>;
  loadServerStaged(): Promise<void>;
  makePlan(): Promise<void>;
  /** Pulls the draft's source again (a rebase keeping staged changes); false when refused. */
  pullAgain(): Promise<boolean>;
  closePlan(): void;
  setPlanEdit(itemId: string, value: string): void;
  resolveConflict(itemId: string, choice: 'mine' | 'theirs' | 'edit'): Promise<void>;
  push(confirm: string, reason: string | null): Promise<boolean>;
}

/** Which tab of the audit log is shown: configuration changes or directory changes. */
export type AuditTab = 'config' | 'directory';

/** The directory tab's filter (the row id, the kind and who changed it). */
export type DirectoryAuditFilter = Pick<DirectoryHistoryFilter, 'ref' | 'kind' | 'changedBy'>;

/** The audit log. */
export interface AuditSlice {
  auditOpen: boolean;
  auditTab: AuditTab;
  auditFilter: HistoryFilter;
  auditRecords: AuditRecord[] | null;
  auditStatus: 'idle' | 'loading' | 'ready' | 'error';
  auditError: string | null;
  directoryAuditFilter: DirectoryAuditFilter;
  /** Directory changes (PostgreSQL only; a draft answers an error, kept in directoryAuditError). */
  directoryAuditRecords: DirectoryAuditRecord[] | null;
  directoryAuditStatus: 'idle' | 'loading' | 'ready' | 'error';
  directoryAuditError: string | null;
  setAuditOpen(open: boolean): void;
  /** Shows a tab; the directory tab loads its records. */
  setAuditTab(tab: AuditTab): void;
  setAuditFilter(filter: HistoryFilter): void;
  setDirectoryAuditFilter(filter: DirectoryAuditFilter): void;
  loadAudit(): Promise<void>;
  loadDirectoryAudit(): Promise<void>;
  revert(record: AuditRecord): Promise<boolean>;
}

/** The command palette. */
export interface PaletteSlice {
  paletteOpen: boolean;
  setPaletteOpen(open: boolean): void;
  jumpToKey(key: string): Promise<void>;
  jumpToUser(userId: string): Promise<void>;
}

/** The whole console state. */
export type StrataState = WorkspaceSlice &
  NavigationSlice &
  EditorSlice &
  PreviewSlice &
  StagingSlice &
  AuditSlice &
  PaletteSlice &
  TemplatesSlice &
  DraftsSlice &
  ConnectionsSlice;

/** Signature of a slice creator. */
export type SliceCreator<T> = (
  set: (partial: Partial<StrataState> | ((s: StrataState) => Partial<StrataState>)) => void,
  get: () => StrataState,
  deps: StoreDeps,
) => T;

/** Context helper shared by slices. */
export type { ContextInput };
