/**
 * `strata import-env <file>`: imports a legacy .env file. Each name is mapped to a configuration
 * key (the seed's table, saved and --map corrections, else lower-case), placed (auto by the
 * seed's rules, or one level for every key), typed and validated by metadata; secrets are
 * encrypted. Everything is written in one store write or not at all.
 */
import { parseLevel } from '../../core/keys.js';
import type { ImportPlacement } from '../../core/env/index.js';
import { StrataError } from '../../core/types.js';
import { EnvImportService } from '../../services/env-import-service.js';
import { readEnvFile } from '../../services/env-files.js';
import type { EnvMappingPair, EnvPreview, EnvStageResult } from '../../services/env-types.js';
import { columns, positionals, printJson, str, strs, usage } from '../command.js';
import type { CliIO, CommandArgs, CommandImpl } from '../command.js';
import { shown } from '../context-flags.js';
import { withService } from '../service.js';

function placementOf(args: CommandArgs): { placement: ImportPlacement; tenant: string | null } {
  const levelText = str(args, 'level') ?? 'auto';
  const scope = str(args, 'scope');
  if (levelText.trim().toLowerCase() === 'auto') {
    return { placement: 'auto', tenant: scope === undefined || scope === '' ? null : scope };
  }
  const level = parseLevel(levelText);
  if (level === 'global') {
    if (scope !== undefined && scope !== '') throw usage('The global level takes no --scope.');
    return { placement: { level, scope: '' }, tenant: null };
  }
  if (scope === undefined || scope === '')
    throw usage(`--scope is required for the ${level} level.`);
  return { placement: { level, scope }, tenant: level === 'tenant' ? scope : null };
}

function mappingOf(args: CommandArgs): EnvMappingPair[] {
  return strs(args, 'map').map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0 || eq === text.length - 1) {
      throw usage(
        `--map takes ENV_NAME=config.key (e.g. --map FAX_TIMEOUT=fax.timeout_seconds); got '${text.slice(0, 40)}'.`,
      );
    }
    return { envKey: text.slice(0, eq), key: text.slice(eq + 1) };
  });
}

function itemsJson(preview: EnvPreview): Array<Record<string, unknown>> {
  return preview.items.map((i) => ({
    line: i.line,
    env_key: i.envKey,
    key: i.key,
    level: i.level,
    scope: i.scope,
    value: i.value,
    action: i.action,
  }));
}

function errorsJson(errors: ReadonlyArray<{ line: number; message: string }>): unknown[] {
  return errors.map((e) => ({ line: e.line, message: e.message }));
}

function at(level: string, scope: string): string {
  return level === 'global' ? 'global' : `${level} ${scope}`;
}

function printTable(io: CliIO, preview: EnvPreview): void {
  if (preview.items.length === 0) return;
  const rows = [['line', 'name', 'key', 'at', 'action', 'value']];
  for (const i of preview.items) {
    rows.push([
      String(i.line),
      i.envKey,
      i.key,
      at(i.level, i.scope),
      i.action,
      i.action === 'invalid' ? '' : shown(i.value),
    ]);
  }
  io.stdout(`${columns(rows)}\n`);
}

function refusalErrors(err: unknown): Array<{ line: number; message: string }> | null {
  if (!(err instanceof StrataError) || err.code !== 'invalid') return null;
  const details = err.details as { errors?: unknown } | undefined;
  if (!Array.isArray(details?.errors)) return null;
  return (details.errors as Array<{ line: number; message: string }>).map((e) => ({
    line: e.line,
    message: e.message,
  }));
}

/** `strata import-env <file> [--level L|auto] [--scope S] [--map ENV=key]... [--dry-run]`. */
export const command: CommandImpl = {
  usage: `Usage: strata import-env <file> [--level <level>|auto] [--scope <id>] [--map ENV_NAME=key]... [--save-map] [--dry-run] [--include-redundant] [--reason <text>] [--json]

Imports a legacy .env file. Each name becomes a configuration key: the migration plan's table
(FAX_BACKEND -> fax.backend.provider, PHAXIO_API_KEY -> providers.phaxio.api_key, HIPAA_MODE ->
compliance.hipaa.enabled, ...), then the workspace's saved mapping and --map, else the name in
lower case. Values are typed and validated by the key's metadata; secrets (api_key, secret,
password, token, private_key, credentials, oauth_) are encrypted. An override equal to what the
slot already inherits is redundant and skipped unless --include-redundant.

In a draft the rows are staged; on PostgreSQL they are applied live in one transaction with
audit rows. The reason recorded names the file. A refused file (not a regular file, over 1 MiB,
binary, not UTF-8, bad names, unterminated quotes, ...) or any row that cannot be written stops
the whole import: nothing is written and the exit code is 2.

  --level auto|<level>   auto (default): uploads., security., platform., features. -> global;
                         providers., compliance. -> the tenant named by --scope (global
                         without one); everything else -> global.
                         global|tenant|department|group|user: every key at that level
  --scope <id>           with auto: the tenant for tenant-level keys; with a level: its scope
  --map ENV_NAME=key     map a name to a key (repeatable; wins over the saved mapping)
  --save-map             after a successful import, save the --map pairs as the workspace's
                         mapping (used by later imports and the console)
  --dry-run              show the plan; write nothing
  --include-redundant    also write overrides equal to the inherited value
  --reason <text>        added to the recorded reason after the file name
  --json                 {"mode","file","items":[{"line","env_key","key","level","scope","value","action"}],
                          "errors":[{"line","message"}],"warnings":[{"line","message"}]}
                         action: create|update|unchanged|redundant|invalid;
                         mode: staged|live|dry-run|refused

Examples:
  strata import-env ./faxbot.env --scope mercy_hospital --dry-run --as superadmin --db ./demo.sqlite
  strata import-env ./faxbot.env --level tenant --scope general_hospital --map FAX_TIMEOUT=fax.timeout --as superadmin --db ./demo.sqlite`,
  options: {
    level: { type: 'string' },
    scope: { type: 'string' },
    map: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    'include-redundant': { type: 'boolean' },
    'save-map': { type: 'boolean' },
    reason: { type: 'string' },
  },
  async run(args, globals, io) {
    const [path] = positionals(args, ['file'], 'import-env');
    const { placement, tenant } = placementOf(args);
    const mapping = mappingOf(args);
    const dryRun = args.values['dry-run'] === true;
    const reason = str(args, 'reason') ?? null;
    const report = (
      errors: ReadonlyArray<{ line: number; message: string }>,
      file: string,
    ): number => {
      if (globals.json) {
        printJson(io, {
          mode: 'refused',
          file,
          items: [],
          errors: errorsJson(errors),
          warnings: [],
        });
      }
      for (const e of errors.slice(0, 20)) io.stderr(`${file}: ${e.message}\n`);
      return 2;
    };

    let file;
    try {
      file = await readEnvFile(path!);
    } catch (err) {
      const errors = refusalErrors(err);
      if (errors) return report(errors, path!);
      throw err;
    }
    return withService(globals, io, async (service) => {
      const env = new EnvImportService(service);
      const opts = { placement, tenant, mapping };
      const preview = await env.preview(file, opts);
      if (!preview.accepted) return report(preview.errors, preview.fileName);
      const failed = preview.errors.length > 0;
      let result: EnvStageResult | null = null;
      if (!dryRun && !failed) {
        result = await env.stage(file, {
          ...opts,
          includeRedundant: args.values['include-redundant'] === true,
          reason,
        });
        // Saved only after the import went through, so a refused file changes nothing.
        if (args.values['save-map'] === true && mapping.length > 0) {
          await env.saveMappings([...(await env.mappings()), ...mapping]);
        }
      }
      const shownPreview = result?.preview ?? preview;
      if (globals.json) {
        printJson(io, {
          mode: failed ? 'refused' : dryRun ? 'dry-run' : result!.mode,
          file: shownPreview.fileName,
          reason: result?.reason ?? null,
          written: result?.written.length ?? 0,
          items: itemsJson(shownPreview),
          errors: errorsJson(shownPreview.errors),
          warnings: errorsJson(shownPreview.warnings),
        });
      } else {
        printTable(io, shownPreview);
        for (const w of shownPreview.warnings)
          io.stderr(`${shownPreview.fileName}: ${w.message}\n`);
        for (const n of shownPreview.items) {
          if (n.note && n.action !== 'invalid')
            io.stderr(`${shownPreview.fileName}: Line ${n.line}: ${n.note}\n`);
        }
      }
      if (failed) {
        for (const e of preview.errors.slice(0, 20))
          io.stderr(`${preview.fileName}: ${e.message}\n`);
        io.stderr(
          `Nothing was imported: ${preview.errors.length === 1 ? 'one row' : `${preview.errors.length} rows`} cannot be written; fix the file, --map or --level and try again.\n`,
        );
        return 2;
      }
      if (!globals.json) {
        const s = shownPreview.summary;
        const counts = `${s.create} new, ${s.update} changed, ${s.unchanged} unchanged, ${s.redundant} redundant`;
        if (dryRun) {
          io.stdout(`Dry run of ${shownPreview.fileName}: ${counts}; nothing was written.\n`);
        } else if (result!.written.length === 0) {
          io.stdout(`Nothing to import from ${shownPreview.fileName} (${counts}).\n`);
        } else if (result!.mode === 'live') {
          io.stdout(
            `Applied ${result!.written.length} change(s) live from ${shownPreview.fileName} in one transaction (${counts}).\n`,
          );
        } else {
          io.stdout(
            `Staged ${result!.written.length} change(s) from ${shownPreview.fileName} in ${service.store.target} (${counts}).\n`,
          );
        }
      }
      return 0;
    });
  },
};
