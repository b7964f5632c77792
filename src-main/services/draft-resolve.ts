/**
 * Settling a plan's conflicts: keep mine (push my value over theirs), take theirs (leave
 * production's value; my change is dropped at the push), or edit (stage a new value and push
 * that). Each resolution is recorded in the draft bound to the live state it was made against,
 * so if production moves again before the push, the item is a conflict again. An edited value
 * goes through the config service like any write (validation, encryption of secrets).
 */
import {
  CONFLICT_CHOICES,
  directoryToken,
  liveToken,
  type ConflictChoice,
  type DirectoryPlanItem,
  type PlanItem,
} from '../core/plan.js';
import { assertValidKey, assertValidScope, parseLevel } from '../core/keys.js';
import { StrataError } from '../core/types.js';
import type { Slot } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { StrataConfigService } from './config-service.js';
import type { SecretCodec } from './secret-codec.js';
import { computePlan, type DraftPlan } from './draft-plan.js';
import type { DraftWorkspace, ProgressListener } from './draft-workspace.js';

/** One resolution to record. */
export interface ResolutionRequest {
  /**
   * Which item: a plan item id (s12, d3, ...), a slot `key@level[:scope]`, a directory row
   * `dir:<kind>:<id>`, or `all` for every unresolved conflict (not with edit).
   */
  item: string;
  choice: ConflictChoice;
  /** The value to push instead (edit only). */
  value?: string;
}

/** Options for recording resolutions. */
export interface ResolveOptions {
  /** Who records them (and, for edit, who stages the new value). */
  operator?: string | null;
  /** For edit: the config service of the draft (the console passes its own). */
  service?: StrataConfigService | null;
  codec?: SecretCodec | null;
  env?: Record<string, string | undefined>;
  onProgress?: ProgressListener;
}

/** Parses `key@level[:scope]` into a slot. */
export function parseSlotSpec(spec: string): Slot {
  const at = spec.indexOf('@');
  if (at <= 0) {
    throw new StrataError(
      'invalid',
      `'${spec.slice(0, 80)}' does not name a slot; write key@level:scope (e.g. fax_backend@group:doctors) or key@global.`,
    );
  }
  const key = spec.slice(0, at);
  const rest = spec.slice(at + 1);
  const colon = rest.indexOf(':');
  const level = parseLevel(colon < 0 ? rest : rest.slice(0, colon));
  const scope = colon < 0 ? '' : rest.slice(colon + 1);
  assertValidKey(key);
  assertValidScope(level, scope);
  return { level, scope, key };
}

/** The spec of a slot (`key@level:scope`, or `key@global`). */
export function slotSpec(s: Slot): string {
  return s.level === 'global' ? `${s.key}@global` : `${s.key}@${s.level}:${s.scope}`;
}

type Found = { kind: 'config'; item: PlanItem } | { kind: 'directory'; item: DirectoryPlanItem };

function findItems(plan: DraftPlan, spec: string): Found[] {
  if (spec === 'all') {
    return [
      ...plan.items
        .filter((i) => i.action === 'conflict' && i.resolution === null)
        .map((item): Found => ({ kind: 'config', item })),
      ...plan.directory
        .filter((d) => d.action === 'conflict' && d.resolution === null)
        .map((item): Found => ({ kind: 'directory', item })),
    ];
  }
  const byId = plan.items.find((i) => i.id === spec);
  if (byId) return [{ kind: 'config', item: byId }];
  const dirById = plan.directory.find((d) => d.id === spec);
  if (dirById) return [{ kind: 'directory', item: dirById }];
  if (spec.startsWith('dir:')) {
    const [, kind, ...ref] = spec.split(':');
    const d = plan.directory.find((x) => x.kind === kind && x.ref === ref.join(':'));
    if (d) return [{ kind: 'directory', item: d }];
    throw new StrataError(
      'not_found',
      `The plan has no staged directory row ${spec.slice(4, 90)}.`,
    );
  }
  const slot = parseSlotSpec(spec);
  const item = plan.items.find(
    (i) => i.level === slot.level && i.scope === slot.scope && i.key === slot.key,
  );
  if (!item) {
    throw new StrataError('not_found', `The plan has no change at ${slotSpec(slot)}.`);
  }
  return [{ kind: 'config', item }];
}

function label(f: Found): string {
  return f.kind === 'config' ? slotSpec(f.item) : `${f.item.kind} ${f.item.ref}`;
}

async function editService(ws: DraftWorkspace, opts: ResolveOptions): Promise<StrataConfigService> {
  if (opts.service) return opts.service;
  return StrataConfigService.create(ws.store, {
    operator: opts.operator ?? null,
    ...(opts.codec !== undefined ? { codec: opts.codec } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
}

/**
 * Records resolutions for conflicts of the draft's plan against `live`, and returns the plan
 * computed again with them. Refuses (and records nothing) when an item is not in conflict.
 */
export async function resolveConflicts(
  ws: DraftWorkspace,
  live: PostgresStore,
  requests: readonly ResolutionRequest[],
  opts: ResolveOptions = {},
): Promise<DraftPlan> {
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new StrataError('invalid', 'Name at least one conflict to resolve.');
  }
  const plan = await computePlan(ws, live, opts.onProgress ? { onProgress: opts.onProgress } : {});
  const todo: Array<{ found: Found; req: ResolutionRequest }> = [];
  for (const req of requests) {
    if (!(CONFLICT_CHOICES as readonly string[]).includes(req.choice)) {
      throw new StrataError(
        'invalid',
        `Unknown choice '${String(req.choice).slice(0, 20)}'; use mine, theirs or edit.`,
      );
    }
    if (req.choice === 'edit' && typeof req.value !== 'string') {
      throw new StrataError(
        'invalid',
        'Editing a conflict needs the value to push (--edit <value>).',
      );
    }
    if (req.choice === 'edit' && req.item === 'all') {
      throw new StrataError(
        'invalid',
        'Edit one conflict at a time; "all" works with mine and theirs.',
      );
    }
    for (const found of findItems(plan, req.item)) {
      if (found.item.action !== 'conflict') {
        throw new StrataError(
          'invalid',
          `${label(found)} is not in conflict (it is ${found.item.action === 'update' ? 'an update' : `a ${found.item.action}`}); there is nothing to resolve.`,
        );
      }
      if (found.kind === 'directory' && req.choice === 'edit') {
        throw new StrataError(
          'invalid',
          `Directory row ${found.item.kind} ${found.item.ref} can be kept (mine) or dropped (theirs), not edited; stage the row again to change it.`,
        );
      }
      todo.push({ found, req });
    }
  }
  const author = opts.operator ?? opts.service?.operator().id ?? (await ws.store.identity()).role;
  const edits = todo.filter((t) => t.req.choice === 'edit');
  if (edits.length > 0) {
    // The service wraps the workspace's own store, which the caller closes.
    const service = await editService(ws, opts);
    await service.writeBatch(
      edits.map((t) => {
        const i = t.found.item as PlanItem;
        return { level: i.level, scope: i.scope, key: i.key, value: t.req.value! };
      }),
      { reason: 'conflict resolved by editing' },
    );
  }
  const record = ws.db.transaction(() => {
    for (const { found, req } of todo) {
      if (found.kind === 'config') {
        const i = found.item;
        ws.setResolution(
          'config',
          i.level,
          i.scope,
          i.key,
          { choice: req.choice, liveToken: liveToken(i.live) },
          author,
        );
      } else {
        const d = found.item;
        ws.setResolution(
          'directory',
          d.kind,
          d.ref,
          '',
          { choice: req.choice, liveToken: directoryToken(d.kind, d.live) },
          author,
        );
      }
    }
  });
  record.immediate();
  return computePlan(ws, live, opts.onProgress ? { onProgress: opts.onProgress } : {});
}
