/**
 * `npm run bench -- [--scale 1|10] [--json <file>] [--readme <file>] [--quick] [--only a,b]
 * [--skip-console] [--pg <superuser URL>]`: the benchmark suite. One run loads the deterministic
 * generated network into a fresh database on one PostgreSQL server (STRATA_BENCH_PG or
 * STRATA_TEST_PG, else an embedded server started for the run), measures every figure of issue 8
 * against its baselines, prints the machine and a table, and with --json writes
 * {"machine":{...},"results":[...]}. Figures are reported, never asserted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateNetwork, SCALE_1 } from '../src-main/demo/generator.js';
import type { ScaleShape } from '../src-main/demo/generator.js';
import { createCodec } from '../src-main/secrets/cipher.js';
import { StrataConfigService } from '../src-main/services/config-service.js';
import { PostgresStore } from '../src-main/store/postgres-store.js';
import { consoleBenchmarks } from './console.js';
import { effectiveUser } from './effective-user.js';
import { env10k } from './env-10k.js';
import { impactGlobalKey } from './impact-global-key.js';
import { indexBuild } from './index-build.js';
import { keyWithChain } from './key-with-chain.js';
import type { BenchContext } from './lib/context.js';
import {
  createDatabase,
  loadDataset,
  mapApplicationRole,
  openServer,
  serverVersion,
} from './lib/database.js';
import { machineInfo } from './lib/machine.js';
import type { Machine } from './lib/machine.js';
import { machineLines, markdownTable, noteLines, textTable } from './lib/report.js';
import { BENCH_NAMES, notMeasured } from './lib/result.js';
import type { BenchName, BenchResult } from './lib/result.js';
import { pull } from './pull.js';
import { push10k } from './push-10k.js';

/** The smoke-test network: a few dozen users, enough to exercise every code path. */
export const TINY_SHAPE: ScaleShape = {
  tenants: 2,
  departmentsPerTenant: 2,
  groupsPerDepartment: 3,
  usersPerDepartment: 25,
  groupsPerUser: 2,
  keys: 40,
  keysPerTenant: 15,
  keysPerDepartment: 6,
  keysPerGroup: 4,
  keysPerUser: 3,
};

/** Options of one run. */
export interface RunOptions {
  /** 1 or 10 (the scales), or 0 for the tiny smoke-test network. */
  scale: number;
  /** Fewer iterations (smoke tests; figures are then rough). */
  quick?: boolean;
  /** Superuser URL of a server to use instead of the environment's or an embedded one. */
  pgUrl?: string | null;
  /** Run only these benchmarks. */
  only?: readonly BenchName[] | null;
  /** Leave the console benchmarks out (reported as not measured, with this reason). */
  skipConsole?: string | null;
  log?: (line: string) => void;
}

/** The report: the machine and one result per benchmark, in the order. */
export interface BenchReport {
  machine: Machine;
  results: BenchResult[];
  /** Benchmarks that failed (an error, not a known reason to skip). */
  failed: BenchName[];
}

const UNITS: Record<BenchName, BenchResult['unit']> = {
  effective_user: 'µs',
  key_with_chain: 'µs',
  index_build: 'ms',
  impact_global_key: 'ms',
  push_10k: 'ms',
  pull: 'ms',
  env_10k: 'ms',
  console_navigator: 'ms',
  console_tenant: 'ms',
};

/** Runs the suite and returns the report (printing progress through `log`). */
export async function runBench(opts: RunOptions): Promise<BenchReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (![0, 1, 10].includes(opts.scale)) throw new Error('--scale must be 1 or 10.');
  const quick = opts.quick === true;
  const wanted = new Set<BenchName>(opts.only ?? BENCH_NAMES);
  const machine = machineInfo(opts.scale);
  const tmp = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const results = new Map<BenchName, BenchResult>();
  const failed: BenchName[] = [];

  const server = await openServer(opts.pgUrl ?? null);
  log(`PostgreSQL: ${server.origin}`);
  try {
    const db = await createDatabase(server, `strata_bench_x${opts.scale}`);
    try {
      const dataset =
        opts.scale === 0
          ? generateNetwork(1, undefined, TINY_SHAPE)
          : generateNetwork(opts.scale, undefined, SCALE_1);
      log(
        `Loading the generated network (${dataset.directory.users.length} users, ${dataset.entries.length} values)...`,
      );
      const t0 = Date.now();
      await loadDataset(db, dataset, opts.scale === 0 ? null : opts.scale);
      log(`Loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
      const superAdmin = dataset.directory.users.find((u) => u.traits.includes('super_admin'));
      if (superAdmin) await mapApplicationRole(db, superAdmin.id);
      machine.postgresql_server = await serverVersion(db.url);
      machine.postgresql = `node-postgres, ${server.origin}`;

      const store = await PostgresStore.open(db.url);
      // A real codec, as in any deployment that holds secrets (reveal paths then work).
      const service = await StrataConfigService.create(store, {
        codec: createCodec(randomBytes(32)),
        env: {},
      });
      const ctx: BenchContext = {
        scale: opts.scale,
        dataset,
        db,
        service,
        quick,
        tmp,
        draftFile: null,
        log,
        iterations: (full, min = 1) => (quick ? Math.max(min, Math.ceil(full / 20)) : full),
      };
      const steps: Array<[BenchName, (c: BenchContext) => Promise<BenchResult>]> = [
        ['index_build', indexBuild],
        ['pull', pull],
        ['effective_user', effectiveUser],
        ['key_with_chain', keyWithChain],
        ['impact_global_key', impactGlobalKey],
        ['env_10k', env10k],
        // Writes last: it changes values the shared index no longer matches.
        ['push_10k', push10k],
      ];
      try {
        for (const [name, fn] of steps) {
          if (!wanted.has(name)) continue;
          log(`${name}...`);
          try {
            results.set(name, await fn(ctx));
          } catch (err) {
            failed.push(name);
            const why = (err as Error).message.split('\n')[0] ?? 'unknown error';
            log(`${name} failed: ${(err as Error).stack ?? why}`);
            results.set(name, notMeasured(name, UNITS[name], `failed: ${why}`));
          }
        }
      } finally {
        await service.close();
      }
      if (wanted.has('console_navigator') || wanted.has('console_tenant')) {
        log('console...');
        const [nav, tenant] = await consoleBenchmarks(ctx, opts.skipConsole ?? null);
        results.set('console_navigator', nav);
        results.set('console_tenant', tenant);
        const chromium = nav.extra.chromium ?? tenant.extra.chromium;
        if (typeof chromium === 'string') machine.chromium = chromium;
      }
    } finally {
      await db.drop();
    }
  } finally {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const ordered = BENCH_NAMES.filter((n) => wanted.has(n) || results.has(n)).map(
    (n) => results.get(n) ?? notMeasured(n, UNITS[n], 'not selected (--only)'),
  );
  return { machine, results: ordered, failed };
}

/** The report as printed. */
export function formatReport(report: BenchReport): string {
  return [
    ...machineLines(report.machine),
    '',
    textTable(report.results),
    '',
    'ratio = baseline median / Strata median (how many times faster Strata is).',
    ...noteLines(report.results),
  ].join('\n');
}

/** The README section between <!-- bench:start --> and <!-- bench:end -->. */
export function readmeSection(report: BenchReport): string {
  const notes = report.results.flatMap((r) => r.notes.map((n) => `- \`${r.name}\`: ${n}`));
  return [
    '',
    ...machineLines(report.machine).map((l) => `${l}  `),
    '',
    markdownTable(report.results),
    '',
    'ratio = baseline median / Strata median (how many times faster Strata is); targets are the',
    "issue's (x10 unless noted; the console rows always use an x1 workspace). Reproduce with",
    '`npm run bench -- --scale 10 --json bench.json` (add `--readme README.md` to refresh this',
    'section). Figures depend on the machine and on what else it runs: see the load average above.',
    '',
    ...(notes.length > 0 ? [...notes, ''] : []),
    '<details><summary>What each figure measures</summary>',
    '',
    '```text',
    ...noteLines(report.results).filter((l) => !l.startsWith('  note: ')),
    '```',
    '',
    '</details>',
    '',
  ].join('\n');
}

/** Replaces the benchmark section of a README (between the markers). */
export function updateReadme(file: string, report: BenchReport): void {
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${start} ... ${end} markers.`);
  writeFileSync(
    file,
    `${text.slice(0, a + start.length)}\n${readmeSection(report)}${text.slice(b)}`,
  );
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      json: { type: 'string' },
      readme: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'skip-console': { type: 'boolean', default: false },
      pg: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: npm run bench -- [--scale 1|10] [--json <file>] [--readme <file>] [--quick]',
        '                        [--only name,name] [--skip-console] [--pg <superuser URL>]',
        '',
        '  --scale 1|10     dataset size (x1: 10,000 users; x10: 100,000); 0 is a tiny smoke-test network',
        '  --json <file>    also write {"machine":{...},"results":[...]}',
        '  --readme <file>  replace the text between <!-- bench:start --> and <!-- bench:end -->',
        '  --quick          about a twentieth of the iterations (rough figures)',
        `  --only a,b       run only these (${BENCH_NAMES.join(', ')})`,
        '  --skip-console   leave out the two console benchmarks (they need Chromium)',
        '  --pg <url>       a PostgreSQL superuser URL to use (else STRATA_BENCH_PG, STRATA_TEST_PG,',
        '                   or an embedded server started for the run)',
        '',
      ].join('\n'),
    );
    return 0;
  }
  const scale = Number(values.scale);
  if (scale !== 0 && scale !== 1 && scale !== 10) {
    process.stderr.write(
      `--scale must be 1 or 10 (0: a tiny smoke-test network), not '${values.scale}'.\n`,
    );
    return 2;
  }
  let only: BenchName[] | null = null;
  if (values.only !== undefined) {
    only = values.only.split(',').map((s) => s.trim()) as BenchName[];
    const unknown = only.find((n) => !(BENCH_NAMES as readonly string[]).includes(n));
    if (unknown !== undefined) {
      process.stderr.write(`Unknown benchmark '${unknown}'; known: ${BENCH_NAMES.join(', ')}.\n`);
      return 2;
    }
  }
  const report = await runBench({
    scale,
    quick: values.quick,
    pgUrl: values.pg ?? null,
    only,
    skipConsole: values['skip-console'] ? 'skipped (--skip-console)' : null,
  });
  process.stdout.write(`${formatReport(report)}\n`);
  if (values.json !== undefined) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ machine: report.machine, results: report.results }, null, 2)}\n`,
    );
    process.stderr.write(`Wrote ${values.json}.\n`);
  }
  if (values.readme !== undefined) {
    updateReadme(values.readme, report);
    process.stderr.write(`Updated the benchmark section of ${values.readme}.\n`);
  }
  return report.failed.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
