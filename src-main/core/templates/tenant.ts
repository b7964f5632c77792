/**
 * Tenant provisioning as one pure plan: the tenant row, its departments, its groups and the
 * template's tenant-level values, to be applied together in one transaction (or staged together
 * in one draft) so a half-created tenant never exists.
 */
import type { Department, Group, Tenant } from '../types.js';
import { ENTITY_ID_RE } from './rules.js';
import { renderTemplate } from './render.js';
import type { TemplateChange, TemplateDefinition, TemplateError } from './types.js';

/** What to create. Departments and groups, when given, replace the template's defaults. */
export interface TenantPlanInput {
  id: string;
  name: string;
  template: TemplateDefinition;
  /** Stored as tenants.tenant_type; defaults to the template's name. */
  tenantType?: string | null;
  /** Department ids, or ids with names (the name defaults to the id in title case). */
  departments?: ReadonlyArray<string | { id: string; name?: string }>;
  /** Groups with ids local to the tenant; `department` is a local department id. */
  groups?: ReadonlyArray<{ id: string; name?: string; department?: string | null }>;
  vars?: Readonly<Record<string, string>>;
}

/** A group to create. Group ids are global, so the tenant id prefixes the local id. */
export interface PlannedGroup extends Group {
  tenantId: string;
  localId: string;
  /** Creation order (0-based), also the suggested membership priority. */
  order: number;
}

/** Everything a new tenant needs, applied as one change set: tenant, departments, groups, values. */
export interface TenantPlan {
  tenant: Tenant;
  departments: Department[];
  groups: PlannedGroup[];
  changes: TemplateChange[];
}

/** The result of planning a tenant. */
export type TenantPlanResult = ({ ok: true } & TenantPlan) | { ok: false; errors: TemplateError[] };

/** Used when neither the caller nor the template names a department (the seed's default). */
export const DEFAULT_DEPARTMENTS = [{ id: 'general', name: 'General' }] as const;

/** The id a tenant's group gets: `tenant.local`, unique across tenants. */
export function tenantGroupId(tenantId: string, localId: string): string {
  return `${tenantId}.${localId}`;
}

function titleCase(id: string): string {
  return id
    .split(/[-_]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

function idProblem(what: string, id: string, max = 100): string | null {
  if (id.length === 0) return `${what} id must not be empty.`;
  if (id.length > max) return `${what} id ${JSON.stringify(id)} is longer than ${max} characters.`;
  if (!ENTITY_ID_RE.test(id)) {
    return `${what} id ${JSON.stringify(id)} must be letters, digits, "_" or "-".`;
  }
  return null;
}

/**
 * Plans a new tenant from a tenant template: the tenant, its departments (given, else the
 * template's, else "general"), its groups (given, else the template's) in creation order, and the
 * rendered tenant-level values. Returns every problem at once; nothing is partially planned.
 */
export function planTenant(input: TenantPlanInput): TenantPlanResult {
  const errors: TemplateError[] = [];
  const fail = (message: string) => errors.push({ variable: '', message });
  const { id, template } = input;

  const bad = idProblem('Tenant', id);
  if (bad) fail(bad);
  const name = input.name.trim();
  if (name === '') fail('Tenant name must not be empty.');
  else if (name.length > 200) fail('Tenant name is longer than 200 characters.');

  const deptSource = input.departments ?? template.departments ?? DEFAULT_DEPARTMENTS;
  const departments: Department[] = [];
  for (const d of deptSource) {
    const dept = typeof d === 'string' ? { id: d } : d;
    const problem = idProblem('Department', dept.id);
    if (problem) {
      fail(problem);
      continue;
    }
    if (departments.some((x) => x.id === dept.id)) {
      fail(`Department ${dept.id} is listed twice.`);
      continue;
    }
    departments.push({ tenantId: id, id: dept.id, name: dept.name?.trim() || titleCase(dept.id) });
  }

  const groupSource = input.groups ?? template.groups ?? [];
  const groups: PlannedGroup[] = [];
  for (const g of groupSource) {
    const problem =
      idProblem('Group', g.id) ??
      (tenantGroupId(id, g.id).length > 100
        ? `Group id ${tenantGroupId(id, g.id)} is longer than 100 characters.`
        : null);
    if (problem) {
      fail(problem);
      continue;
    }
    if (groups.some((x) => x.localId === g.id)) {
      fail(`Group ${g.id} is listed twice.`);
      continue;
    }
    const department = g.department ?? null;
    if (department !== null && !departments.some((d) => d.id === department)) {
      fail(`Group ${g.id} belongs to department ${department}, which this tenant will not have.`);
      continue;
    }
    groups.push({
      id: tenantGroupId(id, g.id),
      localId: g.id,
      tenantId: id,
      department,
      name: g.name?.trim() || titleCase(g.id),
      order: groups.length,
    });
  }

  const rendered = renderTemplate(template, input.vars ?? {}, { level: 'tenant', scope: id });
  if (!rendered.ok) errors.push(...rendered.errors);
  if (errors.length > 0 || !rendered.ok) return { ok: false, errors };

  return {
    ok: true,
    tenant: {
      id,
      name,
      tenantType: input.tenantType === undefined ? template.name : input.tenantType,
    },
    departments,
    groups,
    changes: rendered.changes,
  };
}
