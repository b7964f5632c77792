/** The printed report: the machine, then one table row per benchmark and per comparison. */
import type { BenchResult, Comparison } from './result.js';
import type { Machine } from './machine.js';

/** A number with about three significant digits (never in exponent form). */
export function fmt(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a >= 0.01) return n.toFixed(3);
  if (a === 0) return '0';
  return n.toPrecision(2);
}

function ratioText(r: number | null): string {
  if (r === null) return '-';
  return `${fmt(r)}x`;
}

function targetText(r: BenchResult): string {
  const t = r.target;
  if (t === null) return '';
  const parts: string[] = [];
  if (t.median_max !== undefined) parts.push(`<= ${fmt(t.median_max)} ${r.unit}`);
  if (t.heap_mib_max !== undefined) parts.push(`<= ${t.heap_mib_max} MiB`);
  if (t.ratio_min !== undefined) parts.push(`>= ${t.ratio_min}x`);
  for (const [vs, min] of Object.entries(t.ratio_min_vs ?? {}))
    parts.push(`>= ${fmt(min)}x vs ${vs}`);
  const verdict = t.met === null ? '' : t.met ? ' (met)' : ' (MISSED)';
  return `${parts.join(', ')}${verdict}`;
}

/** The machine block as text lines. */
export function machineLines(m: Machine): string[] {
  return [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB RAM (${m.free_memory_gib} GiB free), load average ${m.load_average} at start`,
    `OS ${m.os}; Node ${m.node} (V8 ${m.v8}); PostgreSQL ${m.postgresql_server} (${m.postgresql}); SQLite ${m.sqlite}; Chromium ${m.chromium ?? 'not used'}`,
    `Dataset: ${m.scale === 0 ? 'tiny smoke-test network' : `x${m.scale}`}; run started ${m.started_at}`,
  ];
}

type Row = [string, string, string, string, string, string, string, string];

const HEADER: Row = [
  'name',
  'median',
  'p99',
  'unit',
  'baseline',
  'baseline median',
  'ratio',
  'target',
];

function comparisonRow(c: Comparison): Row {
  return [
    '',
    '',
    '',
    c.unit,
    `${c.variant ? 'variant: ' : 'vs '}${c.name}`,
    fmt(c.median),
    c.variant ? '-' : ratioText(c.ratio),
    '',
  ];
}

/** Rows of the table: each result, then its further comparisons indented below it. */
export function tableRows(results: readonly BenchResult[]): Row[] {
  const rows: Row[] = [];
  for (const r of results) {
    if (r.status !== 'measured') {
      rows.push([r.name, r.status, '', r.unit, '', '', '', targetText(r)]);
      continue;
    }
    const primary = r.baselines.find((c) => !c.variant && c.name === r.baseline);
    rows.push([
      r.name,
      fmt(r.median),
      fmt(r.p99),
      r.unit,
      r.baseline ?? '-',
      fmt(r.baseline_median),
      ratioText(r.ratio),
      targetText(r),
    ]);
    for (const c of r.baselines) if (c !== primary) rows.push(comparisonRow(c));
  }
  return rows;
}

/** A plain-text table for the terminal. */
export function textTable(results: readonly BenchResult[]): string {
  const rows = [HEADER, ...tableRows(results)];
  const widths = HEADER.map((_, i) => Math.min(60, Math.max(...rows.map((r) => r[i]!.length))));
  const line = (r: Row): string =>
    r
      .map((cell, i) => {
        const c = cell.length > widths[i]! ? `${cell.slice(0, widths[i]! - 1)}…` : cell;
        return i === 1 || i === 2 || i === 5 || i === 6
          ? c.padStart(widths[i]!)
          : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** The same table in Markdown (for the README). */
export function markdownTable(results: readonly BenchResult[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = tableRows(results);
  const out = [
    `| ${HEADER.join(' | ')} |`,
    '|---|--:|--:|---|---|--:|--:|---|',
    ...rows.map((r) => `| ${r.map((c, i) => (i === 0 && c ? `\`${c}\`` : esc(c))).join(' | ')} |`),
  ];
  return out.join('\n');
}

/** Notes and extra figures worth printing under the table. */
export function noteLines(results: readonly BenchResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const extra = Object.entries(r.extra)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`)
      .join(', ');
    if (r.subject) out.push(`${r.name}: ${r.subject}${extra ? ` [${extra}]` : ''}`);
    for (const c of r.baselines) if (c.note) out.push(`  ${c.name}: ${c.note}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
  }
  return out;
}
