/**
 * `strata promote <from> <to-draft.sqlite>`: stages into a draft what another target has and the
 * draft lacks (e.g. staging's tenant setup into a draft of production), for the usual plan and push.
 */
import { promote } from '../../services/diff-service.js';
import { positionals, printJson, str, strs } from '../command.js';
import type { CommandImpl } from '../command.js';

export const command: CommandImpl = {
  usage: `Usage: strata promote <from> <to-draft.sqlite> [--tenant <id>]... [--prefix <p>] [--with-deletes] [--reason <text>] [--json]

Stages into a draft the difference between <from> (a PostgreSQL URL, a draft, or base:<draft>)
and the draft: values <from> has that the draft lacks or holds differently, and directory rows
(tenants, departments, groups, users) it lacks. Nothing is sent to any database: review with
\`strata plan <to-draft.sqlite>\` and apply with \`strata push\`. Secret values are copied as
their encrypted envelopes when CONFIG_ENCRYPTION_KEY can decrypt them; otherwise they are
skipped and counted.

  --tenant <id>       only this tenant's values and directory rows (repeatable)
  --prefix <prefix>   only keys starting with this prefix
  --with-deletes      also stage removal of values <from> does not have (within the filter)
  --reason <text>     recorded with the staged changes (default: "promoted from <from>")
  --json              {"from":{"spec","kind","environment"},"draft","staged","unset",
                      "directory","skipped_secrets"}

Example:
  strata pull postgres://admin@prod/strata ./prod.sqlite
  strata promote postgres://admin@staging/strata ./prod.sqlite --tenant st_marys --as superadmin
  strata plan ./prod.sqlite && strata push ./prod.sqlite --reason "St Mary's go-live" --as superadmin`,
  options: {
    tenant: { type: 'string', multiple: true },
    prefix: { type: 'string' },
    'with-deletes': { type: 'boolean' },
    reason: { type: 'string' },
  },
  async run(args, globals, io) {
    const [from, draft] = positionals(args, ['from', 'to-draft.sqlite'], 'promote');
    const r = await promote(from!, draft!, {
      tenants: strs(args, 'tenant'),
      prefix: str(args, 'prefix') ?? null,
      withDeletes: args.values['with-deletes'] === true,
      reason: str(args, 'reason') ?? null,
      operator: globals.as,
      env: io.env,
    });
    if (r.skippedSecrets > 0) {
      io.stderr(`Note: ${r.skippedSecrets} secret value(s) were not promoted: ${r.skippedWhy}.\n`);
    }
    if (globals.json) {
      printJson(io, {
        from: r.from,
        draft: r.draft,
        staged: r.staged,
        unset: r.unset,
        directory: r.directory,
        skipped_secrets: r.skippedSecrets,
      });
      return;
    }
    io.stdout(
      `Staged into ${r.draft} from ${r.from.spec}: ${r.staged} value(s), ${r.unset} removal(s), ${r.directory} directory row(s). Review with strata plan.\n`,
    );
  },
};
