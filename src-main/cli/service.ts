/**
 * Opening the config service for a command: the target from --db / STRATA_DB, the operator from
 * --as / STRATA_OPERATOR, always closed afterwards so the process exits promptly.
 */
import { openService } from '../services/config-service.js';
import type { StrataConfigService } from '../services/config-service.js';
import { requireDb } from './command.js';
import type { CliIO, GlobalOptions } from './command.js';

/** Runs `fn` with an open service and closes it afterwards. */
export async function withService<T>(
  globals: GlobalOptions,
  io: CliIO,
  fn: (service: StrataConfigService) => Promise<T>,
): Promise<T> {
  const service = await openService({
    db: requireDb(globals),
    operator: globals.as,
    env: io.env,
    revealVia: 'cli',
  });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}
