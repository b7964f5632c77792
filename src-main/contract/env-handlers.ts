/**
 * Handlers of the .env channels, spread into the one handler table: thin adapters onto the
 * workspace's EnvImportService. A stage announces the written slots (config-changed) and, in a
 * draft, the new staged count, so the console refreshes what it shows.
 */
import { StrataError } from '../core/types.js';
import { StrataConfigService } from '../services/config-service.js';
import { envServiceFor } from '../services/env-import-service.js';
import type { EnvImportService } from '../services/env-import-service.js';
import type { EnvFile, EnvImportOptions } from '../services/env-types.js';
import type { ConfigService } from '../services/types.js';
import type { ParsedRequestOf, ResponseOf, StrataEvent } from './contract.js';
import type { EnvChannel } from './env-channels.js';

type Impl<C extends EnvChannel> = (req: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;

/** Options: an explicit .env service (else the config service's own) and the event sink. */
export interface EnvHandlerOptions {
  env?: EnvImportService | null;
  emit?: (event: StrataEvent) => void;
}

const encoder = new TextEncoder();

function fileOf(r: { fileName: string; content: string }): EnvFile {
  return { fileName: r.fileName, bytes: encoder.encode(r.content) };
}

function importOptions(r: ParsedRequestOf<'env:preview'>): EnvImportOptions {
  const opts: EnvImportOptions = {};
  if (r.placement !== undefined) opts.placement = r.placement;
  if (r.tenant !== undefined) opts.tenant = r.tenant;
  if (r.mapping !== undefined) opts.mapping = r.mapping;
  if (r.overrides !== undefined) opts.overrides = r.overrides;
  return opts;
}

/** The .env channel implementations over a config service. */
export function envHandlers(
  service: ConfigService,
  options: EnvHandlerOptions = {},
): { [C in EnvChannel]: Impl<C> } {
  const emit = options.emit ?? (() => {});
  // Created now, not on the first .env request: a draft's legacy attachment must be back in
  // place before the console's first resolve.
  if (!options.env && service instanceof StrataConfigService) envServiceFor(service);
  const env = (): EnvImportService => {
    if (options.env) return options.env;
    if (service instanceof StrataConfigService) return envServiceFor(service);
    throw new StrataError('invalid', 'This workspace cannot import or export .env files.');
  };
  return {
    'env:preview': (r) => env().preview(fileOf(r), importOptions(r)),
    'env:stage': async (r) => {
      const result = await env().stage(fileOf(r), {
        ...importOptions(r),
        select: r.select ?? null,
        includeRedundant: r.includeRedundant ?? false,
        reason: r.reason ?? null,
      });
      if (result.written.length > 0) {
        emit({
          type: 'config-changed',
          changes: result.written.map((w) => ({
            level: w.level,
            scope: w.scope,
            key: w.key,
            action: 'set' as const,
          })),
          mode: result.mode,
        });
        if (result.mode === 'staged') {
          emit({ type: 'staged-changed', count: (await service.info()).stagedCount });
        }
      }
      return result;
    },
    'env:export': (r) =>
      env().exportEnv({
        context: r.context,
        includeSecrets: r.includeSecrets ?? false,
        mapping: r.mapping ?? null,
        reason: r.reason ?? null,
        via: 'console',
      }),
    'env:attachLegacy': (r) =>
      'detach' in r
        ? env().detachLegacy()
        : env().attachLegacy(fileOf(r), { mapping: r.mapping ?? null }),
    'env:legacyStatus': () => env().legacyStatus(),
    'env:mappings': () => env().mappings(),
    'env:saveMappings': (r) => env().saveMappings(r.mapping),
  };
}
