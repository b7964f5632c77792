/**
 * Templates slice: the template list, previews, applying templates, tenant provisioning,
 * template upgrades and bulk edits. Every call to main is here; the wizards keep only their form
 * inputs. Failures become a toast and a null result, so a wizard stays on its step.
 */
import type { RequestOf } from '../../../src-main/contract/contract.js';
import type {
  BulkSetResult,
  TemplateDetail,
  TemplatePreview,
  TemplateSummary,
  TemplateUpgradeView,
  TemplateWriteResult,
  TenantCreateResult,
} from '../../../src-main/contract/template-channels.js';
import { call, errorMessage } from '../../store/call.js';
import type { SliceCreator } from '../../store/types.js';

/** The tabs of the Templates dialog. */
export type TemplatesTab = 'apply' | 'tenant' | 'upgrades' | 'bulk';

/** Templates state and actions. */
export interface TemplatesSlice {
  templatesOpen: boolean;
  templatesTab: TemplatesTab;
  templateList: TemplateSummary[] | null;
  templateListStatus: 'idle' | 'loading' | 'ready' | 'error';
  templateDetails: Record<string, TemplateDetail>;
  upgradeList: TemplateUpgradeView[] | null;
  upgradeStatus: 'idle' | 'loading' | 'ready' | 'error';
  openTemplates(tab?: TemplatesTab): Promise<void>;
  closeTemplates(): void;
  setTemplatesTab(tab: TemplatesTab): void;
  loadTemplateList(): Promise<void>;
  /** The full template (cached); null when it could not be read. */
  loadTemplateDetail(name: string): Promise<TemplateDetail | null>;
  previewTemplate(req: RequestOf<'template:preview'>): Promise<TemplatePreview | null>;
  applyTemplate(req: RequestOf<'template:apply'>): Promise<TemplateWriteResult | null>;
  createTenant(req: RequestOf<'tenant:create'>): Promise<TenantCreateResult | null>;
  loadUpgrades(): Promise<void>;
  applyUpgrade(req: RequestOf<'template:upgrade'>): Promise<TemplateWriteResult | null>;
  bulkSet(req: RequestOf<'bulk:set'>): Promise<BulkSetResult | null>;
}

/** "staged" or "applied", as the result of a write reads. */
export function wroteVerb(mode: 'live' | 'staged'): string {
  return mode === 'live' ? 'Applied' : 'Staged';
}

/** Creates the templates slice. */
export const createTemplatesSlice: SliceCreator<TemplatesSlice> = (set, get, deps) => {
  // After a write: what the other landmarks show may have changed.
  const refreshAfterWrite = async (directoryChanged: boolean): Promise<void> => {
    const work: Promise<void>[] = [get().loadSlot(), get().loadServerStaged(), get().refreshInfo()];
    if (directoryChanged) work.push(get().refreshWorkspace());
    await Promise.all(work);
  };

  const attempt = async <T>(run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (error) {
      get().notify('error', errorMessage(error));
      return null;
    }
  };

  return {
    templatesOpen: false,
    templatesTab: 'apply',
    templateList: null,
    templateListStatus: 'idle',
    templateDetails: {},
    upgradeList: null,
    upgradeStatus: 'idle',

    async openTemplates(tab) {
      set({ templatesOpen: true, ...(tab ? { templatesTab: tab } : {}) });
      await get().loadTemplateList();
      if ((tab ?? get().templatesTab) === 'upgrades') await get().loadUpgrades();
    },

    closeTemplates() {
      set({ templatesOpen: false });
    },

    setTemplatesTab(tab) {
      set({ templatesTab: tab });
      if (tab === 'upgrades') void get().loadUpgrades();
    },

    async loadTemplateList() {
      set({ templateListStatus: 'loading' });
      try {
        const list = await call(deps, 'template:list', {});
        set({ templateList: list, templateListStatus: 'ready' });
      } catch (error) {
        set({ templateListStatus: 'error' });
        get().notify('error', errorMessage(error));
      }
    },

    async loadTemplateDetail(name) {
      const cached = get().templateDetails[name];
      if (cached) return cached;
      return attempt(async () => {
        const detail = await call(deps, 'template:show', { name });
        set((s) => ({ templateDetails: { ...s.templateDetails, [name]: detail } }));
        return detail;
      });
    },

    previewTemplate(req) {
      return attempt(() => call(deps, 'template:preview', req));
    },

    async applyTemplate(req) {
      const result = await attempt(() => call(deps, 'template:apply', req));
      if (result && !result.dryRun) {
        get().notify(
          'success',
          `${wroteVerb(result.mode)} template ${result.template} v${result.version} at ${result.level} ${result.scope}: ${result.written} value${result.written === 1 ? '' : 's'}.`,
        );
        set({ templateDetails: {} });
        await refreshAfterWrite(false);
      }
      return result;
    },

    async createTenant(req) {
      const result = await attempt(() => call(deps, 'tenant:create', req));
      if (result && !result.dryRun) {
        get().notify(
          'success',
          `${wroteVerb(result.mode)} tenant ${result.tenant.id} with ${result.departments.length} departments and ${result.groups.length} groups.`,
        );
        set({ templateDetails: {} });
        await refreshAfterWrite(true);
      }
      return result;
    },

    async loadUpgrades() {
      set({ upgradeStatus: 'loading' });
      try {
        const list = await call(deps, 'template:upgrades', {});
        set({ upgradeList: list, upgradeStatus: 'ready' });
      } catch (error) {
        set({ upgradeStatus: 'error' });
        get().notify('error', errorMessage(error));
      }
    },

    async applyUpgrade(req) {
      const result = await attempt(() => call(deps, 'template:upgrade', req));
      if (result && !result.dryRun) {
        get().notify(
          'success',
          `${wroteVerb(result.mode)} the upgrade of ${result.level} ${result.scope} to ${result.template} v${result.version}.`,
        );
        await Promise.all([refreshAfterWrite(false), get().loadUpgrades()]);
      }
      return result;
    },

    async bulkSet(req) {
      const result = await attempt(() => call(deps, 'bulk:set', req));
      if (result && !result.dryRun) {
        get().notify(
          'success',
          `${wroteVerb(result.mode)} ${result.key} at ${result.written} ${result.level} scope${result.written === 1 ? '' : 's'} as one change set.`,
        );
        await refreshAfterWrite(false);
      }
      return result;
    },
  };
};
