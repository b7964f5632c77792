/**
 * `strata users`: the directory's users with tenant, department, groups in priority order and
 * traits, optionally filtered.
 */
import { columns, positionals, printJson, str } from '../command.js';
import type { CommandImpl } from '../command.js';
import { withService } from '../service.js';

export const command: CommandImpl = {
  usage: `Usage: strata users [--tenant <id>] [--department <id>] [--group <id>] [--json]

Lists directory users: id, tenant, department, groups in priority order (the first group that
sets a key wins among groups) and traits.

  --tenant <id>       only users of this tenant
  --department <id>   only users of this department (with --tenant, or as tenant/department)
  --group <id>        only members of this group
  --json              {"items":[{"id","tenant","department","groups","traits","display_name","email"}...]}

Example:
  strata users --tenant mercy_hospital --db ./demo.sqlite`,
  options: {
    tenant: { type: 'string' },
    department: { type: 'string' },
    group: { type: 'string' },
  },
  async run(args, globals, io) {
    positionals(args, [], 'users');
    await withService(globals, io, async (service) => {
      const users = service.users({
        tenantId: str(args, 'tenant') ?? null,
        department: str(args, 'department') ?? null,
        group: str(args, 'group') ?? null,
      });
      if (globals.json) {
        printJson(io, {
          items: users.map((u) => ({
            id: u.id,
            tenant: u.tenantId,
            department: u.department,
            groups: u.groups,
            traits: u.traits,
            display_name: u.displayName,
            email: u.email,
          })),
        });
        return;
      }
      const rows = [['id', 'tenant', 'department', 'groups', 'traits']];
      for (const u of users) {
        rows.push([
          u.id,
          u.tenantId ?? '-',
          u.department ?? '-',
          u.groups.join(', ') || '-',
          u.traits.join(', ') || '-',
        ]);
      }
      io.stdout(`${columns(rows)}\n${users.length} user${users.length === 1 ? '' : 's'}.\n`);
    });
  },
};
