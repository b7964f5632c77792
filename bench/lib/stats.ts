/**
 * Timing and summary helpers. Every figure is a sample of single-call times measured with the
 * monotonic high-resolution clock; summaries are medians and nearest-rank 99th percentiles, so
 * one slow outlier (a GC pause, a noisy neighbour) moves p99, not the median.
 */

/** Units a benchmark reports in. */
export type Unit = 'µs' | 'ms' | 's';

const PER_NS: Record<Unit, number> = { µs: 1e3, ms: 1e6, s: 1e9 };

/** Median and nearest-rank p99 of a sample, in the sample's unit. */
export interface Summary {
  median: number;
  p99: number;
  min: number;
  n: number;
}

/** Median, p99 and minimum of a non-empty sample. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize needs at least one value');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const p99 = s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!;
  return { median, p99, min: s[0]!, n: s.length };
}

/** Converts nanoseconds into a unit. */
export function fromNs(ns: number, unit: Unit): number {
  return ns / PER_NS[unit];
}

/** Options for a timing loop. */
export interface LoopOptions {
  /** Timed calls. */
  iterations: number;
  /** Untimed calls first (JIT warm-up, caches); default 0. */
  warmup?: number;
}

/** Times `iterations` synchronous calls one by one; returns each call's duration in `unit`. */
export function timeSync(fn: (i: number) => unknown, opts: LoopOptions, unit: Unit): number[] {
  const warm = opts.warmup ?? 0;
  let sink = 0;
  for (let i = 0; i < warm; i++) if (fn(i) === undefined) sink++;
  const out = new Array<number>(opts.iterations);
  for (let i = 0; i < opts.iterations; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn(warm + i);
    const t1 = process.hrtime.bigint();
    // Keeps the result observable so the call cannot be optimised away.
    if (r === undefined) sink++;
    out[i] = fromNs(Number(t1 - t0), unit);
  }
  if (sink < 0) console.log(sink);
  return out;
}

/** Times `iterations` asynchronous calls one after another; returns durations in `unit`. */
export async function timeAsync(
  fn: (i: number) => Promise<unknown>,
  opts: LoopOptions,
  unit: Unit,
): Promise<number[]> {
  const warm = opts.warmup ?? 0;
  for (let i = 0; i < warm; i++) await fn(i);
  const out: number[] = [];
  for (let i = 0; i < opts.iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn(warm + i);
    out.push(fromNs(Number(process.hrtime.bigint() - t0), unit));
  }
  return out;
}

/** Times one asynchronous call; returns [result, duration in unit]. */
export async function timeOnce<T>(fn: () => Promise<T>, unit: Unit): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, fromNs(Number(process.hrtime.bigint() - t0), unit)];
}

/** mulberry32: the deterministic PRNG used to pick sample users and keys. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` items of `list` picked with a fixed seed (with repeats when n exceeds the list). */
export function sample<T>(list: readonly T[], n: number, seed: number): T[] {
  const rand = prng(seed);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(list[Math.floor(rand() * list.length)]!);
  return out;
}
