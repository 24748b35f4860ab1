import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatRate, type LoadResult } from './loadgen/index.js';

/** One measured configuration against one target: a CSV row. */
export interface Row {
  scenario: string;
  /** What was done, e.g. "set" / "get"; the command differs per target. */
  op: string;
  target: string;
  /** Payload bytes per request. */
  payload: number;
  concurrency: number;
  pipeline: number;
  opsPerSec: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  errors: number;
  stable: boolean;
  firstError?: string | undefined;
}

/** The row of one measurement: what was measured, and the load's figures. */
export function rowOf(what: Pick<Row, 'scenario' | 'op' | 'target' | 'payload' | 'concurrency' | 'pipeline'>, r: LoadResult): Row {
  const { opsPerSec, p50Us, p90Us, p99Us, errors, stable, firstError } = r;
  return { ...what, opsPerSec, p50Us, p90Us, p99Us, errors, stable, firstError };
}

export interface Comparison {
  op: string;
  payload: number;
  concurrency: number;
  pipeline: number;
  floor: Row;
  ours: Row;
  /** ours / floor throughput. */
  ratio: number;
}

const CSV_COLUMNS = [
  'scenario',
  'op',
  'target',
  'payload',
  'concurrency',
  'pipeline',
  'ops_per_s',
  'p50_us',
  'p90_us',
  'p99_us',
  'errors',
  'stable',
] as const;

export function toCsv(rows: readonly Row[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows)
    lines.push(
      [
        r.scenario,
        r.op,
        r.target,
        r.payload,
        r.concurrency,
        r.pipeline,
        r.opsPerSec.toFixed(1),
        r.p50Us.toFixed(1),
        r.p90Us.toFixed(1),
        r.p99Us.toFixed(1),
        r.errors,
        r.stable,
      ].join(','),
    );
  return `${lines.join('\n')}\n`;
}

/** Pairs each `ours` row with the floor row of the same configuration. */
export function compare(rows: readonly Row[], floor: string, ours: string): Comparison[] {
  const key = (r: Row) => `${r.op}|${r.payload}|${r.concurrency}|${r.pipeline}`;
  const floors = new Map(rows.filter((r) => r.target === floor).map((r) => [key(r), r]));
  const out: Comparison[] = [];
  for (const o of rows) {
    if (o.target !== ours) continue;
    const f = floors.get(key(o));
    if (!f) continue;
    out.push({
      op: o.op,
      payload: o.payload,
      concurrency: o.concurrency,
      pipeline: o.pipeline,
      floor: f,
      ours: o,
      ratio: f.opsPerSec > 0 ? o.opsPerSec / f.opsPerSec : 0,
    });
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

function fmtUs(us: number): string {
  return us >= 10_000 ? `${(us / 1000).toFixed(1)}ms` : us >= 1000 ? `${(us / 1000).toFixed(2)}ms` : `${us.toFixed(0)}us`;
}

/** Fixed-width text table; the first column is left-aligned, the rest right-aligned. */
export function textTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The comparison table: throughput and latency of both targets, and ours/floor. */
export function comparisonTable(
  cmps: readonly Comparison[],
  floor: string,
  ours: string,
  verdict?: (c: Comparison) => string,
): string {
  const header = [
    'op',
    'payload',
    'c',
    'p',
    `${floor} ops/s`,
    `${ours} ops/s`,
    'ratio',
    `${floor} p50`,
    `${ours} p50`,
    `${floor} p99`,
    `${ours} p99`,
    'errors',
  ];
  if (verdict) header.push('goal');
  const body = cmps.map((c) => {
    const flag = (r: Row) => (r.stable ? '' : '~'); // ~: never stabilised
    const cells = [
      c.op,
      formatBytes(c.payload),
      String(c.concurrency),
      String(c.pipeline),
      formatRate(c.floor.opsPerSec) + flag(c.floor),
      formatRate(c.ours.opsPerSec) + flag(c.ours),
      c.ratio.toFixed(2),
      fmtUs(c.floor.p50Us),
      fmtUs(c.ours.p50Us),
      fmtUs(c.floor.p99Us),
      fmtUs(c.ours.p99Us),
      `${c.floor.errors}/${c.ours.errors}`,
    ];
    if (verdict) cells.push(verdict(c));
    return cells;
  });
  return textTable(header, body);
}

/** `bench-results/<scenario>-<timestamp>` (no extension), creating the folder. */
export function resultBase(dir: string, scenario: string, when = new Date()): string {
  mkdirSync(dir, { recursive: true });
  const ts = when.toISOString().replace(/\..*$/, '').replace(/:/g, '-');
  return join(dir, `${scenario}-${ts}`);
}

export function writeFile(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

/**
 * When and where a run happened, for the head of a report: UTC date, CPU model and count, memory,
 * Node and kernel versions, and the load average at the time (other work skews every figure).
 */
export function machineLine(when = new Date()): string {
  const c = cpus();
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  return (
    `date ${when.toISOString().replace(/\.\d+Z$/, 'Z')}; machine: ${c.length} x ${c[0]?.model.trim() ?? '?'} (${arch()}), ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, linux ${release()}; load average ${load}`
  );
}
