/** What the benchmarks ran on: printed above the table and written to the JSON report. */
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import Database from 'better-sqlite3';

/** The machine block of the report. */
export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  free_memory_gib: number;
  /** 1-minute load average when the run started (other work on the machine skews figures). */
  load_average: number;
  os: string;
  node: string;
  v8: string;
  postgresql: string;
  postgresql_server: string;
  sqlite: string;
  chromium: string | null;
  scale: number;
  started_at: string;
}

/** Collects the machine facts (PostgreSQL and Chromium versions are filled in by the runner). */
export function machineInfo(scale: number): Machine {
  const cpuList = cpus();
  const mem = new Database(':memory:');
  let sqlite: string;
  try {
    sqlite = String(mem.prepare('SELECT sqlite_version()').pluck().get());
  } finally {
    mem.close();
  }
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    free_memory_gib: round(freemem() / 2 ** 30, 1),
    load_average: round(loadavg()[0] ?? 0, 2),
    os: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    postgresql: '',
    postgresql_server: '',
    sqlite,
    chromium: null,
    scale,
    started_at: new Date().toISOString(),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
