/**
 * impact_global_key: the impact preview of changing one global key, over every user: which
 * users, tenants, departments and groups see a different effective value. Strata groups users
 * by context (tenant, department, ordered groups) and resolves each class once; the baseline
 * resolves every user before and after, one by one, from the same in-memory index.
 */
import {
  computeImpact,
  contextClasses,
  OverlayView,
  resolveInView,
} from '../src-main/core/impact.js';
import type { SlotChange } from '../src-main/core/impact.js';
import type { BenchContext } from './lib/context.js';
import { makeResult } from './lib/result.js';
import type { BenchResult } from './lib/result.js';
import { timeSync } from './lib/stats.js';

/** Runs the benchmark. */
export async function impactGlobalKey(ctx: BenchContext): Promise<BenchResult> {
  const index = ctx.service.index;
  const dir = index.directory();
  const keys = index.keys();
  // A key with overrides below global, so the preview has real work to tell apart.
  const key = keys[Math.floor(keys.length / 3)]!;
  const valueType = index.metadata(key)?.valueType ?? 'string';
  const current = index.get({ level: 'global', scope: '', key })?.value ?? '';
  const value =
    valueType === 'number'
      ? String(Number(current) + 1)
      : valueType === 'boolean'
        ? current === 'true'
          ? 'false'
          : 'true'
        : `${current}-changed`;
  const change: SlotChange = {
    level: 'global',
    scope: '',
    key,
    action: 'set',
    value,
    valueType,
    encrypted: false,
    locked: false,
  };

  const report = computeImpact(index, [change]);
  const strata = timeSync(
    () => computeImpact(index, [change]),
    { iterations: ctx.iterations(30, 3), warmup: 2 },
    'ms',
  );

  const perUser = (): number => {
    const after = new OverlayView(index, [change]);
    let affected = 0;
    for (const u of dir.users) {
      const c = index.userContext(u.id);
      const b = index.resolve(key, c);
      const a = resolveInView(after, key, c);
      if (a.value !== b.value || a.valueType !== b.valueType) affected++;
    }
    return affected;
  };
  const naive = perUser();
  if (naive !== report.usersAffected) {
    throw new Error(
      `Per-user resolution finds ${naive} affected users, computeImpact ${report.usersAffected}.`,
    );
  }
  const baseline = timeSync(perUser, { iterations: ctx.iterations(5, 2), warmup: 1 }, 'ms');
  const grouping = timeSync(
    () => contextClasses({ ...dir }),
    { iterations: ctx.iterations(10, 2), warmup: 1 },
    'ms',
  );

  return makeResult(
    'impact_global_key',
    {
      subject: `computeImpact() of a global change to ${key} over all users`,
      values: strata,
      unit: 'ms',
    },
    [
      {
        name: 'resolve every user before and after',
        values: baseline,
        note: 'same index, one resolve() per user per side',
      },
      {
        name: 'grouping users into context classes (once per directory)',
        values: grouping,
        variant: true,
        note: 'cached per directory; paid on the first preview after a directory change',
      },
    ],
    ctx.scale === 10 ? { median_max: 50 } : null,
    {
      users: report.totalUsers,
      users_affected: report.usersAffected,
      evaluations: report.evaluations,
    },
  );
}
