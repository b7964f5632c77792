/**
 * `strata set` and `strata unset`: write one slot live (PostgreSQL) or stage it (draft). The
 * service checks the key's metadata rules and the operator's rights before anything is written.
 */
import { parseLevel } from '../../core/keys.js';
import { VALUE_TYPES } from '../../core/types.js';
import type { Level, ValueType } from '../../core/types.js';
import type { WriteResult } from '../../services/types.js';
import { positionals, printJson, str, strs, usage } from '../command.js';
import type { CommandArgs, CommandImpl, OptionsConfig } from '../command.js';
import { shown } from '../context-flags.js';
import { withService } from '../service.js';
import { isBulk, runBulk } from './bulk-set.js';

const TARGET_OPTIONS: OptionsConfig = {
  level: { type: 'string' },
  scope: { type: 'string', multiple: true },
  reason: { type: 'string' },
  'expect-version': { type: 'string' },
};

const TARGET_HELP = `  --level <level>        global | tenant | department | group | user (required)
  --scope <id>           tenant id, tenant/department, group id or user id
                         (required except for global); repeat it (or give tenant/* for
                         every department, tenant:* for every group) to bulk edit as one change set
  --reason <text>        why; recorded in the audit trail
  --expect-version <n>   refuse (exit 3) unless the slot is at this version (0: unset)`;

function target(
  args: CommandArgs,
  command: string,
): { level: Level; scope: string; expectedVersion?: number | null } {
  const levelText = str(args, 'level');
  if (levelText === undefined)
    throw usage(`--level is required; see \`strata ${command} --help\`.`);
  const level = parseLevel(levelText);
  const scope = strs(args, 'scope')[0];
  if (level !== 'global' && (scope === undefined || scope === '')) {
    throw usage(`--scope is required for the ${level} level.`);
  }
  const out: { level: Level; scope: string; expectedVersion?: number | null } = {
    level,
    scope: scope ?? '',
  };
  const ev = str(args, 'expect-version');
  if (ev !== undefined) {
    if (!/^\d+$/.test(ev))
      throw usage('--expect-version must be a whole number (0 for a slot that must be empty).');
    out.expectedVersion = Number(ev) === 0 ? null : Number(ev);
  }
  return out;
}

function json(r: WriteResult, valueType: ValueType | null): Record<string, unknown> {
  return {
    mode: r.mode,
    action: r.action,
    level: r.level,
    scope: r.scope,
    key: r.key,
    value: r.value,
    value_type: valueType,
    version: r.version,
  };
}

function at(r: WriteResult): string {
  return r.level === 'global' ? 'global' : `${r.level} ${r.scope}`;
}

/** `strata set <key> <value> --level L [--scope S] [--type T] [--reason R]`. */
export const setCommand: CommandImpl = {
  usage: `Usage: strata set <key> <value> --level <level> [--scope <id>] [--type <type>] [--reason <text>] [--lock | --unlock]

Sets a value at one level and scope. On PostgreSQL the change is live and audited (who, when,
old, new, reason) in the same transaction; in a draft it is staged for a later push. The value
is checked against the key's metadata (type, required, min/max, length, pattern, options);
a refusal names the key, the rule and the value and changes nothing. Secret keys are
encrypted (CONFIG_ENCRYPTION_KEY) and never printed.

${TARGET_HELP}
  --type <type>          string | number | boolean | json (default: the key's metadata type,
                         else the current value's type, else string)
  --lock / --unlock      make the value final (more specific levels cannot override it)
  --json                 {"mode","action","level","scope","key","value","value_type","version"}

Write access: global needs super_admin; a tenant needs tenant_admin of it; a department needs
dept_admin of it or tenant_admin of its tenant; groups and users need an admin of their tenant
or department; every write needs admin_capable and config_write.

Examples:
  strata set fax_backend sip --level group --scope emergency_doctors_group --reason "faster SIP" --as superadmin --db ./demo.sqlite
  strata set compliance.hipaa.enabled false --level department --scope mercy_hospital/marketing --as mercy_admin --db ./demo.sqlite
  strata set uploads.max_size_mb -- -1 --level global ...   (values starting with '-' go after --)`,
  options: {
    ...TARGET_OPTIONS,
    type: { type: 'string' },
    lock: { type: 'boolean' },
    unlock: { type: 'boolean' },
  },
  async run(args, globals, io) {
    if (isBulk(args)) return void (await runBulk('set', args, globals, io));
    const [key, value] = positionals(args, ['key', 'value'], 'set');
    const t = target(args, 'set');
    const typeText = str(args, 'type');
    let valueType: ValueType | undefined;
    if (typeText !== undefined) {
      if (!(VALUE_TYPES as readonly string[]).includes(typeText)) {
        throw usage(`Unknown --type '${typeText.slice(0, 20)}'; use ${VALUE_TYPES.join(', ')}.`);
      }
      valueType = typeText as ValueType;
    }
    if (args.values.lock === true && args.values.unlock === true)
      throw usage('Give --lock or --unlock, not both.');
    const locked =
      args.values.lock === true ? true : args.values.unlock === true ? false : undefined;
    await withService(globals, io, async (service) => {
      const r = await service.set({
        ...t,
        key: key!,
        value: value!,
        ...(valueType !== undefined ? { valueType } : {}),
        ...(locked !== undefined ? { locked } : {}),
        reason: str(args, 'reason') ?? null,
      });
      const stored = service.index.get({ level: r.level, scope: r.scope, key: r.key });
      if (globals.json) {
        printJson(io, json(r, stored?.valueType ?? valueType ?? null));
      } else if (r.mode === 'live') {
        io.stdout(`Set ${r.key} = ${shown(r.value)} at ${at(r)} (version ${r.version ?? '?'}).\n`);
      } else {
        io.stdout(`Staged ${r.key} = ${shown(r.value)} at ${at(r)} in ${service.store.target}.\n`);
      }
    });
  },
};

/** `strata unset <key> --level L [--scope S] [--reason R]`. */
export const unsetCommand: CommandImpl = {
  usage: `Usage: strata unset <key> --level <level> [--scope <id>] [--reason <text>]

Removes the value at one level and scope, so the key inherits from the levels above again.
Live and audited on PostgreSQL; staged in a draft. Nothing set there: exit 2.

${TARGET_HELP}
  --json                 {"mode","action","level","scope","key","value":null,"value_type":null,"version":null}

Example:
  strata unset notification_urgency --level user --scope dr_house --as superadmin --db ./demo.sqlite`,
  options: TARGET_OPTIONS,
  async run(args, globals, io) {
    if (isBulk(args)) return void (await runBulk('unset', args, globals, io));
    const [key] = positionals(args, ['key'], 'unset');
    const t = target(args, 'unset');
    await withService(globals, io, async (service) => {
      const r = await service.unset({ ...t, key: key!, reason: str(args, 'reason') ?? null });
      if (globals.json) printJson(io, json(r, null));
      else if (r.mode === 'live') io.stdout(`Removed ${r.key} at ${at(r)}.\n`);
      else io.stdout(`Staged removal of ${r.key} at ${at(r)} in ${service.store.target}.\n`);
    });
  },
};
