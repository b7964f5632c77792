/**
 * `strata plan <draft.sqlite> [--to URL]`: the three-way plan of a draft's staged changes
 * against production (base, live, mine), with conflicts and parent-level changes.
 */
import { DraftWorkspace, withDraftTarget } from '../../services/draft-service.js';
import { computePlan } from '../../services/draft-plan.js';
import { planJson } from '../../services/draft-display.js';
import { resolveConflicts } from '../../services/draft-resolve.js';
import { positionals, printJson } from '../command.js';
import type { CommandImpl } from '../command.js';
import {
  RESOLVE_FLAGS,
  RESOLVE_HELP,
  formatPlan,
  progressPrinter,
  resolutionFlags,
  toFlag,
} from './draft-cli.js';

export const command: CommandImpl = {
  usage: `Usage: strata plan <draft.sqlite> [--to <postgres-url>] [--json] [--keep-mine <item>]... [--take-theirs <item>]...

Compares every staged change of the draft three ways: base (what the draft was pulled from),
live (what production holds now) and mine (the staged value), and says what a push would do:
  create / update / delete   production still holds the base; the push writes the change
  no-op                      production already holds my value
  conflict                   production changed since the base; push writes nothing until
                             it is settled (keep mine, take theirs, or edit)
It also reports where a more general level of a staged key changed in production since the
base (the effective value under your change moved). Staged directory rows (tenants,
departments, groups, users) are planned too. Secret values are masked. Nothing is written to
production; the draft records only the resolutions given with the flags below.

  --to <postgres-url>    the target of a draft that has no source yet (its first push);
                         a pulled draft is planned against the database it came from
${RESOLVE_HELP}
  --json                 {"draft","target","environment","fresh","items":[{"id","slot","level",
                         "scope","key","action","change","base","live","mine","value_type",
                         "secret","conflict","resolution","parent_changed":[...]}],
                         "directory":[...],"conflicts":<unresolved>,"resolved_conflicts","summary"}

Examples:
  strata plan ./tuesday.sqlite
  strata plan ./new-site.sqlite --to postgres://admin@db.example.org/strata --json`,
  options: { to: { type: 'string' }, ...RESOLVE_FLAGS },
  async run(args, globals, io) {
    const [file] = positionals(args, ['draft.sqlite'], 'plan');
    const onProgress = progressPrinter(io, 'plan');
    const requests = resolutionFlags(args);
    const ws = DraftWorkspace.open(file!);
    try {
      const plan = await withDraftTarget(ws, toFlag(args), (live) =>
        requests.length > 0
          ? resolveConflicts(ws, live, requests, { operator: globals.as, env: io.env, onProgress })
          : computePlan(ws, live, { onProgress }),
      );
      if (globals.json) printJson(io, planJson(plan));
      else io.stdout(formatPlan(plan));
    } finally {
      await ws.close();
    }
  },
};
