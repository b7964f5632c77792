/** What every benchmark gets from the runner. */
import type { DemoDataset } from '../../src-main/demo/hospital-network.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import type { BenchDatabase } from './database.js';

/** The shared state of one run. */
export interface BenchContext {
  /** Dataset scale (1 or 10), or 0 for the tiny smoke-test network. */
  scale: number;
  dataset: DemoDataset;
  db: BenchDatabase;
  /** A config service over the benchmark database as the superuser; its index is shared. */
  service: StrataConfigService;
  /** Scales an iteration count down in quick mode (never below `min`). */
  iterations(full: number, min?: number): number;
  quick: boolean;
  /** A scratch folder removed after the run. */
  tmp: string;
  /** The draft file the pull benchmark wrote (the SQLite baselines read it), if any. */
  draftFile: string | null;
  log(line: string): void;
}
