/**
 * push_10k: 10,000 staged changes pushed from a draft to PostgreSQL with `strata push`
 * (pushDraft: plan against production, permission check, ONE transaction that writes the rows
 * and, through the triggers, one audit row per change, then finalising the draft and refreshing
 * its base). Half the changes update existing user-level values, half create new ones; every run
 * is checked to have left exactly one audit row per change. Strata's figure is the push
 * transaction; the whole command is shown as a variant with its phases. Baselines: one
 * INSERT ... ON CONFLICT per row, and one bare unnest() statement, in one transaction each.
 * Everything is measured as a LOGIN role mapped to a super_admin directory user (row-level
 * security and the guard, validation and hash-chained audit triggers all active, as for a
 * console user) and as the superuser (RLS bypassed; triggers still run).
 *
 * Runs stop early when a variant has used its time budget (at least one run each); a baseline
 * is extrapolated from a 1,000-row run when a full run would take minutes, and then says so.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { ValueType } from '../src-main/core/types.js';
import { pullDraft, pushDraft } from '../src-main/services/draft-service.js';
import { PostgresStore } from '../src-main/store/postgres-store.js';
import { SqliteStore } from '../src-main/store/sqlite-store.js';
import type { StoredChange } from '../src-main/store/store.js';
import { writePerRow, writeUnnest } from './baselines/row-statements.js';
import type { RowWrite, RowWriteContext } from './baselines/row-statements.js';
import type { BenchContext } from './lib/context.js';
import { PhaseClock } from './lib/phases.js';
import { makeResult } from './lib/result.js';
import type { BaselineSample, BenchResult } from './lib/result.js';
import { summarize } from './lib/stats.js';

interface Tracked {
  userId: string;
  key: string;
  valueType: ValueType;
  /** Current stored value (null: the slot is empty). */
  value: string | null;
}

/** One write of every tracked slot with its next value. */
type Batch = Array<Tracked & { next: string }>;

/** Seconds a variant may spend before it stops taking more runs. */
const BUDGET_MS = 45_000;
/** A baseline run projected to take longer than this is extrapolated from a probe. */
const PER_ROW_FULL_LIMIT_MS = 90_000;
const PROBE_ROWS = 1_000;
/** How long the application role may take to read the directory before it is left out. */
const FEASIBILITY_MS = 20_000;
/** Any one statement of the application role, once it is measured. */
const ROLE_STATEMENT_MS = 180_000;

function nextValue(t: Tracked, run: number, j: number): string {
  switch (t.valueType) {
    case 'number':
      return String((Number(t.value ?? 0) + 1) % 100_000);
    case 'boolean':
      return t.value === 'true' ? 'false' : 'true';
    default:
      return `p${run}_${j}`;
  }
}

/** The slots a push writes: half existing user values, half empty user slots. */
function pickSlots(ctx: BenchContext, total: number): { updates: Tracked[]; creates: Tracked[] } {
  const index = ctx.service.index;
  const users = index.directory().users;
  const keys = index.keys();
  const half = Math.floor(total / 2);
  const updates: Tracked[] = [];
  const creates: Tracked[] = [];
  for (let i = 0; updates.length < half || creates.length < total - half; i++) {
    if (i > users.length * 400) throw new Error('Not enough user slots for the push benchmark.');
    const u = users[i % users.length]!;
    const round = Math.floor(i / users.length);
    const own = index.entriesAt('user', u.id);
    if (updates.length < half && round < own.length) {
      const e = own[round]!;
      updates.push({ userId: u.id, key: e.key, valueType: e.valueType, value: e.value });
    }
    if (creates.length < total - half) {
      const taken = new Set(own.map((e) => e.key));
      const free = keys.filter((k) => !taken.has(k));
      const key = free[round];
      if (key !== undefined) {
        const valueType = index.metadata(key)?.valueType ?? 'string';
        creates.push({ userId: u.id, key, valueType, value: null });
      }
    }
  }
  return { updates, creates };
}

/** Runs `fn` up to `max` times (at least once) until the budget is spent; returns the times. */
async function budgeted(max: number, fn: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  let spent = 0;
  while (out.length < max && (out.length === 0 || spent < BUDGET_MS)) {
    const ms = await fn();
    out.push(ms);
    spent += ms;
  }
  return out;
}

/** Runs the benchmark. */
export async function push10k(ctx: BenchContext): Promise<BenchResult> {
  const total = ctx.quick ? 200 : 10_000;
  const { updates, creates } = pickSlots(ctx, total);
  const all = [...updates, ...creates];
  const admin = await PostgresStore.open(ctx.db.url);
  let run = 0;

  const auditRows = async (pushId: string): Promise<number> => {
    const r = await admin.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM config_audit WHERE push_id = $1',
      [pushId],
    );
    return r.rows[0]!.n;
  };
  /** Removes created values again (untimed), so every run creates the same rows. */
  const cleanup = async (): Promise<void> => {
    const present = creates.filter((c) => c.value !== null);
    if (present.length > 0) {
      await admin.write(
        present.map((c) => ({
          level: 'user' as const,
          scope: c.userId,
          key: c.key,
          action: 'unset' as const,
          value: null,
          valueType: c.valueType,
          encrypted: false,
          locked: false,
        })),
        { operator: 'strata-bench', reason: 'bench cleanup' },
      );
    }
    for (const c of creates) c.value = null;
  };
  const nextBatch = (rows: readonly Tracked[]): Batch => {
    run++;
    return rows.map((t, j) => ({ ...t, next: nextValue(t, run, j) }));
  };
  const writeCtx = (pushId: string): RowWriteContext => ({
    operator: 'strata-bench',
    reason: 'bench push',
    pushId,
  });
  const toRows = (batch: Batch): RowWrite[] =>
    batch.map((r) => ({ userId: r.userId, key: r.key, value: r.next, valueType: r.valueType }));

  /** One timed baseline write of `rows` (defaults to every slot); checks its audit rows. */
  const timedSql = async (
    write: (rows: RowWrite[], c: RowWriteContext) => Promise<void>,
    rows: readonly Tracked[] = all,
  ): Promise<number> => {
    await cleanup();
    const batch = nextBatch(rows);
    const pushId = randomUUID();
    const t0 = performance.now();
    await write(toRows(batch), writeCtx(pushId));
    const ms = performance.now() - t0;
    const audited = await auditRows(pushId);
    if (audited !== batch.length) {
      throw new Error(`A write of ${batch.length} changes left ${audited} audit rows.`);
    }
    batch.forEach((b, j) => (rows[j]!.value = b.next));
    return ms;
  };

  /** One timed `strata push` of every slot from a freshly pulled draft. */
  const phases = new Map<string, Map<string, number[]>>();
  const timedPush = async (
    label: string,
    url: string,
    rows: readonly Tracked[],
  ): Promise<number> => {
    await cleanup();
    const file = join(ctx.tmp, `push-${run + 1}.sqlite`);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    await pullDraft(ctx.db.url, file);
    const batch = nextBatch(rows);
    const draft = SqliteStore.open(file);
    try {
      const staged: StoredChange[] = batch.map((r) => ({
        level: 'user',
        scope: r.userId,
        key: r.key,
        action: 'set',
        value: r.next,
        valueType: r.valueType,
        encrypted: false,
        locked: false,
      }));
      await draft.write(staged, { operator: 'strata-bench', reason: 'bench push' });
    } finally {
      await draft.close();
    }
    const clock = new PhaseClock();
    const t0 = performance.now();
    const out = await pushDraft(file, {
      to: url,
      reason: 'bench push',
      onProgress: clock.listener,
    });
    const ms = performance.now() - t0;
    clock.stop();
    if (out.status !== 'applied' || out.applied !== batch.length || out.pushId === null) {
      throw new Error(`The push wrote ${out.applied} of ${batch.length} changes (${out.status}).`);
    }
    const audited = await auditRows(out.pushId);
    if (audited !== batch.length) {
      throw new Error(`A push of ${batch.length} changes left ${audited} audit rows.`);
    }
    batch.forEach((b, j) => (rows[j]!.value = b.next));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    const mine = phases.get(label) ?? new Map<string, number[]>();
    for (const [phase, d] of clock.durations()) mine.set(phase, [...(mine.get(phase) ?? []), d]);
    mine.set('total', [...(mine.get('total') ?? []), ms]);
    phases.set(label, mine);
    return clock.durations().get('push') ?? ms;
  };

  const roles: Array<{ label: string; url: string; app: boolean }> = [];
  if (ctx.db.appUrl !== null) {
    roles.push({ label: 'application role', url: ctx.db.appUrl, app: true });
  }
  roles.push({ label: 'superuser', url: ctx.db.url, app: false });
  const maxRuns = ctx.iterations(ctx.scale >= 10 ? 3 : 5, 1);
  const figures = new Map<string, number[]>();
  const notes: string[] = [];
  const measured: typeof roles = [];
  /** Bounds every statement of the application role (null lifts the bound). */
  const roleTimeout = async (ms: number | null): Promise<void> => {
    if (ctx.db.role === null) return;
    await admin.pool.query(
      ms === null
        ? `ALTER ROLE ${ctx.db.role} RESET statement_timeout`
        : `ALTER ROLE ${ctx.db.role} SET statement_timeout = ${ms}`,
    );
  };
  try {
    // Warm-up (untimed): the first push of the process also compiles the code paths.
    await timedPush('warm-up', ctx.db.url, all.slice(0, Math.min(100, all.length)));
    phases.delete('warm-up');
    for (const role of roles) {
      try {
        if (role.app) {
          // A push reads the directory as this role first; when row-level security makes that
          // read itself take minutes, say so instead of waiting for it.
          await roleTimeout(FEASIBILITY_MS);
          const probe = await PostgresStore.open(role.url);
          try {
            await probe.readDirectory();
          } catch (err) {
            throw new Error(
              (err as { code?: string }).code === '57014'
                ? `reading the directory as a mapped role did not finish within ${FEASIBILITY_MS / 1000} s at this scale (row-level security evaluated per row)`
                : (err as Error).message,
              { cause: err },
            );
          } finally {
            await probe.close();
          }
          await roleTimeout(ROLE_STATEMENT_MS);
        }
        figures.set(
          `strata ${role.label}`,
          await budgeted(maxRuns, () => timedPush(role.label, role.url, all)),
        );
        const client = new pg.Client({ connectionString: role.url });
        await client.connect();
        try {
          const writers: Array<
            [string, string, (r: RowWrite[], c: RowWriteContext) => Promise<void>]
          > = [
            ['per-row', 'One statement per row', (r, c) => writePerRow(client, r, c)],
            ['unnest', 'One unnest() statement', (r, c) => writeUnnest(client, r, c)],
          ];
          for (const [id, title, write] of writers) {
            const probeRows = all.slice(0, Math.min(PROBE_ROWS, all.length));
            const probe = await timedSql(write, probeRows);
            const projected = (probe * all.length) / probeRows.length;
            if (projected > PER_ROW_FULL_LIMIT_MS) {
              figures.set(`${id} ${role.label}`, [projected]);
              notes.push(
                `${title} as the ${role.label}: extrapolated from a ${probeRows.length}-row run (${Math.round(probe)} ms); a full run would take about ${Math.round(projected / 1000)} s.`,
              );
            } else {
              figures.set(`${id} ${role.label}`, await budgeted(maxRuns, () => timedSql(write)));
            }
          }
        } finally {
          await client.end();
        }
        measured.push(role);
      } catch (err) {
        if (!role.app) throw err;
        for (const k of [...figures.keys()]) if (k.endsWith(role.label)) figures.delete(k);
        phases.delete(role.label);
        const why = (err as Error).message.split('\n')[0] ?? 'unknown error';
        notes.push(`Not measured as the application role: ${why}.`);
        ctx.log(`push_10k as the application role: ${why}`);
      } finally {
        if (role.app) await roleTimeout(null);
      }
    }
    await cleanup();
  } finally {
    await admin.close();
  }

  const primary = measured[0]!.label;
  const med = (k: string): number => summarize(figures.get(k)!).median;
  const baselines: BaselineSample[] = [];
  for (const role of measured) {
    const mine = med(`strata ${role.label}`);
    const vsOwn = (k: string): string =>
      role.label === primary ? '' : `; ${(med(k) / mine).toFixed(1)}x Strata as ${role.label}`;
    baselines.push({
      name: `one statement per row (${role.label})`,
      values: figures.get(`per-row ${role.label}`)!,
      note: `prepared INSERT ... ON CONFLICT per change, one transaction${vsOwn(`per-row ${role.label}`)}`,
    });
    baselines.push({
      name: `one unnest() statement (${role.label})`,
      values: figures.get(`unnest ${role.label}`)!,
      note: `no plan, no version checks, no before-images${vsOwn(`unnest ${role.label}`)}`,
    });
    if (role.label !== primary) {
      baselines.push({
        name: `Strata push transaction as ${role.label}`,
        values: figures.get(`strata ${role.label}`)!,
        variant: true,
        note: 'row-level security bypassed; triggers still run',
      });
    }
    const whole = phases.get(role.label)?.get('total');
    if (whole !== undefined) {
      baselines.push({
        name: `whole \`strata push\` as ${role.label} (plan, check, push, finalize, refresh)`,
        values: whole,
        variant: true,
        note: [...(phases.get(role.label) ?? new Map<string, number[]>())]
          .filter(([p]) => p !== 'total')
          .map(([p, v]) => `${p} ${Math.round(summarize(v).median)} ms`)
          .join(', '),
      });
    }
  }
  if (ctx.db.appUrl === null)
    notes.push(`Application role not measured: ${ctx.db.appWhy ?? 'unknown'}.`);
  return makeResult(
    'push_10k',
    {
      subject: `the push transaction of pushDraft() for ${total} staged changes as the ${primary}, audit rows included`,
      values: figures.get(`strata ${primary}`)!,
      unit: 'ms',
    },
    baselines,
    ctx.scale === 10 ? { median_max: 300, ratio_min: 15 } : null,
    { changes: total, updates: updates.length, creates: creates.length, role: primary },
    notes,
  );
}
