/**
 * `strata pull <postgres-url> <draft.sqlite>`: snapshots a database into a new draft, or
 * refreshes the base of an existing draft while keeping its staged changes (a rebase).
 */
import { pullDraft } from '../../services/draft-service.js';
import { positionals, printJson } from '../command.js';
import type { CommandImpl } from '../command.js';
import { progressPrinter } from './draft-cli.js';

export const command: CommandImpl = {
  usage: `Usage: strata pull <postgres-url> <draft.sqlite> [--json]

Copies a PostgreSQL configuration database into a draft workspace: every level, the directory,
key metadata, templates and policy rules (not the audit history), each row with the version it
had (the draft's base), and where it came from (the URL without its password, the time, the
environment label). Change the draft offline with \`strata --db <draft.sqlite> set/unset ...\`,
then \`strata plan\` and \`strata push\`.

  - <draft.sqlite> does not exist: a new draft is written (to a temporary file, renamed into
    place at the end, so a failed pull leaves nothing behind).
  - <draft.sqlite> is a draft of the same database: its base is refreshed and its staged
    changes are kept (a rebase); a change whose slot moved in production shows as a conflict
    in the next plan. When the database's audit trail shows no change since the draft's last
    pull or push, and the same database role reads it, the values and the directory are not
    read again (only metadata, templates, policy rules and the environment label): "current".
The password comes from the URL, PGPASSWORD or ~/.pgpass; it is never stored in the draft.

  --json   {"draft","source","environment","mode":"created|rebased|current","pulled_at","entries",
            "tenants","departments","groups","users","metadata","templates","staged","moved",
            "reconciled":[push ids]}

Examples:
  strata pull postgres://admin@db.example.org/strata ./tuesday.sqlite
  strata pull postgres://admin@db.example.org/strata ./tuesday.sqlite   (again: rebase)`,
  async run(args, globals, io) {
    const [url, file] = positionals(args, ['postgres-url', 'draft.sqlite'], 'pull');
    const r = await pullDraft(url!, file!, { onProgress: progressPrinter(io, 'pull') });
    if (globals.json) {
      printJson(io, {
        draft: r.draft,
        source: r.source,
        environment: r.environment,
        mode: r.mode,
        pulled_at: r.pulledAt,
        entries: r.entries,
        tenants: r.tenants,
        departments: r.departments,
        groups: r.groups,
        users: r.users,
        metadata: r.metadata,
        templates: r.templates,
        staged: r.staged,
        moved: r.moved,
        reconciled: r.reconciled,
      });
      return;
    }
    const env = r.environment ? ` (${r.environment})` : '';
    if (r.mode === 'created') {
      io.stdout(
        `Pulled ${r.source}${env} into ${r.draft}: ${r.tenants} tenants, ${r.departments} departments, ` +
          `${r.groups} groups, ${r.users} users, ${r.entries} values, ${r.metadata} metadata keys.\n`,
      );
    } else if (r.mode === 'current') {
      io.stdout(
        `${r.draft} is current with ${r.source}${env}: nothing changed there since its last pull or push; ` +
          `${r.entries} values in the base, ${r.staged} staged change(s) kept` +
          `${r.moved > 0 ? `, ${r.moved} of them on slots production changed (see strata plan)` : ''}.\n`,
      );
    } else {
      io.stdout(
        `Rebased ${r.draft} on ${r.source}${env}: ${r.entries} values in the base, ${r.staged} staged change(s) kept` +
          `${r.moved > 0 ? `, ${r.moved} of them on slots production changed (see strata plan)` : ''}.\n`,
      );
    }
    for (const id of r.reconciled) {
      io.stdout(`Push ${id} from this draft had landed; the draft now records it.\n`);
    }
  },
};
