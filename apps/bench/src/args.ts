import { join } from 'node:path';
import { repoRoot } from './servers.js';
import { serverWarmupMs } from './warmup.js';

/** Option parsing shared by scenarios: lists, byte sizes with k/m suffixes. */

export function parseList<T>(s: string, item: (x: string) => T): T[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
    .map(item);
}

/** "1k" = 1024, "64KiB" = 65536, "1m" = 1 MiB; a bare number is bytes. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  return Math.round(Number(m[1]) * mult);
}

export function parsePositiveInt(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer, got ${s}`);
  return n;
}

/** The options every scenario takes, for parseArgs: --quick, --out (default <repo>/bench-results), --help. */
export function commonOptions(out = join(repoRoot, 'bench-results')) {
  return {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: out },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
}

/**
 * The options every compute scenario (onnx, torch, tf, tflite, dag) takes, for parseArgs; a
 * scenario adds its own. `computeSettings` reads them.
 */
export function computeOptions(out: string) {
  return {
    concurrency: { type: 'string', default: '1,2,4,8,16,32' },
    'intra-op': { type: 'string', default: '1' },
    'threads-per-queue': { type: 'string', default: '1' },
    'window-ms': { type: 'string' },
    'max-windows': { type: 'string' },
    'server-warmup-ms': { type: 'string' },
    ...commonOptions(out),
  } as const;
}

/** The help of {@link computeOptions}' measurement options: the end of each compute scenario's usage. */
export const COMPUTE_USAGE_TAIL = `  --window-ms N         measurement window (default 2000; --quick: 500)
  --max-windows N       give up on stability after N windows (default 10; --quick: 5)
  --server-warmup-ms N  unmeasured load on each model before the server's first measurement
                        (default 3000; --quick: 1000): a fresh server runs slow for its first seconds
  --quick               short windows, for a smoke run
  --out DIR             where results go (default <repo>/bench-results)`;

/** The values of {@link computeOptions}, checked: --quick shortens windows and warm-up. */
export interface ComputeSettings {
  levels: number[];
  intraOp: number;
  threadsPerQueue: number;
  windowMs: number;
  warmupMs: number;
  maxWindows: number;
  serverWarmupMs: number;
  out: string;
}

export function computeSettings(v: {
  concurrency: string;
  'intra-op': string;
  'threads-per-queue': string;
  'window-ms'?: string | undefined;
  'max-windows'?: string | undefined;
  'server-warmup-ms'?: string | undefined;
  quick: boolean;
  out: string;
}): ComputeSettings {
  const windowMs = v['window-ms'] ? parsePositiveInt(v['window-ms'], '--window-ms') : v.quick ? 500 : 2000;
  return {
    levels: parseList(v.concurrency, (s) => parsePositiveInt(s, '--concurrency')),
    intraOp: parsePositiveInt(v['intra-op'], '--intra-op'),
    threadsPerQueue: parsePositiveInt(v['threads-per-queue'], '--threads-per-queue'),
    windowMs,
    warmupMs: Math.min(windowMs, 1000),
    maxWindows: v['max-windows'] ? parsePositiveInt(v['max-windows'], '--max-windows') : v.quick ? 5 : 10,
    serverWarmupMs: serverWarmupMs(v['server-warmup-ms'], v.quick),
    out: v.out,
  };
}
