/**
 * State of the .env features (import wizard, export, legacy attachment). A store of its own,
 * bound to the same kind of typed client as the console's store; every call to main is an
 * action here, never in a component.
 */
import { createStore, type StoreApi } from 'zustand';
import { ClientError, type StrataClient } from '../../../src-main/contract/client.js';
import type { Channel, RequestOf, ResponseOf } from '../../../src-main/contract/contract.js';
import type {
  EnvExport,
  EnvPreview,
  EnvStageResult,
  LegacyStatus,
} from '../../../src-main/contract/env-channels.js';
import type { Level, ValueType } from '../../../src-main/core/types.js';
import { readEnvFile, readEnvFiles, type DroppedFile } from './read-files.js';

/** Wizard steps, in order. */
export const STEPS = ['File', 'Mapping', 'Placement', 'Preview', 'Stage'] as const;

/** Where every key goes: auto by the rules, or one level for all. */
export type PlacementMode = 'auto' | Level;

/** A per-row correction made in the wizard. */
export interface RowOverride {
  level?: Level;
  scope?: string;
  valueType?: ValueType;
}

/** Who an export is for. */
export type ExportContext = RequestOf<'env:export'>['context'];

/** The .env feature state and actions. */
export interface EnvImportState {
  wizardOpen: boolean;
  step: number;
  files: DroppedFile[];
  activeId: string | null;
  placementMode: PlacementMode;
  /** Tenant for tenant-level keys under auto; the scope of the chosen level otherwise. */
  scope: string;
  /** Edited env name -> key pairs (on top of the saved mapping). */
  mapping: Record<string, string>;
  saveMapping: boolean;
  overrides: Record<string, RowOverride>;
  preview: EnvPreview | null;
  previewStatus: 'idle' | 'loading' | 'ready' | 'error';
  previewError: string | null;
  /** Rows ticked for import, by env name. */
  selected: Record<string, boolean>;
  reason: string;
  stageStatus: 'idle' | 'staging' | 'done' | 'error';
  stageError: string | null;
  result: EnvStageResult | null;

  exportOpen: boolean;
  exportStatus: 'idle' | 'loading' | 'ready' | 'error';
  exportError: string | null;
  exported: EnvExport | null;

  legacyOpen: boolean;
  legacy: LegacyStatus | null;
  legacyStatus: 'idle' | 'loading' | 'ready' | 'error';
  legacyError: string | null;
  legacyFileErrors: DroppedFile['errors'];

  addFiles(files: readonly File[]): Promise<void>;
  openWizard(): void;
  closeWizard(): void;
  chooseFile(id: string): void;
  setStep(step: number): Promise<void>;
  setMappingKey(envKey: string, key: string): void;
  setSaveMapping(save: boolean): void;
  setPlacement(mode: PlacementMode, scope: string): void;
  setOverride(envKey: string, override: RowOverride | null): void;
  loadPreview(): Promise<void>;
  toggleRow(envKey: string, on: boolean): void;
  setReason(reason: string): void;
  stage(): Promise<boolean>;
  nextFile(): void;

  setExportOpen(open: boolean): void;
  /** Exports a context; with secrets, `reason` is recorded with each secret's reveal. */
  exportEnv(
    context: ExportContext,
    includeSecrets: boolean,
    reason?: string | null,
  ): Promise<EnvExport | null>;

  setLegacyOpen(open: boolean): Promise<void>;
  attachLegacy(file: File): Promise<void>;
  detachLegacy(): Promise<void>;
}

/** A .env feature store instance. */
export type EnvImportStore = StoreApi<EnvImportState>;

function message(error: unknown): string {
  if (error instanceof ClientError) return error.message;
  return 'Something went wrong; the details are in the log.';
}

/** Creates the store over a client (null: not connected; actions then report that). */
export function createEnvImportStore(
  client: StrataClient | null,
  hooks: {
    onStaged?: (result: EnvStageResult) => void;
    /** The legacy attachment changed, so effective values may have too. */
    onLegacyChanged?: (status: LegacyStatus) => void;
  } = {},
): EnvImportStore {
  const call = <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    if (!client) {
      return Promise.reject(
        new ClientError(
          'forbidden',
          'The console is not connected; open the URL printed at start.',
        ),
      );
    }
    return client.invoke(channel, request);
  };

  return createStore<EnvImportState>()((set, get) => {
    // Only the newest preview request may land; an older answer would describe other choices.
    let previewSeq = 0;
    const active = (): DroppedFile | null =>
      get().files.find((f) => f.id === get().activeId) ?? null;

    const request = (): RequestOf<'env:preview'> | null => {
      const file = active();
      if (!file || file.content === null) return null;
      const s = get();
      const mapping = Object.entries(s.mapping).map(([envKey, key]) => ({ envKey, key }));
      const overrides = Object.entries(s.overrides).map(([envKey, o]) => ({ envKey, ...o }));
      return {
        fileName: file.name,
        content: file.content,
        placement:
          s.placementMode === 'auto'
            ? 'auto'
            : { level: s.placementMode, scope: s.placementMode === 'global' ? '' : s.scope },
        tenant: s.placementMode === 'auto' && s.scope !== '' ? s.scope : null,
        ...(mapping.length > 0 ? { mapping } : {}),
        ...(overrides.length > 0 ? { overrides } : {}),
      };
    };

    const freshImport = {
      mapping: {},
      overrides: {},
      preview: null,
      previewStatus: 'idle' as const,
      previewError: null,
      selected: {},
      stageStatus: 'idle' as const,
      stageError: null,
      result: null,
    };

    return {
      wizardOpen: false,
      step: 0,
      files: [],
      activeId: null,
      placementMode: 'auto',
      scope: '',
      saveMapping: false,
      reason: '',
      ...freshImport,

      exportOpen: false,
      exportStatus: 'idle',
      exportError: null,
      exported: null,

      legacyOpen: false,
      legacy: null,
      legacyStatus: 'idle',
      legacyError: null,
      legacyFileErrors: [],

      async addFiles(files) {
        if (files.length === 0) return;
        const read = await readEnvFiles(files);
        const all = [...get().files.filter((f) => !f.staged), ...read];
        const firstReady = read.find((f) => f.content !== null) ?? null;
        const keepActive = get().wizardOpen && get().step > 0 && active() !== null;
        set({
          files: all,
          wizardOpen: true,
          ...(keepActive
            ? {}
            : { step: 0, activeId: firstReady?.id ?? null, reason: '', ...freshImport }),
        });
      },

      openWizard() {
        set({ wizardOpen: true });
      },

      closeWizard() {
        set({ wizardOpen: false, step: 0, files: [], activeId: null, reason: '', ...freshImport });
      },

      chooseFile(id) {
        if (id === get().activeId) return;
        set({ activeId: id, reason: '', ...freshImport });
      },

      async setStep(step) {
        const s = get();
        if (step < 0 || step >= STEPS.length) return;
        if (step > 0 && (!active() || active()!.content === null)) return;
        if (s.step === 1 && step > 1 && s.saveMapping && s.preview) {
          // Save what the mapping step shows: the saved pairs plus this import's edits.
          const merged = new Map(s.preview.mapping.map((p) => [p.envKey, p.key]));
          for (const [envKey, key] of Object.entries(s.mapping)) merged.set(envKey, key);
          try {
            await call('env:saveMappings', {
              mapping: [...merged].map(([envKey, key]) => ({ envKey, key })),
            });
          } catch (error) {
            set({ previewStatus: 'error', previewError: message(error) });
            return;
          }
        }
        set({ step });
        if (step >= 1 && step <= 3) await get().loadPreview();
      },

      setMappingKey(envKey, key) {
        set({ mapping: { ...get().mapping, [envKey]: key } });
      },

      setSaveMapping(save) {
        set({ saveMapping: save });
      },

      setPlacement(mode, scope) {
        set({ placementMode: mode, scope: mode === 'global' ? '' : scope });
      },

      setOverride(envKey, override) {
        const next = { ...get().overrides };
        if (override === null || (override.level === undefined && override.scope === undefined)) {
          delete next[envKey];
        } else {
          next[envKey] = override;
        }
        set({ overrides: next });
      },

      async loadPreview() {
        const req = request();
        if (!req) return;
        const mine = ++previewSeq;
        set({ previewStatus: 'loading', previewError: null });
        try {
          const preview = await call('env:preview', req);
          if (mine !== previewSeq) return;
          const selected: Record<string, boolean> = {};
          for (const item of preview.items) {
            selected[item.envKey] = item.action === 'create' || item.action === 'update';
          }
          set({ preview, previewStatus: 'ready', selected });
        } catch (error) {
          if (mine === previewSeq) set({ previewStatus: 'error', previewError: message(error) });
        }
      },

      toggleRow(envKey, on) {
        const item = get().preview?.items.find((i) => i.envKey === envKey);
        if (!item || item.action === 'invalid' || item.action === 'unchanged') return;
        set({ selected: { ...get().selected, [envKey]: on } });
      },

      setReason(reason) {
        set({ reason });
      },

      async stage() {
        const req = request();
        const preview = get().preview;
        if (!req || !preview) return false;
        const select = preview.items.filter((i) => get().selected[i.envKey]).map((i) => i.envKey);
        if (select.length === 0) return false;
        const includeRedundant = preview.items.some(
          (i) => i.action === 'redundant' && get().selected[i.envKey],
        );
        set({ stageStatus: 'staging', stageError: null });
        try {
          const result = await call('env:stage', {
            ...req,
            select,
            includeRedundant,
            reason: get().reason.trim() === '' ? null : get().reason.trim(),
          });
          const id = get().activeId;
          set({
            stageStatus: 'done',
            result,
            step: STEPS.length - 1,
            files: get().files.map((f) => (f.id === id ? { ...f, staged: true } : f)),
          });
          hooks.onStaged?.(result);
          return true;
        } catch (error) {
          set({ stageStatus: 'error', stageError: message(error) });
          return false;
        }
      },

      nextFile() {
        const next = get().files.find((f) => !f.staged && f.content !== null);
        if (!next) {
          get().closeWizard();
          return;
        }
        set({ activeId: next.id, step: 0, reason: '', ...freshImport });
      },

      setExportOpen(open) {
        set({ exportOpen: open, exportStatus: 'idle', exportError: null, exported: null });
      },

      async exportEnv(context, includeSecrets, reason) {
        set({ exportStatus: 'loading', exportError: null });
        try {
          const why = includeSecrets ? (reason ?? '').trim() : '';
          const exported = await call('env:export', {
            context,
            includeSecrets,
            ...(why !== '' ? { reason: why } : {}),
          });
          set({ exportStatus: 'ready', exported });
          return exported;
        } catch (error) {
          set({ exportStatus: 'error', exportError: message(error), exported: null });
          return null;
        }
      },

      async setLegacyOpen(open) {
        set({ legacyOpen: open, legacyError: null, legacyFileErrors: [] });
        if (!open) return;
        set({ legacyStatus: 'loading' });
        try {
          set({ legacy: await call('env:legacyStatus', {}), legacyStatus: 'ready' });
        } catch (error) {
          set({ legacyStatus: 'error', legacyError: message(error) });
        }
      },

      async attachLegacy(file) {
        const read = await readEnvFile(file);
        if (read.content === null) {
          set({ legacyFileErrors: read.errors, legacyError: null });
          return;
        }
        set({ legacyStatus: 'loading', legacyError: null, legacyFileErrors: [] });
        try {
          const legacy = await call('env:attachLegacy', {
            fileName: read.name,
            content: read.content,
          });
          set({ legacy, legacyStatus: 'ready' });
          hooks.onLegacyChanged?.(legacy);
        } catch (error) {
          set({ legacyStatus: 'error', legacyError: message(error) });
        }
      },

      async detachLegacy() {
        set({ legacyStatus: 'loading', legacyError: null });
        try {
          const legacy = await call('env:attachLegacy', { detach: true });
          set({ legacy, legacyStatus: 'ready' });
          hooks.onLegacyChanged?.(legacy);
        } catch (error) {
          set({ legacyStatus: 'error', legacyError: message(error) });
        }
      },
    };
  });
}
