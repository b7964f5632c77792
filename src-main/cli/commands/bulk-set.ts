/**
 * Bulk edits from the command line: `strata set <key> <value> --level L --scope A --scope B` (and
 * `strata unset <key> --level L --scope A --scope B`) set or remove one key at many scopes as
 * ONE change set. `--scope tenant/*` at the department level means every department of the
 * tenant; `--scope tenant:*` at the group level every group of the tenant.
 */
import { parseLevel } from '../../core/keys.js';
import { VALUE_TYPES } from '../../core/types.js';
import type { ValueType } from '../../core/types.js';
import { columns, printJson, str, strs, usage } from '../command.js';
import type { CliIO, CommandArgs, GlobalOptions } from '../command.js';
import { shown } from '../context-flags.js';
import { withService } from '../service.js';

/** True when the arguments name more than one scope (or a wildcard): a bulk edit. */
export function isBulk(args: CommandArgs): boolean {
  const scopes = strs(args, 'scope');
  return scopes.length > 1 || scopes.some((s) => s.endsWith('/*') || s.endsWith(':*'));
}

/** Runs `set` or `unset` across the scopes given with repeated --scope. */
export async function runBulk(
  action: 'set' | 'unset',
  args: CommandArgs,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  const command = action;
  const want = action === 'set' ? 2 : 1;
  if (args.positionals.length !== want) {
    throw usage(
      action === 'set'
        ? 'A bulk set takes <key> <value>; see `strata set --help`.'
        : 'A bulk unset takes <key>; see `strata unset --help`.',
    );
  }
  const [key, value] = args.positionals;
  const levelText = str(args, 'level');
  if (levelText === undefined)
    throw usage(`--level is required; see \`strata ${command} --help\`.`);
  const level = parseLevel(levelText);
  if (level === 'global') throw usage('The global level has one scope; give one --scope at most.');
  if (str(args, 'expect-version') !== undefined) {
    throw usage('--expect-version applies to one slot; it cannot be used with several --scope.');
  }
  let valueType: ValueType | undefined;
  const typeText = str(args, 'type');
  if (typeText !== undefined) {
    if (!(VALUE_TYPES as readonly string[]).includes(typeText)) {
      throw usage(`Unknown --type '${typeText.slice(0, 20)}'; use ${VALUE_TYPES.join(', ')}.`);
    }
    valueType = typeText as ValueType;
  }
  if (args.values.lock === true && args.values.unlock === true)
    throw usage('Give --lock or --unlock, not both.');
  const locked = args.values.lock === true ? true : args.values.unlock === true ? false : undefined;
  const { TemplateService } = await import('../../services/template-service.js');
  await withService(globals, io, async (service) => {
    const t = new TemplateService(service);
    const scopes: string[] = [];
    for (const s of strs(args, 'scope')) {
      if (level === 'department' && s.endsWith('/*')) {
        const found = t.departmentScopes(s.slice(0, -2));
        if (found.length === 0) throw usage(`Tenant '${s.slice(0, -2)}' has no departments.`);
        scopes.push(...found);
      } else if (level === 'group' && s.endsWith(':*')) {
        const found = t.groupScopes(s.slice(0, -2));
        if (found.length === 0) throw usage(`Tenant '${s.slice(0, -2)}' has no groups.`);
        scopes.push(...found);
      } else {
        scopes.push(s);
      }
    }
    const r = await t.bulkSet({
      key: key!,
      action,
      ...(action === 'set' ? { value: value! } : {}),
      ...(valueType !== undefined ? { valueType } : {}),
      ...(locked !== undefined ? { locked } : {}),
      level,
      scopes,
      reason: str(args, 'reason') ?? null,
    });
    if (globals.json) {
      printJson(io, {
        mode: r.mode,
        action,
        key: r.key,
        level: r.level,
        written: r.written,
        items: r.items.map((i) => ({
          scope: i.scope,
          value: i.value,
          previous: i.previous,
          changed: i.changed,
        })),
      });
      return;
    }
    const rows = [['scope', 'before', 'after']];
    for (const i of r.items) {
      rows.push([i.scope, shown(i.previous), i.changed ? shown(i.value) : '(unchanged)']);
    }
    const verb = r.mode === 'live' ? (action === 'set' ? 'Set' : 'Removed') : 'Staged';
    io.stdout(
      `${columns(rows)}\n${verb} ${r.key} at ${r.written} of ${r.items.length} ${level} scopes as one change set.\n`,
    );
  });
}
