/**
 * `strata template list|show|apply|upgrades|upgrade|save|publish|seed`: configuration templates
 * from the command line. Apply and upgrade write live on PostgreSQL (audited) and stage in a
 * draft; --dry-run prints the diff (what the scope holds, what it inherits, what the template
 * sets) and writes nothing. Secret values are masked in all output.
 */
import { readFile } from 'node:fs/promises';
import { parseLevel } from '../../core/keys.js';
import { StrataError } from '../../core/types.js';
import type { Level } from '../../core/types.js';
import type { TemplateService } from '../../services/template-service.js';
import type {
  TemplateDiffSummary,
  TemplateDiffView,
  TemplateSummary,
  TemplateUpgradeView,
  TemplateWriteResult,
} from '../../services/template-types.js';
import { columns, positionals, printJson, str, strs, usage } from '../command.js';
import type { CliIO, CommandArgs, CommandImpl, GlobalOptions, OptionsConfig } from '../command.js';
import { shown } from '../context-flags.js';
import { withService } from '../service.js';

/** The --var / --var-env options shared by apply, upgrade and tenant create. */
export const VAR_OPTIONS: OptionsConfig = {
  var: { type: 'string', multiple: true },
  'var-env': { type: 'string', multiple: true },
};

/** Help lines for the variable options. */
export const VAR_HELP = `  --var NAME=VALUE       a template variable (repeat for each)
  --var-env NAME=ENV     take a variable's value from an environment variable (use this for
                         secrets, so they do not appear in the process list or shell history)`;

/** Variables from --var NAME=VALUE and --var-env NAME=ENV. */
export function varsFromFlags(args: CommandArgs, io: CliIO): Record<string, string> {
  const vars: Record<string, string> = {};
  const name = (text: string, flag: string): [string, string] => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw usage(`${flag} takes NAME=VALUE, e.g. ${flag} EMAIL_USER=desk@gmail.com.`);
    const n = text.slice(0, eq);
    if (Object.prototype.hasOwnProperty.call(vars, n))
      throw usage(`Variable ${n.slice(0, 60)} is given twice.`);
    return [n, text.slice(eq + 1)];
  };
  for (const v of strs(args, 'var')) {
    const [n, value] = name(v, '--var');
    vars[n] = value;
  }
  for (const v of strs(args, 'var-env')) {
    const [n, envName] = name(v, '--var-env');
    const value = io.env[envName];
    if (value === undefined)
      throw usage(`Environment variable ${envName.slice(0, 60)} (for ${n}) is not set.`);
    vars[n] = value;
  }
  return vars;
}

/** --level and --scope of a template target. */
function target(args: CommandArgs, command: string): { level: Level; scope: string } {
  const levelText = str(args, 'level');
  if (levelText === undefined)
    throw usage(`--level is required; see \`strata ${command} --help\`.`);
  const level = parseLevel(levelText);
  const scope = str(args, 'scope') ?? '';
  if (level !== 'global' && scope === '')
    throw usage(`--scope is required for the ${level} level.`);
  return { level, scope };
}

async function withTemplates<T>(
  globals: GlobalOptions,
  io: CliIO,
  fn: (t: TemplateService) => Promise<T>,
): Promise<T> {
  const { TemplateService } = await import('../../services/template-service.js');
  return withService(globals, io, (service) => fn(new TemplateService(service)));
}

/** JSON form of one diff item. */
export function itemJson(i: TemplateDiffView): Record<string, unknown> {
  return {
    level: i.level,
    scope: i.scope,
    key: i.key,
    action: i.action,
    value: i.value,
    value_type: i.valueType,
    locked: i.locked,
    secret: i.secret,
    current: i.currentValue,
    inherited: i.inheritedValue,
    inherited_from: i.inheritedFrom,
    locked_above: i.lockedAbove,
  };
}

/** Human table of diff items. */
export function itemsTable(items: readonly TemplateDiffView[]): string {
  if (items.length === 0) return 'No values.';
  const rows = [['action', 'key', 'now', 'inherited', 'new']];
  for (const i of items) {
    const inh =
      i.inheritedValue === null
        ? '-'
        : `${shown(i.inheritedValue)} (${i.inheritedFrom?.level ?? '?'})`;
    const flags = `${i.locked ? ' [locked]' : ''}${i.lockedAbove ? ' [locked above: no effect]' : ''}`;
    rows.push([i.action, i.key, shown(i.currentValue), inh, `${shown(i.value)}${flags}`]);
  }
  return columns(rows);
}

/** "3 to create, 1 to update, ..." */
export function summaryLine(s: TemplateDiffSummary): string {
  const parts = (['create', 'update', 'remove', 'redundant', 'unchanged'] as const)
    .filter((k) => s[k] > 0)
    .map(
      (k) =>
        `${s[k]} ${k === 'redundant' ? 'same as inherited' : k === 'unchanged' ? 'unchanged' : `to ${k}`}`,
    );
  return parts.length > 0 ? parts.join(', ') : 'nothing to change';
}

function writeResultJson(r: TemplateWriteResult): Record<string, unknown> {
  return {
    mode: r.mode,
    dry_run: r.dryRun,
    template: r.template,
    version: r.version,
    level: r.level,
    scope: r.scope,
    written: r.written,
    summary: r.summary,
    items: r.items.map(itemJson),
  };
}

function at(level: Level, scope: string): string {
  return level === 'global' ? 'the global level' : `${level} ${scope}`;
}

function summaryJson(s: TemplateSummary): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    version: s.version,
    kind: s.kind,
    target_level: s.targetLevel,
    levels: s.levels,
    provider: s.providerName,
    category: s.category,
    required_traits: s.requiredTraits,
    variables: s.variableCount,
    keys: s.keyCount,
    source: s.source,
    stored: s.stored,
    shipped_version: s.shippedVersion,
    missing_traits: s.missingTraits,
  };
}

/** `strata template list`. */
export const listCommand: CommandImpl = {
  usage: `Usage: strata template list [--json]

Lists the templates of the target: the built-ins (healthcare, business and default tenant
templates; gmail, sendgrid and mailtrap SMTP templates) and custom templates saved with
\`strata template save\`, with version, kind, the levels they apply at and required traits.
A built-in whose shipped file is newer than the stored copy is flagged; \`strata template seed\`
stores the new version (the old one is kept so tenants can be upgraded).

  --json   {"items":[{"name","description","version","kind","target_level","levels","provider",
            "category","required_traits","variables","keys","source","stored","shipped_version",
            "missing_traits"}...]}

Example:
  strata template list --db ./demo.sqlite`,
  async run(args, globals, io) {
    positionals(args, [], 'template list');
    await withTemplates(globals, io, async (t) => {
      const items = await t.list();
      if (globals.json) {
        printJson(io, { items: items.map(summaryJson) });
        return;
      }
      const rows = [['name', 'version', 'kind', 'levels', 'description']];
      for (const s of items) {
        const v = `v${s.version}${s.shippedVersion !== null ? ` (v${s.shippedVersion} shipped)` : ''}`;
        const d = s.description.length > 60 ? `${s.description.slice(0, 57)}...` : s.description;
        rows.push([s.name, v, s.kind, s.levels.join(','), d]);
      }
      io.stdout(`${columns(rows)}\n`);
    });
  },
};

/** `strata template show <name>`. */
export const showCommand: CommandImpl = {
  usage: `Usage: strata template show <name> [--json]

Shows one template: what it sets (values with {{VARIABLE}} placeholders), its variables
(description, required, example, validation), its setup instructions, the versions kept for
upgrades and the scopes it was applied at (with the version).

  --json   {"name","version","kind","target_level","levels","required_traits","definition":{...},
            "versions":[...],"applications":[{"level","scope","version","applied_at","applied_by"}]}

Example:
  strata template show gmail-smtp --db ./demo.sqlite`,
  async run(args, globals, io) {
    const [name] = positionals(args, ['name'], 'template show');
    await withTemplates(globals, io, async (t) => {
      const d = await t.show(name!);
      if (globals.json) {
        printJson(io, {
          ...summaryJson(d.summary),
          definition: d.definition,
          versions: d.versions,
          applications: d.applications.map((a) => ({
            level: a.level,
            scope: a.scope,
            version: a.version,
            applied_at: a.appliedAt,
            applied_by: a.appliedBy,
          })),
        });
        return;
      }
      const def = d.definition;
      const out: string[] = [];
      out.push(
        `${def.name} v${def.version} (${def.kind}, applies at ${d.summary.levels.join(', ')})`,
      );
      out.push(def.description);
      if (def.requiredTraits.length > 0)
        out.push(`Requires traits: ${def.requiredTraits.join(', ')}`);
      out.push('', 'Sets:');
      out.push(
        columns(
          Object.entries(def.configs).map(([k, c]) => [
            `  ${k}`,
            shown(c.value),
            c.valueType ?? '',
            c.locked ? 'locked' : '',
          ]),
        ),
      );
      if (def.variables.length > 0) {
        out.push('', 'Variables:');
        for (const v of def.variables) {
          const bits = [v.required ? 'required' : 'optional'];
          if (v.secret) bits.push('secret');
          if (v.example !== undefined) bits.push(`example ${v.example}`);
          if (v.default !== undefined) bits.push(`default ${v.default}`);
          out.push(`  ${v.name}  ${v.description} (${bits.join(', ')})`);
        }
      }
      if (def.instructions.length > 0)
        out.push('', 'Instructions:', ...def.instructions.map((i) => `  ${i}`));
      if (def.departments?.length) {
        out.push('', `Departments: ${def.departments.map((x) => x.id).join(', ')}`);
      }
      if (def.groups?.length)
        out.push(`Groups (in order): ${def.groups.map((g) => g.id).join(', ')}`);
      out.push('', `Versions kept: ${d.versions.map((v) => `v${v}`).join(', ')}`);
      if (d.applications.length > 0) {
        out.push('Applied at:');
        for (const a of d.applications) out.push(`  ${at(a.level, a.scope)} (v${a.version})`);
      }
      io.stdout(`${out.join('\n')}\n`);
    });
  },
};

/** `strata template apply <name> --level L [--scope S] --var NAME=VALUE...`. */
export const applyCommand: CommandImpl = {
  usage: `Usage: strata template apply <name> --level <level> [--scope <id>] [--var NAME=VALUE]... [--dry-run] [--reason <text>] [--json]

Renders the template with the variables (each is validated: missing, pattern, length and
options; a refusal names the variable and why and writes nothing), compares every value with
what the scope holds and inherits, then writes the values the scope does not already hold:
live and audited on PostgreSQL, staged in a draft. The template version is recorded for the
scope so later versions can be offered as upgrades. Secret variables are encrypted
(CONFIG_ENCRYPTION_KEY) and never printed.

  --level <level>        a level the template applies at (see \`strata template show\`)
  --scope <id>           tenant id, tenant/department, group id or user id
${VAR_HELP}
  --dry-run              show the diff only
  --reason <text>        recorded in the audit trail (default: "template <name> v<version>")
  --json                 {"mode","dry_run","template","version","level","scope","written","summary",
                          "items":[{"key","action","value","current","inherited",...}]}

Examples:
  strata template apply gmail-smtp --level tenant --scope mercy_hospital \\
    --var EMAIL_USER=frontdesk@gmail.com --var-env EMAIL_PASS=GMAIL_APP_PASSWORD --db ./demo.sqlite --as superadmin
  strata template apply mailtrap-smtp --level department --scope mercy_hospital/it --dry-run ...`,
  options: {
    level: { type: 'string' },
    scope: { type: 'string' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    ...VAR_OPTIONS,
  },
  async run(args, globals, io) {
    const [name] = positionals(args, ['name'], 'template apply');
    const t0 = target(args, 'template apply');
    const vars = varsFromFlags(args, io);
    const dryRun = args.values['dry-run'] === true;
    await withTemplates(globals, io, async (t) => {
      const r = await t.apply({
        template: name!,
        ...t0,
        vars,
        reason: str(args, 'reason') ?? null,
        dryRun,
      });
      if (globals.json) {
        printJson(io, writeResultJson(r));
        return;
      }
      const verb = r.dryRun ? 'Would apply' : r.mode === 'live' ? 'Applied' : 'Staged';
      io.stdout(
        `${itemsTable(r.items)}\n${verb} ${r.template} v${r.version} at ${at(r.level, r.scope)}: ${summaryLine(r.summary)}.\n`,
      );
    });
  },
};

function upgradeJson(u: TemplateUpgradeView): Record<string, unknown> {
  return {
    template: u.template,
    from_version: u.fromVersion,
    to_version: u.toVersion,
    level: u.level,
    scope: u.scope,
    ok: u.ok,
    exact: u.exact,
    errors: u.errors,
    summary: u.summary,
    items: u.items.map(itemJson),
  };
}

/** `strata template upgrades`. */
export const upgradesCommand: CommandImpl = {
  usage: `Usage: strata template upgrades [--template <name>] [--tenant <id>] [--json]

For every scope a template was applied at an older version than the template's current one:
the exact changes that bring it up to date (keys the new version adds, changes or drops; keys
the template does not own are never touched). Variable values are read back from the scope; an
upgrade that needs a value the scope does not have lists it in "errors".

  --template <name>   only this template
  --tenant <id>       only scopes of this tenant
  --json              {"items":[{"template","from_version","to_version","level","scope","ok","exact",
                        "errors","summary","items":[...]}]}`,
  options: { template: { type: 'string' }, tenant: { type: 'string' } },
  async run(args, globals, io) {
    positionals(args, [], 'template upgrades');
    await withTemplates(globals, io, async (t) => {
      const template = str(args, 'template');
      const tenant = str(args, 'tenant');
      const list = await t.upgrades({
        ...(template !== undefined ? { template } : {}),
        ...(tenant !== undefined ? { tenant } : {}),
      });
      if (globals.json) {
        printJson(io, { items: list.map(upgradeJson) });
        return;
      }
      if (list.length === 0) {
        io.stdout('Every scope is at the current version of its templates.\n');
        return;
      }
      const out: string[] = [];
      for (const u of list) {
        out.push(`${u.template} v${u.fromVersion} -> v${u.toVersion} at ${at(u.level, u.scope)}:`);
        if (!u.ok) out.push(`  needs: ${u.errors.map((e) => e.message).join(' ')}`);
        else out.push(itemsTable(u.items).replace(/^/gm, '  '), `  ${summaryLine(u.summary)}`);
      }
      io.stdout(`${out.join('\n')}\n`);
    });
  },
};

/** `strata template upgrade <name> --level L --scope S`. */
export const upgradeCommand: CommandImpl = {
  usage: `Usage: strata template upgrade <name> --level <level> [--scope <id>] [--var NAME=VALUE]... [--dry-run] [--reason <text>] [--json]

Brings one scope from the template version it has to the template's current version: exactly
the difference (see \`strata template upgrades\`), live on PostgreSQL or staged in a draft, and
records the new version for the scope.

  --level, --scope       where the template was applied
${VAR_HELP}
  --dry-run              show the changes only
  --reason <text>        recorded in the audit trail
  --json                 same shape as \`strata template apply --json\``,
  options: {
    level: { type: 'string' },
    scope: { type: 'string' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    ...VAR_OPTIONS,
  },
  async run(args, globals, io) {
    const [name] = positionals(args, ['name'], 'template upgrade');
    const t0 = target(args, 'template upgrade');
    const vars = varsFromFlags(args, io);
    await withTemplates(globals, io, async (t) => {
      const r = await t.upgrade({
        template: name!,
        ...t0,
        vars,
        reason: str(args, 'reason') ?? null,
        dryRun: args.values['dry-run'] === true,
      });
      if (globals.json) {
        printJson(io, writeResultJson(r));
        return;
      }
      const verb = r.dryRun
        ? 'Would upgrade'
        : r.mode === 'live'
          ? 'Upgraded'
          : 'Staged the upgrade of';
      io.stdout(
        `${itemsTable(r.items)}\n${verb} ${at(r.level, r.scope)} to ${r.template} v${r.version}: ${summaryLine(r.summary)}.\n`,
      );
    });
  },
};

/** `strata template save <name> --level L --scope S`. */
export const saveCommand: CommandImpl = {
  usage: `Usage: strata template save <name> --level <level> [--scope <id>] [--description <text>] [--json]

Saves the overrides set at one level and scope as a custom template (a new version if a custom
template of that name exists). Secret values never enter the template: each becomes a required
secret variable that whoever applies the template must supply. Needs super_admin.

  --json   same shape as \`strata template show --json\``,
  options: {
    level: { type: 'string' },
    scope: { type: 'string' },
    description: { type: 'string' },
  },
  async run(args, globals, io) {
    const [name] = positionals(args, ['name'], 'template save');
    const t0 = target(args, 'template save');
    await withTemplates(globals, io, async (t) => {
      const description = str(args, 'description');
      const d = await t.saveCustom({
        name: name!,
        ...t0,
        ...(description !== undefined ? { description } : {}),
      });
      if (globals.json) {
        printJson(io, {
          ...summaryJson(d.summary),
          definition: d.definition,
          versions: d.versions,
        });
        return;
      }
      const secrets = d.definition.variables.filter((v) => v.secret).map((v) => v.name);
      io.stdout(
        `Saved ${d.summary.keyCount} values from ${at(t0.level, t0.scope)} as template ${d.summary.name} v${d.summary.version}` +
          `${secrets.length > 0 ? `; secrets became variables: ${secrets.join(', ')}` : ''}.\n`,
      );
    });
  },
};

/** `strata template publish <file>`. */
export const publishCommand: CommandImpl = {
  usage: `Usage: strata template publish <file.json> [--json]

Stores a template file as a new template, or as a new version of an existing one (its version
must be higher; the version it replaces is kept so scopes using it can be upgraded). The file
is validated first (placeholders, variables, values against their metadata). Needs super_admin.`,
  async run(args, globals, io) {
    const [file] = positionals(args, ['file'], 'template publish');
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file!, 'utf8'));
    } catch (e) {
      throw new StrataError(
        'invalid',
        (e as { code?: string }).code === 'ENOENT'
          ? `Cannot read template file ${file}.`
          : `Template file ${file} is not valid JSON.`,
      );
    }
    await withTemplates(globals, io, async (t) => {
      const d = await t.publish(json);
      if (globals.json) printJson(io, { ...summaryJson(d.summary), versions: d.versions });
      else io.stdout(`Published ${d.summary.name} v${d.summary.version}.\n`);
    });
  },
};

/** `strata template seed`. */
export const seedCommand: CommandImpl = {
  usage: `Usage: strata template seed [--json]

Loads the built-in templates into config_templates: adds the ones missing, stores a newer
shipped version of a built-in (keeping the old one for upgrades), and adds metadata for template
keys that have none (so smtp.auth_pass is known as a secret). \`strata demo\` and
\`strata db migrate\` run this step too.

  --json   {"added":[...],"upgraded":[{"name","from","to"}],"metadata":[...]}`,
  async run(args, globals, io) {
    positionals(args, [], 'template seed');
    await withTemplates(globals, io, async (t) => {
      const r = await t.seed();
      if (globals.json) {
        printJson(io, r);
        return;
      }
      io.stdout(
        `Templates added: ${r.added.join(', ') || 'none'}; upgraded: ${
          r.upgraded.map((u) => `${u.name} v${u.from} -> v${u.to}`).join(', ') || 'none'
        }; metadata added for ${r.metadata.length} keys.\n`,
      );
    });
  },
};
