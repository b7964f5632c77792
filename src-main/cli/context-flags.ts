/**
 * The context flags shared by `resolve` and `effective`: a directory user (--user), or an
 * ad-hoc context (--tenant with optional --department, repeated --group in priority order and
 * --user-id), as in the seed's UserContext.
 */
import type { ContextInput } from '../services/types.js';
import { str, strs, usage } from './command.js';
import type { CommandArgs, OptionsConfig } from './command.js';

/** parseArgs definitions of the context flags. */
export const CONTEXT_OPTIONS: OptionsConfig = {
  user: { type: 'string' },
  tenant: { type: 'string' },
  department: { type: 'string' },
  group: { type: 'string', multiple: true },
  'user-id': { type: 'string' },
};

/** Help text lines for the context flags. */
export const CONTEXT_HELP = `Context (one of):
  --user <id>              a directory user: their tenant, department and groups in order
  --tenant <id>            an ad-hoc context, optionally with
    --department <id>      a department of that tenant (or tenant/department)
    --group <id>           a group; repeat in priority order (the first group that sets a
                           key wins among groups)
    --user-id <id>         a user whose own overrides apply`;

/** The context the flags describe, or a usage error. */
export function contextFromFlags(args: CommandArgs, command: string): ContextInput {
  const user = str(args, 'user');
  const tenant = str(args, 'tenant');
  const department = str(args, 'department');
  const groups = strs(args, 'group');
  const userId = str(args, 'user-id');
  if (user !== undefined && tenant !== undefined) {
    throw usage(`Give either --user or --tenant, not both; see \`strata ${command} --help\`.`);
  }
  if (user !== undefined) {
    if (department !== undefined || groups.length > 0 || userId !== undefined) {
      throw usage(
        '--department, --group and --user-id describe an ad-hoc context and need --tenant instead of --user.',
      );
    }
    return { userId: user };
  }
  if (tenant === undefined) {
    throw usage(
      `Give a context: --user <id>, or --tenant <id> with optional --department, --group and --user-id; see \`strata ${command} --help\`.`,
    );
  }
  return { tenantId: tenant, department: department ?? null, groups, userId: userId ?? null };
}

/** A value as the human-readable output shows it ('-' for unset, quotes where needed). */
export function shown(value: string | null): string {
  if (value === null) return '-';
  if (value === '' || /[\s"]/.test(value) || value === '-') return JSON.stringify(value);
  return value;
}
