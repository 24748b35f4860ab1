import { Worker } from 'node:worker_threads';
import { LoadConnection, type Recorder } from './connection.js';
import { Histogram, type HistogramSnapshot } from './histogram.js';

/** Per-connection requests, pre-encoded; a list is sent round-robin. Called once per connection. */
export type RequestFactory = (conn: number) => Buffer | readonly Buffer[];

export interface LoadSpec {
  host?: string;
  port: number;
  /** Concurrent connections (the concurrency level). */
  connections: number;
  /** Requests each connection keeps in flight. Default 1. */
  pipeline?: number;
  requests: RequestFactory;
  /** Measurement window. Default 2000 ms. */
  windowMs?: number;
  /** Load applied before the first window, results discarded. Default min(windowMs, 1000). */
  warmupMs?: number;
  /** Give up on stability after this many windows. Default 10. */
  maxWindows?: number;
  /** Windows that must agree. Default 3. */
  stableWindows?: number;
  /** They agree when max/min throughput <= 1 + pct/100. Default 10. */
  stabilityPct?: number;
  /** 'worker' runs the generator in a worker thread; the main thread then only relays progress. */
  thread?: 'main' | 'worker';
  onProgress?: (p: Progress) => void;
  /** Interval between in-window progress ticks. Default 500 ms. */
  progressMs?: number;
  /** Bytes per connection's reused read buffer. Default 256 KiB. */
  readBufferBytes?: number;
  /** Replies that complete one request, for requests that are several pipelined commands. Default 1. */
  repliesPerRequest?: number;
  /**
   * Requests that make one sample, sent one after another, each when the previous one's reply is
   * in (what a client awaiting each command does): latency runs from the first send to the last
   * reply, ops/s counts whole chains, and a chain with any error reply counts as one error.
   * Needs pipeline 1 and a per-connection request list whose length is a multiple of it. Default 1.
   */
  chain?: number;
}

export interface Progress {
  phase: 'warmup' | 'window';
  /** 1-based window number (0 during warm-up). */
  window: number;
  maxWindows: number;
  connections: number;
  pipeline: number;
  /** Throughput so far in the current window (or of the window just closed when `closed`). */
  opsPerSec: number;
  /** True once per finished window. */
  closed: boolean;
}

export interface LoadResult {
  connections: number;
  pipeline: number;
  /** Successful replies per second over the reported windows. Error replies are not counted. */
  opsPerSec: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  /** Error replies over the whole run, warm-up included. */
  errors: number;
  firstError: string | undefined;
  stable: boolean;
  /** Throughput of every measured window, in order. */
  windows: number[];
  /** Latency (ns) of every reply in the reported windows. */
  histogram: Histogram;
}

/** Fully resolved spec: what crosses into a worker (no functions). */
export interface MaterializedSpec {
  host: string;
  port: number;
  connections: number;
  pipeline: number;
  requests: Buffer[][];
  windowMs: number;
  warmupMs: number;
  maxWindows: number;
  stableWindows: number;
  stabilityPct: number;
  progressMs: number;
  readBufferBytes: number;
  repliesPerRequest: number;
  chain: number;
}

export type SerializedResult = Omit<LoadResult, 'histogram'> & { histogram: HistogramSnapshot };

export function materialize(spec: LoadSpec): MaterializedSpec {
  const windowMs = spec.windowMs ?? 2000;
  const requests: Buffer[][] = [];
  for (let i = 0; i < spec.connections; i++) {
    const r = spec.requests(i);
    requests.push(Buffer.isBuffer(r) ? [r] : [...(r as readonly Buffer[])]);
  }
  return {
    host: spec.host ?? '127.0.0.1',
    port: spec.port,
    connections: spec.connections,
    pipeline: spec.pipeline ?? 1,
    requests,
    windowMs,
    warmupMs: spec.warmupMs ?? Math.min(windowMs, 1000),
    maxWindows: spec.maxWindows ?? 10,
    stableWindows: spec.stableWindows ?? 3,
    stabilityPct: spec.stabilityPct ?? 10,
    progressMs: spec.progressMs ?? 500,
    readBufferBytes: spec.readBufferBytes ?? 256 * 1024,
    repliesPerRequest: spec.repliesPerRequest ?? 1,
    chain: spec.chain ?? 1,
  };
}

/** Runs closed-loop load at one concurrency level until throughput is stable (or maxWindows). */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const m = materialize(spec);
  if (spec.thread === 'worker') return runInWorker(m, spec.onProgress);
  return runMaterialized(m, spec.onProgress);
}

/** Runs `spec` once per concurrency level, in order, each on fresh connections. */
export async function sweep(spec: LoadSpec, levels: readonly number[]): Promise<LoadResult[]> {
  const rows: LoadResult[] = [];
  for (const connections of levels) rows.push(await runLoad({ ...spec, connections }));
  return rows;
}

/** True when the last `n` throughputs agree within `pct` percent (max/min). */
export function isStable(windows: readonly number[], n: number, pct: number): boolean {
  if (windows.length < n) return false;
  const last = windows.slice(-n);
  const min = Math.min(...last);
  const max = Math.max(...last);
  return min > 0 && max / min <= 1 + pct / 100;
}

export async function runMaterialized(
  m: MaterializedSpec,
  onProgress?: (p: Progress) => void,
): Promise<LoadResult> {
  const rec: Recorder = { hist: new Histogram(), ok: 0, errors: 0, firstError: undefined };
  let fatal: Error | undefined;
  let abort: (e: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    abort = reject;
  });
  aborted.catch(() => {}); // observed via the races below
  const onFatal = (e: Error) => {
    if (fatal) return;
    fatal = e;
    abort(e);
  };
  const conns = m.requests.map(
    (reqs) =>
      new LoadConnection(
        m.host,
        m.port,
        reqs,
        m.pipeline,
        rec,
        Buffer.allocUnsafe(m.readBufferBytes),
        onFatal,
        m.repliesPerRequest,
        m.chain,
      ),
  );
  let ticker: NodeJS.Timeout | undefined;
  try {
    await Promise.all(conns.map((c) => c.connect()));
    const windows: number[] = [];
    const hists: Histogram[] = [];
    let phase: Progress['phase'] = 'warmup';
    let windowStart = process.hrtime.bigint();
    const progress = (opsPerSec: number, closed: boolean) =>
      onProgress?.({
        phase,
        window: phase === 'warmup' ? 0 : windows.length + (closed ? 0 : 1),
        maxWindows: m.maxWindows,
        connections: m.connections,
        pipeline: m.pipeline,
        opsPerSec,
        closed,
      });
    if (onProgress) {
      ticker = setInterval(() => {
        const s = Number(process.hrtime.bigint() - windowStart) / 1e9;
        if (s > 0) progress(rec.ok / s, false);
      }, m.progressMs);
      ticker.unref();
    }
    const sleep = (ms: number) =>
      Promise.race([new Promise<void>((r) => setTimeout(r, ms)), aborted]);

    for (const c of conns) c.start();
    await sleep(m.warmupMs);
    phase = 'window';
    for (;;) {
      rec.ok = 0;
      rec.hist = new Histogram();
      windowStart = process.hrtime.bigint();
      await sleep(m.windowMs);
      // Timers fire late under load; divide by the time that really passed.
      const secs = Number(process.hrtime.bigint() - windowStart) / 1e9;
      windows.push(rec.ok / secs);
      hists.push(rec.hist);
      progress(windows[windows.length - 1]!, true);
      if (isStable(windows, m.stableWindows, m.stabilityPct)) break;
      if (windows.length >= m.maxWindows) break;
    }
    clearInterval(ticker);
    const stable = isStable(windows, m.stableWindows, m.stabilityPct);
    await Promise.race([Promise.all(conns.map((c) => c.stop())), aborted, drainTimeout(30_000)]);

    const n = Math.min(m.stableWindows, windows.length);
    const hist = new Histogram();
    for (const h of hists.slice(-n)) hist.add(h);
    const reported = windows.slice(-n);
    // Windows are near-equal in length, so the mean of rates is the overall rate.
    const opsPerSec = reported.reduce((a, b) => a + b, 0) / reported.length;
    return {
      connections: m.connections,
      pipeline: m.pipeline,
      opsPerSec,
      p50Us: hist.percentile(50) / 1e3,
      p90Us: hist.percentile(90) / 1e3,
      p99Us: hist.percentile(99) / 1e3,
      meanUs: hist.mean() / 1e3,
      maxUs: hist.count ? hist.max / 1e3 : 0,
      errors: rec.errors,
      firstError: rec.firstError,
      stable,
      windows,
      histogram: hist,
    };
  } finally {
    clearInterval(ticker);
    for (const c of conns) c.close();
  }
}

function drainTimeout(ms: number): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(`loadgen: in-flight requests not answered within ${ms} ms`)), ms).unref();
  });
}

async function runInWorker(m: MaterializedSpec, onProgress?: (p: Progress) => void): Promise<LoadResult> {
  // Resolved next to this file: dist/loadgen/worker.js. Not available when running from sources.
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { spec: m, progress: onProgress !== undefined },
  });
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'progress') onProgress?.(msg.progress);
        else if (msg.type === 'result')
          resolve({ ...msg.result, histogram: Histogram.fromJSON(msg.result.histogram) });
        else reject(new Error(msg.message));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`loadgen worker exited with code ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

export type WorkerMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; result: SerializedResult }
  | { type: 'error'; message: string };
