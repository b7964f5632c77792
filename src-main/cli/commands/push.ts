/**
 * `strata push <draft.sqlite> [--to URL] [--reason R]`: applies the draft's plan to production
 * in one transaction, or writes nothing and exits 3 while any conflict is unresolved.
 */
import { DraftWorkspace, withDraftTarget } from '../../services/draft-service.js';
import { pushJson } from '../../services/draft-display.js';
import { resolveConflicts } from '../../services/draft-resolve.js';
import { pushGuardrailHook } from '../../services/lint-service.js';
import { pushWorkspace } from '../../services/push-service.js';
import { exitCodeFor, positionals, printJson, str } from '../command.js';
import type { CommandImpl } from '../command.js';
import { reportError } from '../main.js';
import {
  RESOLVE_FLAGS,
  RESOLVE_HELP,
  errorDetails,
  progressPrinter,
  resolutionFlags,
  toFlag,
} from './draft-cli.js';

export const command: CommandImpl = {
  usage: `Usage: strata push <draft.sqlite> [--to <postgres-url>] [--reason <text>] [--as <user>] [--json]

Applies the draft's plan to production in ONE PostgreSQL transaction:
  - while any conflict is unresolved, nothing is written and the push exits 3 listing them;
  - every item is checked against the operator's rights (in production's directory) before
    anything is written; a refused item refuses the whole push (exit 2);
  - updates and deletes require the row version the plan saw and creates require an empty
    slot; if production changed after the plan, the whole push rolls back (exit 3);
  - one audit row per change carries the push id and the reason; the push id is recorded in
    the same transaction, so a retry after a lost connection reports "already applied" and
    never applies twice;
  - afterwards the draft's staged changes are marked pushed and its base is refreshed.
A database labelled production needs --reason.

  --to <postgres-url>    the target of a draft that has no source yet (its first push creates
                         its whole directory, metadata and values there)
  --reason <text>        why; stored with every audit row of the push
  --override-policy <why>
                         push although it breaks an error-level policy rule (super_admin only;
                         the reason is required). Locks, invalid values and plaintext secrets
                         are never overridable. Without it such a push is refused (exit 2).
${RESOLVE_HELP}
  --json                 {"status":"applied|already-applied|nothing","push_id","draft","target",
                         "environment","applied","directory","metadata","no_op","skipped",
                         "base_refreshed","warning"}; on exit 3 {"status":"conflict",
                         "conflicts":[...]}, on a refusal {"status":"refused","refused":[...]}

Examples:
  strata push ./tuesday.sqlite --reason "CHG-1042 fax backend to SIP" --as superadmin
  strata push ./new-site.sqlite --to postgres://admin@db.example.org/strata --reason "new site"`,
  options: {
    to: { type: 'string' },
    reason: { type: 'string' },
    'override-policy': { type: 'string' },
    ...RESOLVE_FLAGS,
  },
  async run(args, globals, io) {
    const [file] = positionals(args, ['draft.sqlite'], 'push');
    const onProgress = progressPrinter(io, 'push');
    const requests = resolutionFlags(args);
    const to = toFlag(args);
    const ws = DraftWorkspace.open(file!);
    try {
      if (requests.length > 0) {
        await withDraftTarget(ws, to, (live) =>
          resolveConflicts(ws, live, requests, { operator: globals.as, env: io.env, onProgress }),
        );
      }
      // Guardrails (lint-service.ts): locks and policy rules re-checked against the target.
      const override = str(args, 'override-policy');
      const guardrails = pushGuardrailHook(
        override !== undefined ? { reason: override } : null,
        (check) => {
          for (const f of check.overridden) {
            io.stderr(`Policy overridden (${override ?? ''}): ${f.message}\n`);
          }
        },
      );
      const out = await pushWorkspace(ws, {
        to,
        reason: str(args, 'reason') ?? null,
        operator: globals.as,
        onProgress,
        guardrails,
      });
      if (globals.json) {
        printJson(io, pushJson(out));
      } else if (out.status === 'already-applied') {
        io.stdout(
          `Push ${out.pushId} had already landed on ${out.target}; nothing was applied again and the draft now records it.\n`,
        );
      } else if (out.status === 'nothing') {
        io.stdout(
          `Nothing to push to ${out.target}: ${out.noop} change(s) production already has, ${out.skipped} settled as theirs.\n`,
        );
      } else {
        const env = out.environment ? ` (${out.environment})` : '';
        const extra = [
          out.directory > 0 ? `${out.directory} directory row(s)` : '',
          out.metadata > 0 ? `${out.metadata} metadata key(s)` : '',
          out.applications > 0 ? `${out.applications} template application(s)` : '',
        ].filter(Boolean);
        io.stdout(
          `Pushed ${out.applied} change(s)${extra.length > 0 ? ` and ${extra.join(' and ')}` : ''} to ${out.target}${env} as push ${out.pushId}` +
            `${out.noop > 0 ? `; ${out.noop} no-op` : ''}${out.skipped > 0 ? `; ${out.skipped} kept as theirs` : ''}.\n`,
        );
      }
      if (out.warning) io.stderr(`${out.warning}\n`);
      return 0;
    } catch (err) {
      const doc = globals.json ? errorDetails(err) : null;
      if (doc === null) throw err;
      printJson(io, doc);
      reportError(err, io);
      return exitCodeFor(doc.status === 'conflict' ? 'conflict' : 'forbidden');
    } finally {
      await ws.close();
    }
  },
};
