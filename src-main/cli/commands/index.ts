/**
 * The command table. Each entry loads its implementation on demand; to add a command, write
 * src-main/cli/commands/<name>.ts exporting `command: CommandImpl` and add one line here.
 */
import type { CommandEntry } from '../command.js';
import { DRAFT_COMMANDS } from './draft-table.js';
import { ENV_COMMANDS } from './env-table.js';
import { TEMPLATE_COMMANDS } from './template-table.js';
import { IMPACT_COMMANDS } from './impact-table.js';

/** Every `strata` command, in the order `strata --help` lists them. */
export const COMMANDS: CommandEntry[] = [
  {
    name: 'db migrate',
    summary: 'Apply pending schema migrations (--print shows the SQL only)',
    load: async () => (await import('./db-migrate.js')).command,
  },
  {
    name: 'demo',
    summary: 'Load the demo hospital network (or --scale N) into an empty target',
    load: async () => (await import('./demo.js')).command,
  },
  {
    name: 'resolve',
    summary: 'Resolve one key for a user or an ad-hoc context, with its chain',
    load: async () => (await import('./resolve.js')).resolveCommand,
  },
  {
    name: 'effective',
    summary: 'Show every effective key for a user or an ad-hoc context',
    load: async () => (await import('./resolve.js')).effectiveCommand,
  },
  {
    name: 'set',
    summary: 'Set a value at a level and scope (staged in a draft)',
    load: async () => (await import('./set.js')).setCommand,
  },
  {
    name: 'unset',
    summary: 'Remove the value at a level and scope (staged in a draft)',
    load: async () => (await import('./set.js')).unsetCommand,
  },
  {
    name: 'history',
    summary: 'Show the audit history of a key',
    load: async () => (await import('./history.js')).command,
  },
  {
    name: 'users',
    summary: 'List directory users with their tenant, department, groups and traits',
    load: async () => (await import('./users.js')).command,
  },
  {
    name: 'audit verify',
    summary: 'Check the hash chain of the audit trail; report the first broken link',
    load: async () => (await import('./audit-verify.js')).command,
  },
  {
    name: 'serve',
    summary: 'Serve the console on http://127.0.0.1 (prints the URL with its access token first)',
    load: async () => (await import('./serve.js')).command,
  },
  ...DRAFT_COMMANDS,
  ...ENV_COMMANDS,
  ...TEMPLATE_COMMANDS,
  ...IMPACT_COMMANDS,
];
