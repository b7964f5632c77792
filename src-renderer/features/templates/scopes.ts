/** The scopes a level offers in the wizards' pickers, named as a person reads them. */
import type { Directory, Level } from '../../../src-main/core/types.js';

/** One choice of a scope picker. */
export interface ScopeOption {
  value: string;
  label: string;
  /** The tenant the scope belongs to (null for global and scopes outside any tenant). */
  tenantId: string | null;
}

/** Every scope of a level, sorted by label. */
export function scopeOptions(dir: Directory, level: Level): ScopeOption[] {
  const tenantName = new Map(dir.tenants.map((t) => [t.id, t.name]));
  let out: ScopeOption[];
  switch (level) {
    case 'global':
      return [{ value: '', label: 'Global', tenantId: null }];
    case 'tenant':
      out = dir.tenants.map((t) => ({ value: t.id, label: `${t.name} (${t.id})`, tenantId: t.id }));
      break;
    case 'department':
      out = dir.departments.map((d) => ({
        value: `${d.tenantId}/${d.id}`,
        label: `${tenantName.get(d.tenantId) ?? d.tenantId} / ${d.name} (${d.tenantId}/${d.id})`,
        tenantId: d.tenantId,
      }));
      break;
    case 'group':
      out = dir.groups.map((g) => ({
        value: g.id,
        label: `${g.tenantId ? `${tenantName.get(g.tenantId) ?? g.tenantId} / ` : ''}${g.name} (${g.id})`,
        tenantId: g.tenantId,
      }));
      break;
    case 'user':
      out = dir.users.map((u) => ({
        value: u.id,
        label: `${u.displayName ?? u.id} (${u.id})`,
        tenantId: u.tenantId,
      }));
      break;
  }
  return out.sort((a, b) => a.label.localeCompare(b.label));
}

/** A level as the wizards label it. */
export function levelLabel(level: Level): string {
  return level[0]!.toUpperCase() + level.slice(1);
}
