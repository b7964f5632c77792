/**
 * The pure core of .env import and export: a strict parser that agrees with dotenv where both
 * accept a file, a serialiser both read back exactly, name mapping, placement and import plans.
 */
export * from './parse-env.js';
export * from './serialize-env.js';
export * from './mapping.js';
export * from './placement.js';
export * from './import-plan.js';
