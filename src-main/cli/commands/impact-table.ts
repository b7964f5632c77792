/**
 * Command-table rows of the impact, guardrail and point-in-time commands, spread into the CLI's
 * table. Kept apart from their implementations so `strata --help` loads neither.
 */
import type { CommandEntry } from '../command.js';

/** `impact`, `lint` and `revert-push` (`effective --at` lives on the effective command). */
export const IMPACT_COMMANDS: CommandEntry[] = [
  {
    name: 'impact',
    summary: "Show whose values a draft's staged changes would change, per slot and key",
    load: async () => (await import('./impact.js')).command,
  },
  {
    name: 'lint',
    summary: 'Run the guardrails: redundant/dead overrides, bad values, secrets, policy rules',
    load: async () => (await import('./lint.js')).command,
  },
  {
    name: 'revert-push',
    summary: 'Stage the undo of a past push in a draft (--into), for review and push',
    load: async () => (await import('./history-at.js')).revertPushCommand,
  },
];
