import { Histogram, isStable, type LoadResult, type Progress } from './loadgen/index.js';

/** The result of one measured configuration, server or in-process alike (a CSV row's figures). */
export interface Measured {
  opsPerSec: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  errors: number;
  firstError?: string | undefined;
  stable: boolean;
}

/** The figures of a load generator run that go into a row (not its histogram or windows). */
export function measuredOf(r: LoadResult): Measured {
  return { opsPerSec: r.opsPerSec, p50Us: r.p50Us, p90Us: r.p90Us, p99Us: r.p99Us, errors: r.errors, firstError: r.firstError, stable: r.stable };
}

const YIELD_NS = 2_000_000n;

export interface InProcessSpec {
  /** One call of the floor (e.g. a runtime's run); awaited, then the next one starts. */
  call: () => Promise<unknown>;
  /** Calls in flight at once: that many closed loops. */
  concurrency: number;
  windowMs: number;
  warmupMs: number;
  maxWindows: number;
  onProgress: (p: Progress) => void;
}

/**
 * A physical floor run in this process: `concurrency` closed loops of `call`, with the load
 * generator's windows (warm-up, then windows until the last three agree within 10%, figures over
 * the last three). A call that throws stops the run with its error: a floor that fails is no floor.
 */
export async function runInProcess(s: InProcessSpec): Promise<Measured> {
  let hist = new Histogram();
  let ok = 0;
  let stop = false;
  let failure: unknown;
  // A call that never leaves the thread (tfjs computes synchronously; its promises settle as
  // microtasks) would starve the window timers: yield to the event loop every YIELD_NS, outside
  // the timed part, so the cost is one setImmediate per couple of milliseconds.
  let lastYield = process.hrtime.bigint();
  const loop = async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        await s.call();
      } catch (e) {
        failure ??= e;
        stop = true;
        return;
      }
      const t1 = process.hrtime.bigint();
      hist.record(Number(t1 - t0));
      ok++;
      if (t1 - lastYield > YIELD_NS) {
        lastYield = t1;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  };
  const loops = Array.from({ length: s.concurrency }, loop);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const windows: number[] = [];
  const hists: Histogram[] = [];
  await sleep(s.warmupMs);
  while (failure === undefined) {
    ok = 0;
    hist = new Histogram();
    const t0 = process.hrtime.bigint();
    await sleep(s.windowMs);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    windows.push(ok / secs);
    hists.push(hist);
    s.onProgress({
      phase: 'window',
      window: windows.length,
      maxWindows: s.maxWindows,
      connections: s.concurrency,
      pipeline: 1,
      opsPerSec: windows[windows.length - 1]!,
      closed: true,
    });
    if (isStable(windows, 3, 10) || windows.length >= s.maxWindows) break;
  }
  stop = true;
  await Promise.all(loops);
  if (failure !== undefined) throw new Error(`in-process floor failed: ${failure instanceof Error ? failure.message : String(failure)}`);
  const h = new Histogram();
  for (const x of hists.slice(-3)) h.add(x);
  const reported = windows.slice(-3);
  return {
    opsPerSec: reported.reduce((a, b) => a + b, 0) / reported.length,
    p50Us: h.percentile(50) / 1e3,
    p90Us: h.percentile(90) / 1e3,
    p99Us: h.percentile(99) / 1e3,
    errors: 0,
    stable: isStable(windows, 3, 10),
  };
}
