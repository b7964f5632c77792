/**
 * `strata lint`: the guardrails over a whole workspace (or a draft's staged set): redundant and
 * dead overrides, values breaking their metadata, unencrypted secrets, keys without metadata,
 * unknown scopes, and the policy rules stored in the database. Exit code 2 when any finding is
 * an error, so scripts and CI can gate on it.
 */
import { LINT_RULES } from '../../core/lint.js';
import type { LintRule } from '../../core/lint.js';
import { lintServiceFor } from '../../services/lint-service.js';
import { positionals, printJson, strs, usage } from '../command.js';
import type { CommandImpl } from '../command.js';
import { withService } from '../service.js';
import { findingJson, printFindings } from './impact.js';

export const command: CommandImpl = {
  usage: `Usage: strata lint [--staged] [--only <rule>]... [--json]

Runs the guardrails and lists what they find, errors first:
  locked              a change overrides a value locked at a more general level
  policy              users break a policy rule stored in the database, e.g. "where
                      compliance.hipaa.enabled is true, features.email_gateway.enabled must be false"
  invalid-value       a value breaks its metadata (type, range, pattern, options)
  unencrypted-secret  a secret-looking key is stored in plaintext
  dead                an override can never take effect (locked above, or every member overrides it)
  redundant           an override equals what it inherits
  unknown-scope       values at a tenant, department, group or user the directory does not know
  no-metadata         a key set somewhere has no metadata

  --staged       a draft's staged changes only (what plan and push check)
  --only <rule>  only this guardrail (repeatable)
  --json         {"errors","warnings","infos","findings":[{"rule","severity","key","level","scope",
                  "message",...}]}

Exits 2 when there is at least one error finding.

Example:
  strata lint --db postgres://strata@db.example.org/strata --json`,
  options: { staged: { type: 'boolean' }, only: { type: 'string', multiple: true } },
  async run(args, globals, io) {
    positionals(args, [], 'lint');
    const only = strs(args, 'only');
    for (const r of only) {
      if (!(LINT_RULES as readonly string[]).includes(r)) {
        throw usage(
          `Unknown guardrail '${r.slice(0, 40)}'; the guardrails are ${LINT_RULES.join(', ')}.`,
        );
      }
    }
    return withService(globals, io, async (service) => {
      const report = await lintServiceFor(service).run({
        staged: args.values.staged === true,
        ...(only.length > 0 ? { only: only as LintRule[] } : {}),
      });
      if (globals.json) {
        printJson(io, {
          errors: report.counts.error,
          warnings: report.counts.warning,
          infos: report.counts.info,
          findings: report.findings.map(findingJson),
        });
      } else if (report.findings.length === 0) {
        io.stdout('No findings.\n');
      } else {
        printFindings(io, report.findings);
        io.stdout(
          `\n${report.counts.error} error(s), ${report.counts.warning} warning(s), ${report.counts.info} note(s).\n`,
        );
      }
      return report.counts.error > 0 ? 2 : 0;
    });
  },
};
