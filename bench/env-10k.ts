/**
 * env_10k: a 10,000-line legacy .env file through parse, key mapping and the import preview
 * (placement, typing, validation, and for every row the value stored at its slot and the value
 * it would inherit), as the import wizard shows it. The baseline is dotenv.parse of the same
 * bytes: parsing alone, with no mapping, validation or preview.
 */
import dotenv from 'dotenv';
import { defaultEnvName } from '../src-main/core/env/mapping.js';
import type { KeyMetadata } from '../src-main/core/types.js';
import { EnvImportService } from '../src-main/services/env-import-service.js';
import type { BenchContext } from './lib/context.js';
import { makeResult } from './lib/result.js';
import type { BenchResult } from './lib/result.js';
import { prng, timeAsync, timeSync } from './lib/stats.js';

const SUFFIXES = ['TIMEOUT', 'URL', 'RETRIES', 'LABEL', 'ENABLED'];

/**
 * A deterministic .env file of `lines` lines: every known key under its export name with a
 * valid typed value, then legacy names (flat keys, some quoted, some exported, a few with
 * trailing comments), with comment and blank lines mixed in.
 */
export function generateEnvFile(metadata: readonly KeyMetadata[], lines: number): string {
  const rand = prng(97);
  const out: string[] = ['# Legacy configuration exported from the old fax server', ''];
  let known = 0;
  let legacy = 0;
  while (out.length < lines) {
    const r = rand();
    if (r < 0.06) {
      out.push(`# section ${out.length}: settings carried over from the 2019 deployment`);
      continue;
    }
    if (r < 0.09) {
      out.push('');
      continue;
    }
    if (known < metadata.length) {
      const m = metadata[known++]!;
      const v =
        m.valueType === 'number'
          ? String(Math.floor(rand() * 500))
          : m.valueType === 'boolean'
            ? rand() < 0.5
              ? 'true'
              : 'false'
            : `value-${Math.floor(rand() * 1e6)}`;
      out.push(`${defaultEnvName(m.key)}=${v}`);
      continue;
    }
    legacy++;
    const name = `LEGACY_SERVICE_${String(legacy).padStart(5, '0')}_${SUFFIXES[legacy % 5]!}`;
    const shape = legacy % 10;
    const kind = legacy % 5;
    const value =
      kind === 0
        ? String(30 + (legacy % 90))
        : kind === 1
          ? `https://svc-${legacy}.example.org/api`
          : kind === 2
            ? String(legacy % 7)
            : kind === 3
              ? `Ward ${legacy} printer`
              : legacy % 2 === 0
                ? 'true'
                : 'false';
    if (shape === 3) out.push(`export ${name}="${value}"`);
    else if (shape === 6) out.push(`${name}='${value}' # kept from the old server`);
    else out.push(`${name}=${value}`);
  }
  return `${out.slice(0, lines).join('\n')}\n`;
}

/** Runs the benchmark. */
export async function env10k(ctx: BenchContext): Promise<BenchResult> {
  const lines = ctx.quick ? 1_000 : 10_000;
  const text = generateEnvFile(ctx.service.index.allMetadata(), lines);
  const bytes = new TextEncoder().encode(text);
  const imports = new EnvImportService(ctx.service);
  const tenant = ctx.service.index.directory().tenants[0]?.id ?? null;
  const preview = await imports.preview(
    { fileName: 'legacy.env', bytes },
    { placement: 'auto', tenant },
  );
  if (!preview.accepted) {
    throw new Error(`The generated .env was refused: ${preview.errors[0]?.message ?? ''}`);
  }
  const strata = await timeAsync(
    () => imports.preview({ fileName: 'legacy.env', bytes }, { placement: 'auto', tenant }),
    { iterations: ctx.iterations(20, 3), warmup: 2 },
    'ms',
  );
  const buffer = Buffer.from(bytes);
  const parsed = dotenv.parse(buffer);
  const baseline = timeSync(
    () => dotenv.parse(buffer),
    { iterations: ctx.iterations(50, 5), warmup: 5 },
    'ms',
  );
  return makeResult(
    'env_10k',
    {
      subject: `EnvImportService.preview() of a ${lines}-line .env (parse + map + plan)`,
      values: strata,
      unit: 'ms',
    },
    [
      {
        name: 'dotenv.parse of the same bytes',
        values: baseline,
        note: 'parsing only: no mapping, validation or preview',
      },
    ],
    ctx.scale === 10 ? { median_max: 200 } : null,
    {
      lines,
      bytes: bytes.length,
      variables: Object.keys(parsed).length,
      rows_previewed: preview.items.length,
      creates: preview.summary.create,
      updates: preview.summary.update,
      unchanged: preview.summary.unchanged,
      redundant: preview.summary.redundant,
      invalid: preview.summary.invalid,
    },
  );
}
