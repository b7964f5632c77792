/**
 * Smoke test of the benchmark runner: `bench/run.ts` run as `npm run bench` runs it, on the tiny
 * network with few iterations and without the console, must measure every database and engine
 * benchmark and write the JSON report in the documented shape. Timing values are never checked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_NAMES } from '../../bench/lib/result.js';
import { pgAdminUrl } from '../helpers/pg.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'strata-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RESULT_FIELDS = ['name', 'median', 'p99', 'unit', 'baseline', 'baseline_median', 'ratio'];

describe('npm run bench (smoke)', () => {
  it('measures every benchmark at a tiny scale and writes the JSON report', async () => {
    const json = join(dir, 'bench.json');
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--scale',
        '0',
        '--quick',
        '--skip-console',
        '--json',
        json,
        '--pg',
        pgAdminUrl(),
      ],
      { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toMatch(/^Machine: .+ cores/m);
    expect(stdout).toContain('ratio = baseline median / Strata median');

    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      machine: Record<string, unknown>;
      results: Array<Record<string, unknown>>;
    };
    expect(Object.keys(report).sort()).toEqual(['machine', 'results']);
    for (const k of ['cores', 'memory_gib']) expect(typeof report.machine[k]).toBe('number');
    for (const k of ['cpu', 'node', 'postgresql_server', 'sqlite']) {
      expect(typeof report.machine[k]).toBe('string');
      expect(report.machine[k]).not.toBe('');
    }
    expect(report.results.map((r) => r.name)).toEqual([...BENCH_NAMES]);

    for (const r of report.results) {
      for (const f of RESULT_FIELDS) expect(r).toHaveProperty(f);
      expect(['µs', 'ms', 's']).toContain(r.unit);
      if (String(r.name).startsWith('console_')) {
        expect(r.status).toBe('not measured: skipped (--skip-console)');
        expect(r.median).toBeNull();
        continue;
      }
      expect(r.status, String(r.name)).toBe('measured');
      for (const f of ['median', 'p99', 'baseline_median', 'ratio']) {
        expect(typeof r[f], `${String(r.name)}.${f}`).toBe('number');
        expect(Number.isFinite(r[f])).toBe(true);
      }
      expect(typeof r.baseline).toBe('string');
      expect(Array.isArray(r.baselines)).toBe(true);
    }
  });
});
