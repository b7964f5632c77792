/**
 * Command-table rows of the template commands (`template ...`, `tenant create`), spread into
 * the CLI's table. Kept apart from their implementations so `strata --help` loads neither.
 */
import type { CommandEntry } from '../command.js';

/** The template and tenant-provisioning commands. */
export const TEMPLATE_COMMANDS: CommandEntry[] = [
  {
    name: 'template list',
    summary: 'List configuration templates (built-in and custom) with their versions',
    load: async () => (await import('./template.js')).listCommand,
  },
  {
    name: 'template show',
    summary: 'Show a template: values, variables, instructions, versions, where it is applied',
    load: async () => (await import('./template.js')).showCommand,
  },
  {
    name: 'template apply',
    summary: 'Apply a template at a level and scope (--dry-run shows the diff only)',
    load: async () => (await import('./template.js')).applyCommand,
  },
  {
    name: 'template upgrades',
    summary: 'List scopes using an older template version and what upgrading changes',
    load: async () => (await import('./template.js')).upgradesCommand,
  },
  {
    name: 'template upgrade',
    summary: 'Bring one scope to the current version of its template',
    load: async () => (await import('./template.js')).upgradeCommand,
  },
  {
    name: 'template save',
    summary: "Save a scope's overrides as a custom template (secrets become variables)",
    load: async () => (await import('./template.js')).saveCommand,
  },
  {
    name: 'template publish',
    summary: 'Store a template file as a new template or a new version of one',
    load: async () => (await import('./template.js')).publishCommand,
  },
  {
    name: 'template seed',
    summary: 'Load the built-in templates (and their key metadata) into the target',
    load: async () => (await import('./template.js')).seedCommand,
  },
  {
    name: 'tenant create',
    summary: 'Create a tenant with departments, groups and values from a tenant template',
    load: async () => (await import('./tenant.js')).createCommand,
  },
];
