/**
 * Templates: the format, parsing, rendering, diffing, upgrades, custom templates and tenant
 * provisioning plans. Pure: callers read files and write stores.
 */
export * from './types.js';
export * from './rules.js';
export * from './schema.js';
export * from './render.js';
export * from './diff.js';
export * from './custom.js';
export * from './tenant.js';
export * from './builtin.js';
