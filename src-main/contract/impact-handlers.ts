/**
 * Handlers of the impact, lint and history channels, spread into the one handler table. Thin
 * adapters onto the impact, lint and point-in-time services of the workspace's config service.
 */
import { StrataError } from '../core/types.js';
import { StrataConfigService } from '../services/config-service.js';
import { pointInTime } from '../services/history-service.js';
import { impactServiceFor } from '../services/impact-service.js';
import { lintServiceFor } from '../services/lint-service.js';
import type { ConfigService } from '../services/types.js';
import type { ParsedRequestOf, ResponseOf } from './contract.js';
import type { ImpactChannel } from './impact-channels.js';

type Impl<C extends ImpactChannel> = (req: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;

/** The impact, lint and history channel implementations over a config service. */
export function impactHandlers(service: ConfigService): { [C in ImpactChannel]: Impl<C> } {
  const config = (): StrataConfigService => {
    if (service instanceof StrataConfigService) return service;
    throw new StrataError('invalid', 'This workspace has no impact, lint or history service.');
  };
  return {
    'impact:preview': (r) =>
      impactServiceFor(config()).preview({
        ...(r.changes !== undefined ? { changes: r.changes } : {}),
        ...(r.includeUsers !== undefined ? { includeUsers: r.includeUsers } : {}),
        ...(r.userId !== undefined ? { userId: r.userId } : {}),
        ...(r.key !== undefined ? { key: r.key } : {}),
      }),
    'lint:run': (r) =>
      lintServiceFor(config()).run({
        ...(r.staged !== undefined ? { staged: r.staged } : {}),
        ...(r.only !== undefined ? { only: r.only } : {}),
      }),
    'history:at': (r) =>
      pointInTime(config(), {
        at: r.at,
        ...(r.context !== undefined ? { context: r.context } : {}),
        ...(r.level !== undefined ? { level: r.level } : {}),
        ...(r.scope !== undefined ? { scope: r.scope } : {}),
        ...(r.changedOnly !== undefined ? { changedOnly: r.changedOnly } : {}),
      }),
  };
}
