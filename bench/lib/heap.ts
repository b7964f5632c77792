/** Forced garbage collection for heap figures, without requiring `node --expose-gc`. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null = null;

/** Runs a full garbage collection. */
export function collectGarbage(): void {
  if (gcFn === null) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** Heap in use after a full collection, in MiB. */
export function settledHeapMiB(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed / 2 ** 20;
}
