/**
 * Command-table rows of the draft lifecycle commands (pull, plan, resolve-conflict, push, diff,
 * promote), spread into the CLI's table. Kept apart from their implementations so
 * `strata --help` loads none of them.
 */
import type { CommandEntry } from '../command.js';

/** The draft lifecycle commands. */
export const DRAFT_COMMANDS: CommandEntry[] = [
  {
    name: 'pull',
    summary: 'Snapshot a database into a draft, or rebase an existing draft on it',
    load: async () => (await import('./pull.js')).command,
  },
  {
    name: 'plan',
    summary: "Three-way plan of a draft's staged changes against production",
    load: async () => (await import('./plan.js')).command,
  },
  {
    name: 'resolve-conflict',
    summary: 'Settle plan conflicts: keep mine, take theirs, or edit',
    load: async () => (await import('./resolve-conflict.js')).command,
  },
  {
    name: 'push',
    summary: "Apply a draft's plan to production in one transaction",
    load: async () => (await import('./push.js')).command,
  },
  {
    name: 'diff',
    summary: 'Compare two targets (databases, drafts, a draft base) key by key',
    load: async () => (await import('./diff.js')).command,
  },
  {
    name: 'promote',
    summary: 'Stage the difference from another target into a draft',
    load: async () => (await import('./promote.js')).command,
  },
];
