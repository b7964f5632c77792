/**
 * Handlers of the template channels, spread into the one handler table. Each is a thin adapter
 * onto the TemplateService of the workspace's config service; writes announce the changed slots
 * as a config-changed event so the console refreshes what it shows.
 */
import { StrataError } from '../core/types.js';
import { StrataConfigService } from '../services/config-service.js';
import { templateServiceFor } from '../services/template-service.js';
import type { TemplateService } from '../services/template-service.js';
import type { TemplateDiffView } from '../services/template-types.js';
import type { ConfigService } from '../services/types.js';
import type { ParsedRequestOf, ResponseOf, StrataEvent } from './contract.js';
import type { TemplateChannel } from './template-channels.js';

type Impl<C extends TemplateChannel> = (req: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;

/** Options: an explicit template service (else the config service's own) and the event sink. */
export interface TemplateHandlerOptions {
  templates?: TemplateService | null;
  emit?: (event: StrataEvent) => void;
}

function changed(
  items: readonly Pick<TemplateDiffView, 'level' | 'scope' | 'key' | 'action'>[],
): Extract<StrataEvent, { type: 'config-changed' }>['changes'] {
  return items
    .filter((i) => i.action !== 'unchanged')
    .map((i) => ({
      level: i.level,
      scope: i.scope,
      key: i.key,
      action: i.action === 'remove' ? ('unset' as const) : ('set' as const),
    }));
}

/** The template channel implementations over a config service. */
export function templateHandlers(
  service: ConfigService,
  options: TemplateHandlerOptions = {},
): { [C in TemplateChannel]: Impl<C> } {
  const emit = options.emit ?? (() => {});
  const templates = (): TemplateService => {
    if (options.templates) return options.templates;
    if (service instanceof StrataConfigService) return templateServiceFor(service);
    throw new StrataError('invalid', 'This workspace has no template service.');
  };
  const announce = (
    mode: 'live' | 'staged',
    dryRun: boolean,
    items: readonly Pick<TemplateDiffView, 'level' | 'scope' | 'key' | 'action'>[],
  ): void => {
    if (dryRun) return;
    const changes = changed(items);
    if (changes.length > 0) emit({ type: 'config-changed', changes, mode });
  };
  return {
    'template:list': () => templates().list(),
    'template:show': (r) => templates().show(r.name),
    'template:preview': (r) =>
      templates().preview({
        template: r.template,
        level: r.level,
        scope: r.scope,
        vars: r.vars ?? {},
      }),
    'template:apply': async (r) => {
      const result = await templates().apply({
        template: r.template,
        level: r.level,
        scope: r.scope,
        vars: r.vars ?? {},
        reason: r.reason ?? null,
        dryRun: r.dryRun ?? false,
      });
      announce(result.mode, result.dryRun, result.items);
      return result;
    },
    'template:upgrades': (r) =>
      templates().upgrades({
        ...(r.template !== undefined ? { template: r.template } : {}),
        ...(r.tenant !== undefined ? { tenant: r.tenant } : {}),
      }),
    'template:upgrade': async (r) => {
      const result = await templates().upgrade({
        template: r.template,
        level: r.level,
        scope: r.scope,
        vars: r.vars ?? {},
        reason: r.reason ?? null,
        dryRun: r.dryRun ?? false,
      });
      announce(result.mode, result.dryRun, result.items);
      return result;
    },
    'template:save': (r) =>
      templates().saveCustom({
        name: r.name,
        level: r.level,
        scope: r.scope,
        ...(r.description !== undefined ? { description: r.description } : {}),
      }),
    'tenant:create': async (r) => {
      const result = await templates().createTenant({
        id: r.id,
        name: r.name,
        template: r.template,
        ...(r.tenantType !== undefined ? { tenantType: r.tenantType } : {}),
        ...(r.departments !== undefined ? { departments: r.departments } : {}),
        ...(r.groups !== undefined ? { groups: r.groups } : {}),
        vars: r.vars ?? {},
        reason: r.reason ?? null,
        dryRun: r.dryRun ?? false,
      });
      announce(result.mode, result.dryRun, result.items);
      return result;
    },
    'bulk:set': async (r) => {
      const result = await templates().bulkSet({
        key: r.key,
        action: r.action,
        ...(r.value !== undefined ? { value: r.value } : {}),
        ...(r.valueType !== undefined ? { valueType: r.valueType } : {}),
        ...(r.locked !== undefined ? { locked: r.locked } : {}),
        level: r.level,
        scopes: r.scopes,
        reason: r.reason ?? null,
        dryRun: r.dryRun ?? false,
      });
      if (!result.dryRun) {
        const changes = result.items
          .filter((i) => i.changed)
          .map((i) => ({ level: i.level, scope: i.scope, key: i.key, action: i.action }));
        if (changes.length > 0) emit({ type: 'config-changed', changes, mode: result.mode });
      }
      return result;
    },
  };
}
