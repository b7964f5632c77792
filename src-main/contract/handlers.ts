/**
 * The one handler table: every contract channel mapped onto the ConfigService (and the optional
 * DraftService). Electron IPC and the web bridge both register exactly this table, so the two
 * transports cannot behave differently. Each handler parses its request with the channel's strict
 * schema before any work and answers with an envelope; it never throws.
 */
import { StrataError } from '../core/types.js';
import type { Directory, Level } from '../core/types.js';
import type { ConfigService, ContextInput } from '../services/types.js';
import {
  CHANNELS,
  parseRequest,
  type Channel,
  type DraftService,
  type Envelope,
  type ErrorBody,
  type ParsedRequestOf,
  type ResponseOf,
  type SlotKeyView,
  type SlotView,
  type StrataEvent,
} from './contract.js';
import { templateHandlers } from './template-handlers.js';
import { envHandlers } from './env-handlers.js';
import { impactHandlers } from './impact-handlers.js';
import { connectionHandlers, type ConnectionsApi } from './connection-handlers.js';

/** A handler: raw (untrusted) request in, envelope out. */
export type Handler<C extends Channel> = (request: unknown) => Promise<Envelope<ResponseOf<C>>>;

/** The handler table. */
export type HandlerTable = { [C in Channel]: Handler<C> };

/** Options for createHandlers. */
export interface HandlerOptions {
  /** Draft/plan/push service; without it the draft channels answer a clear error. */
  drafts?: DraftService | null;
  /** Receives live-change and progress events for the console. */
  emit?: (event: StrataEvent) => void;
  /** Receives unexpected errors (never shown to the caller). */
  onInternalError?: (channel: Channel, error: unknown) => void;
  /** Connection profiles and workspace switching (the front door's workspace host). */
  connections?: ConnectionsApi | null;
}

type Impl<C extends Channel> = (req: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;

/** Maps any thrown value to a safe error body. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof StrataError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'Unexpected internal error; the details are in the log.' };
}

/** The context that resolves exactly the levels from global down to one slot. */
export function slotContext(level: Level, scope: string, dir: Directory): ContextInput | null {
  switch (level) {
    case 'global':
      return null;
    case 'tenant':
      return { tenantId: scope };
    case 'department': {
      const slash = scope.indexOf('/');
      if (slash <= 0) {
        throw new StrataError('invalid', 'A department scope must look like tenant/department.');
      }
      return { tenantId: scope.slice(0, slash), department: scope.slice(slash + 1) };
    }
    case 'group': {
      const group = dir.groups.find((g) => g.id === scope);
      if (!group?.tenantId) return null;
      return { tenantId: group.tenantId, department: group.department, groups: [scope] };
    }
    case 'user':
      return { userId: scope };
  }
}

async function buildSlotView(
  service: ConfigService,
  level: Level,
  scope: string,
): Promise<SlotView> {
  const [entries, metadata, dir] = await Promise.all([
    service.entries(level, scope),
    service.metadata(),
    service.directory(),
  ]);
  const context = slotContext(level, scope, dir);
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const keys = new Set<string>([...byKey.keys(), ...metadata.map((m) => m.key)]);
  if (context) {
    for (const item of await service.effective(context)) keys.add(item.key);
  }
  const items: SlotKeyView[] = [];
  for (const key of [...keys].sort()) {
    const entry = byKey.get(key) ?? null;
    let inherited: SlotKeyView['inherited'] = null;
    let lockedAbove = false;
    if (context) {
      const res = await service.resolve(key, context);
      const own = res.chain.findIndex((l) => l.level === level && l.scope === scope);
      const above = own >= 0 ? res.chain.slice(0, own) : res.chain;
      lockedAbove = above.some((l) => l.locked && l.value !== null);
      for (let i = above.length - 1; i >= 0; i--) {
        const link = above[i]!;
        if (link.value !== null) {
          inherited = {
            value: link.value,
            valueType: link.valueType ?? res.valueType,
            level: link.level,
            scope: link.scope,
            encrypted: link.encrypted,
            locked: link.locked,
          };
          break;
        }
      }
    } else {
      const meta = metadata.find((m) => m.key === key);
      if (meta && meta.defaultValue !== null) {
        inherited = {
          value: meta.defaultValue,
          valueType: meta.valueType,
          level: 'default',
          scope: '',
          encrypted: false,
          locked: false,
        };
      }
    }
    items.push({ key, entry, inherited, lockedAbove });
  }
  return { level, scope, context, items };
}

function noDrafts(): never {
  throw new StrataError(
    'invalid',
    'This workspace has no draft service; staging, plans and pushes need a draft workspace.',
  );
}

/** Builds the handler table over a config service (and optionally a draft service). */
export function createHandlers(service: ConfigService, options: HandlerOptions = {}): HandlerTable {
  const emit = options.emit ?? (() => {});
  const drafts = (): DraftService => options.drafts ?? noDrafts();
  const progress =
    (operation: 'push' | 'pull' | 'plan') =>
    (done: number, total: number): void =>
      emit({ type: 'progress', operation, done, total, message: null });

  const impl: { [C in Channel]: Impl<C> } = {
    ...templateHandlers(service, { emit }),
    ...envHandlers(service, { emit }),
    ...impactHandlers(service),
    ...connectionHandlers(options.connections),
    'workspace:info': () => service.info(),
    'directory:get': () => service.directory(),
    'metadata:list': () => service.metadata(),
    // Reads with reveal are recorded in the reveal log by the service, as coming from the console.
    'config:resolve': (r) =>
      service.resolve(r.key, r.context, { reveal: r.reveal ?? false, via: 'console' }),
    'config:effective': (r) =>
      service.effective(r.context, { reveal: r.reveal ?? false, via: 'console' }),
    'config:entries': (r) =>
      service.entries(r.level, r.scope, { reveal: r.reveal ?? false, via: 'console' }),
    'config:slot': (r) => buildSlotView(service, r.level, r.scope),
    'config:keys': (r) => service.listKeys(r.prefix),
    'config:set': async (r) => {
      const result = await service.set({
        level: r.level,
        scope: r.scope,
        key: r.key,
        value: r.value,
        ...(r.valueType ? { valueType: r.valueType } : {}),
        ...(r.locked !== undefined ? { locked: r.locked } : {}),
        ...(r.expectedVersion !== undefined ? { expectedVersion: r.expectedVersion } : {}),
        reason: r.reason ?? null,
      });
      emit({
        type: 'config-changed',
        changes: [{ level: r.level, scope: r.scope, key: r.key, action: 'set' }],
        mode: result.mode,
      });
      return result;
    },
    'config:unset': async (r) => {
      const result = await service.unset({
        level: r.level,
        scope: r.scope,
        key: r.key,
        ...(r.expectedVersion !== undefined ? { expectedVersion: r.expectedVersion } : {}),
        reason: r.reason ?? null,
      });
      emit({
        type: 'config-changed',
        changes: [{ level: r.level, scope: r.scope, key: r.key, action: 'unset' }],
        mode: result.mode,
      });
      return result;
    },
    'audit:list': (r) => service.history(r),
    'audit:directory': (r) => service.directoryHistory(r),
    // Exactly one slot is decrypted, and only after its reveal record is written.
    'secret:reveal': (r) =>
      service.reveal({
        level: r.level,
        scope: r.scope,
        key: r.key,
        reason: r.reason ?? null,
        via: 'console',
      }),
    'draft:staged': () => drafts().staged(),
    'draft:discard': async (r) => {
      const result = await drafts().discard(r);
      emit({ type: 'staged-changed', count: (await drafts().staged()).length });
      return result;
    },
    'draft:plan': (r) => drafts().plan(progress('plan'), r.to !== undefined ? { to: r.to } : {}),
    'draft:pull': async () => {
      const result = await drafts().pull(progress('pull'));
      emit({ type: 'staged-changed', count: result.staged });
      return result;
    },
    'draft:resolveConflict': (r) => drafts().resolveConflict(r),
    'draft:push': async (r) => {
      const result = await drafts().push(r, progress('push'));
      emit({ type: 'staged-changed', count: (await drafts().staged()).length });
      return result;
    },
  };

  const table = {} as Record<Channel, Handler<Channel>>;
  for (const channel of CHANNELS) {
    const run = impl[channel] as Impl<Channel>;
    table[channel] = async (request: unknown) => {
      const parsed = parseRequest(channel, request);
      if (!parsed.ok) return parsed;
      try {
        return { ok: true, data: await run(parsed.data) };
      } catch (error) {
        if (!(error instanceof StrataError)) options.onInternalError?.(channel, error);
        return { ok: false, error: toErrorBody(error) };
      }
    };
  }
  return table as HandlerTable;
}
