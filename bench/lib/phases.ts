/** Phase timings from a draft operation's progress reports (connect, read, plan, push, ...). */
import type { DraftProgress } from '../../src-main/services/draft-workspace.js';

/** Records when each phase first reported; durations run to the next phase (or the end). */
export class PhaseClock {
  private readonly starts: Array<[string, number]> = [];
  private end = 0;

  /** The listener to pass as onProgress. */
  readonly listener = (p: DraftProgress): void => {
    const last = this.starts[this.starts.length - 1];
    if (last === undefined || last[0] !== p.phase) this.starts.push([p.phase, performance.now()]);
  };

  /** Marks the end of the operation. */
  stop(): void {
    this.end = performance.now();
  }

  /** Milliseconds spent in each phase (summed when a phase reports more than once). */
  durations(): Map<string, number> {
    const out = new Map<string, number>();
    this.starts.forEach(([phase, t], i) => {
      const next = this.starts[i + 1]?.[1] ?? this.end;
      out.set(phase, (out.get(phase) ?? 0) + (next - t));
    });
    return out;
  }
}
