/**
 * A Prometheus histogram's state as plain numbers: recording is a bucket search and three
 * additions, no allocation; the exposition (cumulative buckets, +Inf) is built at scrape time.
 */
export class Hist {
  /** Per bucket (not cumulative); the last slot counts values above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** Compute time of one run, seconds: 100 µs (a small model) to 10 s. */
export const RUN_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Queue wait, seconds; measured with the run queue's millisecond clock, so its first bound is 1 ms. */
export const WAIT_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Requests per backend run. */
export const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
