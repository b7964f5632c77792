/**
 * Audit log slice: filtered configuration history and revert (which stages the old value back),
 * and the directory history (tenants, departments, groups, users, memberships; read-only).
 */
import { isSecret } from '../../lib/forms.js';
import { call, errorMessage } from '../call.js';
import type { AuditSlice, SliceCreator } from '../types.js';

/** How many rows the audit table asks for at once. */
export const AUDIT_PAGE = 500;

/** Creates the audit slice. */
export const createAuditSlice: SliceCreator<AuditSlice> = (set, get, deps) => ({
  auditOpen: false,
  auditTab: 'config',
  auditFilter: {},
  auditRecords: null,
  auditStatus: 'idle',
  auditError: null,
  directoryAuditFilter: {},
  directoryAuditRecords: null,
  directoryAuditStatus: 'idle',
  directoryAuditError: null,

  setAuditOpen(open) {
    set({ auditOpen: open });
    if (!open) return;
    void get().loadAudit();
    if (get().auditTab === 'directory') void get().loadDirectoryAudit();
  },

  setAuditTab(tab) {
    set({ auditTab: tab });
    if (tab === 'directory') void get().loadDirectoryAudit();
  },

  setAuditFilter(filter) {
    set({ auditFilter: filter });
  },

  setDirectoryAuditFilter(filter) {
    set({ directoryAuditFilter: filter });
  },

  async loadAudit() {
    const filter = get().auditFilter;
    set({ auditStatus: 'loading', auditError: null });
    try {
      const request = {
        ...(filter.key ? { key: filter.key } : {}),
        ...(filter.level ? { level: filter.level } : {}),
        ...(filter.scope ? { scope: filter.scope } : {}),
        ...(filter.changedBy ? { changedBy: filter.changedBy } : {}),
        limit: filter.limit ?? AUDIT_PAGE,
      };
      set({ auditRecords: await call(deps, 'audit:list', request), auditStatus: 'ready' });
    } catch (error) {
      set({ auditStatus: 'error', auditError: errorMessage(error) });
    }
  },

  async loadDirectoryAudit() {
    const filter = get().directoryAuditFilter;
    set({ directoryAuditStatus: 'loading', directoryAuditError: null });
    try {
      const request = {
        ...(filter.ref ? { ref: filter.ref } : {}),
        ...(filter.kind ? { kind: filter.kind } : {}),
        ...(filter.changedBy ? { changedBy: filter.changedBy } : {}),
        limit: AUDIT_PAGE,
      };
      set({
        directoryAuditRecords: await call(deps, 'audit:directory', request),
        directoryAuditStatus: 'ready',
      });
    } catch (error) {
      // A draft keeps no directory history: the records go, the sentence is shown instead.
      set({
        directoryAuditRecords: null,
        directoryAuditStatus: 'error',
        directoryAuditError: errorMessage(error),
      });
    }
  },

  async revert(record) {
    const meta = get().metaByKey[record.key];
    if (isSecret(record.key, meta)) {
      get().notify(
        'warning',
        'The audit log holds only fingerprints of secrets; set a new value instead of reverting.',
      );
      return false;
    }
    let valueType = meta?.valueType ?? 'string';
    try {
      const entries = await call(deps, 'config:entries', {
        level: record.level,
        scope: record.scope,
      });
      valueType = entries.find((e) => e.key === record.key)?.valueType ?? valueType;
    } catch (error) {
      get().notify('error', errorMessage(error));
      return false;
    }
    const reason = `Revert of audit record #${record.seq}`;
    const base = { level: record.level, scope: record.scope, key: record.key, valueType, reason };
    return get().stageChange(
      record.oldValue === null || record.changeType === 'create'
        ? { ...base, action: 'unset', value: null, secret: false }
        : { ...base, action: 'set', value: record.oldValue, secret: false },
    );
  },
});
