/**
 * Log-linear latency histogram in the manner of HdrHistogram: values below 2^SUB_BITS are exact,
 * above that each power of two is split into HALF linear sub-buckets, so a bucket's width is at
 * most 1/HALF (0.78%) of its value. Memory is fixed (a few thousand counters) however many samples
 * are recorded, which is the point: a run at 100k ops/s must not keep every sample.
 */
const SUB_BITS = 8;
const SUB = 1 << SUB_BITS; // 256 exact buckets for 0..255
const HALF = SUB >> 1; // 128 sub-buckets per power of two above that
/** Largest magnitude tracked: 2^MAX_BITS ns is about 18 minutes; anything above is clamped. */
const MAX_BITS = 40;
const BUCKETS = SUB + (MAX_BITS - SUB_BITS + 1) * HALF;
const MAX_VALUE = 2 ** MAX_BITS - 1;

export interface HistogramSnapshot {
  counts: number[];
  count: number;
  min: number;
  max: number;
  sum: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  min = Infinity;
  max = 0;
  sum = 0;

  /** Records a value (nanoseconds by convention; any non-negative integer unit works). */
  record(value: number): void {
    const v = value < 0 ? 0 : value > MAX_VALUE ? MAX_VALUE : Math.floor(value);
    this.counts[bucketOf(v)]! += 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /**
   * The value at percentile p (0..100): the midpoint of the bucket holding that rank, clamped to
   * the observed min/max so p0 and p100 are exact. 0 when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.max;
    if (p <= 0) return this.min;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        return Math.min(this.max, Math.max(this.min, (lo + hi) / 2));
      }
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.min = Infinity;
    this.max = 0;
    this.sum = 0;
  }

  /** Sparse plain-data form, for posting across a worker boundary: [index, count] pairs. */
  toJSON(): HistogramSnapshot {
    const counts: number[] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) counts.push(i, this.counts[i]!);
    return { counts, count: this.count, min: this.min, max: this.max, sum: this.sum };
  }

  static fromJSON(s: HistogramSnapshot): Histogram {
    const h = new Histogram();
    for (let i = 0; i + 1 < s.counts.length; i += 2) h.counts[s.counts[i]!] = s.counts[i + 1]!;
    h.count = s.count;
    // Structured clone keeps Infinity, JSON would not: an empty histogram's min comes back null.
    h.min = s.min ?? Infinity;
    h.max = s.max;
    h.sum = s.sum;
    return h;
  }
}

export function bucketOf(v: number): number {
  if (v < SUB) return v;
  // clz32 only covers 32 bits; latencies in ns pass 2^32 after 4.3 s, so fall back above that.
  let msb = v < 0x1_0000_0000 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
  if (2 ** msb > v) msb--; // log2 rounds up just below a power of two
  const shift = msb - (SUB_BITS - 1);
  const sub = Math.floor(v / 2 ** shift); // in [HALF, SUB)
  return SUB + (shift - 1) * HALF + (sub - HALF);
}

/** Inclusive [lowest, highest] values that land in bucket i. */
export function bucketRange(i: number): [number, number] {
  if (i < SUB) return [i, i];
  const shift = Math.floor((i - SUB) / HALF) + 1;
  const sub = ((i - SUB) % HALF) + HALF;
  const lo = sub * 2 ** shift;
  return [lo, lo + 2 ** shift - 1];
}
