/**
 * `strata resolve-conflict <draft.sqlite> <item>... --keep-mine | --take-theirs | --edit <value>`:
 * settles conflicts of the draft's plan; the settled plan is printed.
 */
import { StrataError } from '../../core/types.js';
import { planJson } from '../../services/draft-display.js';
import { resolveDraft } from '../../services/draft-service.js';
import type { ResolutionRequest } from '../../services/draft-resolve.js';
import { printJson, str, usage } from '../command.js';
import type { CommandImpl } from '../command.js';
import { formatPlan, progressPrinter, toFlag } from './draft-cli.js';

export const command: CommandImpl = {
  usage: `Usage: strata resolve-conflict <draft.sqlite> <item>... (--keep-mine | --take-theirs | --edit <value>) [--to <postgres-url>] [--json]

Settles conflicts of the draft's plan (a staged change whose slot production changed since the
draft was pulled). Each choice is bound to the production value it was made against: if
production changes again before the push, the item is a conflict again.

  <item>            key@level:scope (key@global), a plan item id (s12, d3), dir:<kind>:<id>
                    for a staged directory row, or all (every unresolved conflict)
  --keep-mine       push my value over theirs
  --take-theirs     keep production's value; my change is dropped when the draft is pushed
  --edit <value>    push this value instead (validated and, for secrets, encrypted like any
                    set; needs --as like other draft writes)
  --to <url>        the target of a draft that has no source yet
  --json            the plan after the resolutions (as strata plan --json)

Examples:
  strata resolve-conflict ./tuesday.sqlite fax_backend@group:emergency_doctors_group --keep-mine
  strata resolve-conflict ./tuesday.sqlite all --take-theirs
  strata resolve-conflict ./tuesday.sqlite app.timeout@tenant:mercy_hospital --edit 45 --as superadmin`,
  options: {
    to: { type: 'string' },
    'keep-mine': { type: 'boolean' },
    'take-theirs': { type: 'boolean' },
    edit: { type: 'string' },
  },
  async run(args, globals, io) {
    const [file, ...items] = args.positionals;
    if (file === undefined || items.length === 0) {
      throw usage(
        'Name the draft and at least one conflict; see `strata resolve-conflict --help`.',
      );
    }
    const edit = str(args, 'edit');
    const choices = [
      args.values['keep-mine'] === true,
      args.values['take-theirs'] === true,
      edit !== undefined,
    ];
    if (choices.filter(Boolean).length !== 1) {
      throw usage('Give exactly one of --keep-mine, --take-theirs or --edit <value>.');
    }
    const choice = choices[0] ? 'mine' : choices[1] ? 'theirs' : 'edit';
    if (choice === 'edit' && items.length !== 1) {
      throw new StrataError('invalid', 'Edit one conflict at a time.');
    }
    const requests: ResolutionRequest[] = items.map((item) => ({
      item,
      choice,
      ...(edit !== undefined ? { value: edit } : {}),
    }));
    const plan = await resolveDraft(file, requests, {
      to: toFlag(args),
      operator: globals.as,
      env: io.env,
      onProgress: progressPrinter(io, 'resolve-conflict'),
    });
    if (globals.json) printJson(io, planJson(plan));
    else io.stdout(formatPlan(plan));
  },
};
