/**
 * `strata tenant create`: provisions a tenant from a tenant template (the tenant, its
 * departments, its groups in priority order and the template's tenant-level values) as one
 * change set: one transaction on PostgreSQL, one staged set in a draft that is pushed as a unit.
 */
import { positionals, printJson, str, strs, usage } from '../command.js';
import type { CommandImpl } from '../command.js';
import { withService } from '../service.js';
import {
  VAR_HELP,
  VAR_OPTIONS,
  itemJson,
  itemsTable,
  summaryLine,
  varsFromFlags,
} from './template.js';

/** `--department id[=Name]`. */
function department(text: string): { id: string; name?: string } {
  const eq = text.indexOf('=');
  if (eq < 0) return { id: text };
  if (eq === 0) throw usage('--department takes id or id=Name.');
  return { id: text.slice(0, eq), name: text.slice(eq + 1) };
}

/** `--group id[:department][=Name]`. */
function group(text: string): { id: string; name?: string; department?: string } {
  let rest = text;
  let name: string | undefined;
  const eq = rest.indexOf('=');
  if (eq >= 0) {
    name = rest.slice(eq + 1);
    rest = rest.slice(0, eq);
  }
  const colon = rest.indexOf(':');
  const id = colon >= 0 ? rest.slice(0, colon) : rest;
  if (id === '') throw usage('--group takes id, id:department or id:department=Name.');
  const out: { id: string; name?: string; department?: string } = { id };
  if (colon >= 0) out.department = rest.slice(colon + 1);
  if (name !== undefined) out.name = name;
  return out;
}

/** `strata tenant create <id> --name N --template T`. */
export const createCommand: CommandImpl = {
  usage: `Usage: strata tenant create <id> --name <name> --template <template> [--type <type>]
         [--department <id[=Name]>]... [--group <id[:department][=Name]>]... [--var NAME=VALUE]...
         [--dry-run] [--reason <text>] [--json]

Creates a tenant from a tenant template (healthcare, business, default or a custom one): the
tenant, its departments (given, else the template's, else "general"), its groups (given in
priority order, else the template's; group ids become <tenant>.<id> because group ids are
global) and the template's tenant-level values, all in ONE change set: live in one PostgreSQL
transaction, or staged in a draft and pushed as a unit. The template version is recorded for
the tenant so later versions can be offered as upgrades. Needs super_admin.

  --name <name>          display name (required)
  --template <name>      the tenant template (required)
  --type <type>          tenants.tenant_type (default: the template's name)
  --department <id>      a department; repeat; id=Name sets its name
  --group <id>           a group; repeat in priority order; id:department=Name
${VAR_HELP}
  --dry-run              show the plan only
  --reason <text>        recorded in the audit trail
  --json                 {"mode","dry_run","tenant":{"id","name","tenant_type"},"departments":[...],
                          "groups":[{"id","local_id","name","department","order"}],"template","version",
                          "written","summary","items":[...]}

Example:
  strata tenant create st_marys --name "St Mary's Hospital" --template healthcare \\
    --department emergency --department radiology --group er_doctors:emergency --db ./draft.sqlite --as superadmin`,
  options: {
    name: { type: 'string' },
    template: { type: 'string' },
    type: { type: 'string' },
    department: { type: 'string', multiple: true },
    group: { type: 'string', multiple: true },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    ...VAR_OPTIONS,
  },
  async run(args, globals, io) {
    const [id] = positionals(args, ['id'], 'tenant create');
    const name = str(args, 'name');
    if (name === undefined) throw usage('--name is required; see `strata tenant create --help`.');
    const template = str(args, 'template');
    if (template === undefined)
      throw usage('--template is required; see `strata tenant create --help`.');
    const departments = strs(args, 'department').map(department);
    const groups = strs(args, 'group').map(group);
    const vars = varsFromFlags(args, io);
    const type = str(args, 'type');
    const { TemplateService } = await import('../../services/template-service.js');
    await withService(globals, io, async (service) => {
      const t = new TemplateService(service);
      const r = await t.createTenant({
        id: id!,
        name,
        template,
        ...(type !== undefined ? { tenantType: type } : {}),
        ...(departments.length > 0 ? { departments } : {}),
        ...(groups.length > 0 ? { groups } : {}),
        vars,
        reason: str(args, 'reason') ?? null,
        dryRun: args.values['dry-run'] === true,
      });
      if (globals.json) {
        printJson(io, {
          mode: r.mode,
          dry_run: r.dryRun,
          tenant: { id: r.tenant.id, name: r.tenant.name, tenant_type: r.tenant.tenantType },
          departments: r.departments,
          groups: r.groups.map((g) => ({
            id: g.id,
            local_id: g.localId,
            name: g.name,
            department: g.department,
            order: g.order,
          })),
          template: r.template,
          version: r.version,
          written: r.written,
          summary: r.summary,
          items: r.items.map(itemJson),
        });
        return;
      }
      const verb = r.dryRun ? 'Would create' : r.mode === 'live' ? 'Created' : 'Staged';
      io.stdout(
        `${verb} tenant ${r.tenant.id} (${r.tenant.name}) from ${r.template} v${r.version}:\n` +
          `  departments: ${r.departments.map((d) => d.id).join(', ') || '-'}\n` +
          `  groups (in order): ${r.groups.map((g) => g.id).join(', ') || '-'}\n` +
          `${itemsTable(r.items).replace(/^/gm, '  ')}\n  ${summaryLine(r.summary)}.\n`,
      );
    });
  },
};
