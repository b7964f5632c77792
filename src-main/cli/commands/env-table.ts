/**
 * Command-table rows of the .env commands, spread into the CLI's table. Kept apart from their
 * implementations so `strata --help` loads neither.
 */
import type { CommandEntry } from '../command.js';

/** `import-env` and `export-env`. */
export const ENV_COMMANDS: CommandEntry[] = [
  {
    name: 'import-env',
    summary: 'Import a legacy .env file (mapped, placed, typed; one write or none)',
    load: async () => (await import('./import-env.js')).command,
  },
  {
    name: 'export-env',
    summary: 'Write the effective configuration of a user or context as a .env file',
    load: async () => (await import('./export-env.js')).command,
  },
];
