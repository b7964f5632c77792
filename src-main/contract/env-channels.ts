/**
 * The .env channels of the contract: preview and stage an import, export a context, attach a
 * legacy file (hybrid mode) and keep a saved name -> key mapping. Spread into the contract's
 * request table; browser-safe (zod, the core's name pattern and types only).
 *
 * File content travels as text: the console first reads the dropped file's bytes with the
 * core's parseEnv, which refuses binary, UTF-16 and invalid UTF-8 on the spot, so whatever it
 * sends is valid UTF-8 and the text round-trips to the same bytes (a BOM included). Main parses
 * again from those bytes; it never trusts the console's parse.
 */
import { z } from 'zod';
import { DEFAULT_MAX_ENV_BYTES, ENV_KEY_RE } from '../core/env/parse-env.js';
import type {
  EnvExport,
  EnvMappingPair,
  EnvPreview,
  EnvStageResult,
  LegacyStatus,
} from '../services/env-types.js';

export type {
  EnvExport,
  EnvExportRow,
  EnvMappingPair,
  EnvPreview,
  EnvPreviewItem,
  EnvStageResult,
  EnvWrittenRow,
  LegacyKey,
  LegacyStatus,
} from '../services/env-types.js';

/** Most name -> key pairs one mapping may hold. */
export const MAX_ENV_MAPPING_PAIRS = 1_000;
/** Most rows one request may select or override (a 1 MiB file has fewer assignments). */
export const MAX_ENV_ROWS = 100_000;

const level = z.enum(['global', 'tenant', 'department', 'group', 'user']);
const scope = z.string().max(201);
const id = z.string().min(1).max(100);
const key = z.string().min(1).max(200);
const envName = z
  .string()
  .min(1)
  .max(200)
  .refine((n) => ENV_KEY_RE.test(n), { message: 'is not a valid .env name' });
const fileName = z.string().max(1000);
// Characters, not bytes: UTF-8 never takes fewer bytes than UTF-16 code units, so this is a
// cheap first bound; the reader enforces the byte limit.
const content = z.string().max(DEFAULT_MAX_ENV_BYTES);
const reason = z.string().max(1000).nullable().optional();
const mapping = z.array(z.strictObject({ envKey: envName, key })).max(MAX_ENV_MAPPING_PAIRS);
const placement = z.union([z.literal('auto'), z.strictObject({ level, scope })]);
const override = z.strictObject({
  envKey: envName,
  key: key.optional(),
  level: level.optional(),
  scope: scope.optional(),
  valueType: z.enum(['string', 'number', 'boolean', 'json']).optional(),
});
// A copy of the contract's context schema: importing it would make the two modules circular.
const context = z.union([
  z.strictObject({ userId: id }),
  z.strictObject({
    tenantId: id,
    department: id.nullable().optional(),
    groups: z.array(id).max(100).optional(),
    userId: id.nullable().optional(),
  }),
]);

const importFields = {
  fileName,
  content,
  placement: placement.optional(),
  tenant: id.nullable().optional(),
  mapping: mapping.optional(),
  overrides: z.array(override).max(MAX_ENV_ROWS).optional(),
};

/** Request schemas of the .env channels (strict objects, bounded strings and arrays). */
export const envRequestSchemas = {
  'env:preview': z.strictObject(importFields),
  'env:stage': z.strictObject({
    ...importFields,
    select: z.array(envName).max(MAX_ENV_ROWS).nullable().optional(),
    includeRedundant: z.boolean().optional(),
    reason,
  }),
  'env:export': z.strictObject({
    context,
    includeSecrets: z.boolean().optional(),
    mapping: mapping.optional(),
    reason,
  }),
  'env:attachLegacy': z.union([
    z.strictObject({ fileName, content, mapping: mapping.optional() }),
    z.strictObject({ detach: z.literal(true) }),
  ]),
  'env:legacyStatus': z.strictObject({}),
  'env:mappings': z.strictObject({}),
  'env:saveMappings': z.strictObject({ mapping }),
} as const;

/** The .env channel names. */
export type EnvChannel = keyof typeof envRequestSchemas;

/** Response types of the .env channels. */
export interface EnvChannelResponses {
  'env:preview': EnvPreview;
  'env:stage': EnvStageResult;
  'env:export': EnvExport;
  'env:attachLegacy': LegacyStatus;
  'env:legacyStatus': LegacyStatus;
  'env:mappings': EnvMappingPair[];
  'env:saveMappings': EnvMappingPair[];
}
