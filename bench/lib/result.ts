/**
 * The shape of a benchmark result, as printed and as written by `--json`. Every result names its
 * primary baseline and the ratio baseline median / Strata median (how many times faster Strata
 * is; below 1 means slower). Further baselines and variants ride along in `baselines`.
 */
import { summarize } from './stats.js';
import type { Unit } from './stats.js';

/** The benchmark names, in report order. */
export const BENCH_NAMES = [
  'effective_user',
  'key_with_chain',
  'index_build',
  'impact_global_key',
  'push_10k',
  'pull',
  'env_10k',
  'console_navigator',
  'console_tenant',
] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/** One comparison figure: a baseline or a variant of the Strata measurement. */
export interface Comparison {
  name: string;
  median: number;
  p99: number;
  unit: Unit;
  /** Comparison median / Strata median (null when either is missing). */
  ratio: number | null;
  /** Samples taken. */
  n: number;
  /** A variant of Strata's own figure (no ratio), not a baseline. */
  variant: boolean;
  note?: string;
}

/** The target from the issue, and whether this run met it. */
export interface Target {
  /** Median must not exceed this (in the result's unit). */
  median_max?: number;
  /** The primary baseline must be at least this many times slower. */
  ratio_min?: number;
  /** Further ratio targets against named baselines. */
  ratio_min_vs?: Record<string, number>;
  /** Heap limit in MiB (index_build). */
  heap_mib_max?: number;
  met: boolean | null;
}

/** One benchmark's result. */
export interface BenchResult {
  name: BenchName;
  /** What Strata's figure measures. */
  subject: string;
  median: number | null;
  p99: number | null;
  unit: Unit;
  n: number;
  /** The primary baseline's name, median and the ratio against it. */
  baseline: string | null;
  baseline_median: number | null;
  ratio: number | null;
  baselines: Comparison[];
  target: Target | null;
  /** Extra figures (heap sizes, counts). */
  extra: Record<string, number | string>;
  notes: string[];
  /** Set when the benchmark could not run: "not measured: <why>". */
  status: 'measured' | `not measured: ${string}`;
}

/** A measured sample of Strata's figure. */
export interface Measured {
  subject: string;
  values: readonly number[];
  unit: Unit;
}

/** A baseline sample (values in the same unit as the Strata figure). */
export interface BaselineSample {
  name: string;
  values: readonly number[];
  /** A variant of Strata's figure rather than a baseline (shown without a ratio). */
  variant?: boolean;
  note?: string;
}

function ratioOf(baseline: number, strata: number): number | null {
  if (!(strata > 0) || !Number.isFinite(baseline)) return null;
  return baseline / strata;
}

/**
 * Builds a result from Strata's sample and its baselines (the first baseline is the primary
 * one), checking the target's median and ratio limits.
 */
export function makeResult(
  name: BenchName,
  strata: Measured,
  baselines: readonly BaselineSample[],
  target: Omit<Target, 'met'> | null,
  extra: Record<string, number | string> = {},
  notes: string[] = [],
): BenchResult {
  const s = summarize(strata.values);
  const comps: Comparison[] = baselines.map((b) => {
    const bs = summarize(b.values);
    const c: Comparison = {
      name: b.name,
      median: bs.median,
      p99: bs.p99,
      unit: strata.unit,
      ratio: b.variant ? null : ratioOf(bs.median, s.median),
      n: bs.n,
      variant: b.variant === true,
    };
    if (b.note !== undefined) c.note = b.note;
    return c;
  });
  const primary = comps.find((c) => !c.variant) ?? null;
  let met: boolean | null = null;
  if (target !== null) {
    const checks: boolean[] = [];
    if (target.median_max !== undefined) checks.push(s.median <= target.median_max);
    if (target.ratio_min !== undefined)
      checks.push(primary?.ratio != null && primary.ratio >= target.ratio_min);
    for (const [vs, min] of Object.entries(target.ratio_min_vs ?? {})) {
      const c = comps.find((x) => x.name === vs);
      checks.push(c?.ratio != null && c.ratio >= min);
    }
    if (target.heap_mib_max !== undefined) {
      const heap = extra.heap_mib;
      checks.push(typeof heap === 'number' && heap <= target.heap_mib_max);
    }
    met = checks.every(Boolean);
  }
  return {
    name,
    subject: strata.subject,
    median: s.median,
    p99: s.p99,
    unit: strata.unit,
    n: s.n,
    baseline: primary?.name ?? null,
    baseline_median: primary?.median ?? null,
    ratio: primary?.ratio ?? null,
    baselines: comps,
    target: target === null ? null : { ...target, met },
    extra,
    notes,
    status: 'measured',
  };
}

/** A result for a benchmark that could not run, with the reason. */
export function notMeasured(
  name: BenchName,
  unit: Unit,
  why: string,
  target: Omit<Target, 'met'> | null = null,
): BenchResult {
  return {
    name,
    subject: '',
    median: null,
    p99: null,
    unit,
    n: 0,
    baseline: null,
    baseline_median: null,
    ratio: null,
    baselines: [],
    target: target === null ? null : { ...target, met: null },
    extra: {},
    notes: [],
    status: `not measured: ${why}`,
  };
}
