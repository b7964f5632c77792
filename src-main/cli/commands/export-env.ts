/**
 * `strata export-env <context>`: the effective configuration of a user or context as a .env file
 * a legacy service can load with dotenv. Secret keys are left out unless --include-secrets, and
 * then each exported secret is recorded in the reveal log before anything is written.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { StrataError } from '../../core/types.js';
import { EnvImportService } from '../../services/env-import-service.js';
import type { EnvMappingPair } from '../../services/env-types.js';
import { positionals, printJson, str, strs, usage } from '../command.js';
import type { CommandImpl } from '../command.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, contextFromFlags } from '../context-flags.js';
import { withService } from '../service.js';

function mappingOf(values: string[]): EnvMappingPair[] {
  return values.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0 || eq === text.length - 1) {
      throw usage(
        `--map takes ENV_NAME=config.key (e.g. --map FAX_TIMEOUT=fax.timeout_seconds); got '${text.slice(0, 40)}'.`,
      );
    }
    return { envKey: text.slice(0, eq), key: text.slice(eq + 1) };
  });
}

/** `strata export-env <context> [--include-secrets [--reason text]] [--out file] [--map ENV=key]...`. */
export const command: CommandImpl = {
  usage: `Usage: strata export-env (--user <id> | --tenant <id> [--department <id>] [--group <id>]... [--user-id <id>]) [--out <file>] [--map ENV_NAME=key]... [--include-secrets [--reason <text>]] [--json]

Writes the effective configuration of a user or context as a .env file that a legacy service
can read with dotenv: one NAME=value line per key, named as import-env maps them back
(fax.backend.provider -> FAX_BACKEND, other keys upper-cased with '.' and '-' as '_'), each
value quoted so it reads back identically. Keys that share a name are reported and only the
one an import maps back to is written.

Secret keys are left out unless --include-secrets. With it, every exported secret is recorded in
the reveal log (who, which slot, when, the reason with the context, via cli; never the value)
before anything is printed or written; when the record cannot be written nothing is exported
(exit 2). Files are written with owner-only permissions.

${CONTEXT_HELP}

  --out <file>           write the file here (default: stdout)
  --map ENV_NAME=key     export a key under this name (repeatable)
  --include-secrets      include secret values in plaintext (recorded in the reveal log)
  --reason <text>        why the secrets are exported; recorded with the reveals
                         (needs --include-secrets)
  --json                 {"file","items":[{"env_key","key","level","scope","secret"}],
                          "omitted_secrets":[...],"notes":[...],"text"}  (text only without --out)

Example:
  strata export-env --user dr_house --out ./dr_house.env --db ./demo.sqlite
  strata export-env --user dr_house --include-secrets --reason "fax server migration" --out ./dr_house.env --db ./demo.sqlite`,
  options: {
    ...CONTEXT_OPTIONS,
    out: { type: 'string' },
    map: { type: 'string', multiple: true },
    'include-secrets': { type: 'boolean' },
    reason: { type: 'string' },
  },
  async run(args, globals, io) {
    positionals(args, [], 'export-env');
    const context = contextFromFlags(args, 'export-env');
    const mapping = mappingOf(strs(args, 'map'));
    const out = str(args, 'out');
    if (out === '') throw usage('--out needs a file path.');
    const includeSecrets = args.values['include-secrets'] === true || globals.reveal;
    const reason = str(args, 'reason') ?? null;
    if (reason !== null && !includeSecrets) {
      throw usage(
        '--reason is recorded with exported secrets; add --include-secrets or leave --reason out.',
      );
    }
    await withService(globals, io, async (service) => {
      const env = new EnvImportService(service);
      const result = await env.exportEnv({
        context,
        includeSecrets,
        mapping,
        reason,
        via: 'cli',
      });
      if (out !== undefined) {
        try {
          await writeFile(out, result.text, { encoding: 'utf8', mode: 0o600 });
          // mode applies only to a new file; an existing one may have been world-readable.
          await chmod(out, 0o600);
        } catch {
          throw new StrataError(
            'invalid',
            `Cannot write ${out}; check the folder and permissions.`,
          );
        }
      }
      if (globals.json) {
        printJson(io, {
          file: out ?? null,
          items: result.rows.map((r) => ({
            env_key: r.envKey,
            key: r.key,
            level: r.level,
            scope: r.scope,
            secret: r.secret,
          })),
          omitted_secrets: result.omittedSecrets,
          notes: result.notes,
          ...(out === undefined ? { text: result.text } : {}),
        });
      } else if (out === undefined) {
        io.stdout(result.text);
      } else {
        io.stdout(`Wrote ${result.rows.length} variable(s) to ${out}.\n`);
      }
      for (const n of result.notes) io.stderr(`Note: ${n}\n`);
      if (result.omittedSecrets.length > 0) {
        io.stderr(
          `Note: ${result.omittedSecrets.length} secret key(s) left out (${result.omittedSecrets.join(', ')}); pass --include-secrets to include them.\n`,
        );
      }
    });
  },
};
