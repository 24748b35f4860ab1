import { describe, expect, it } from 'vitest';
import { bucketOf, bucketRange, Histogram } from './histogram.js';

describe('Histogram', () => {
  it('maps values to contiguous buckets whose width stays under 1% of the value', () => {
    let prevHi = -1;
    for (let i = 0; i < 4000; i++) {
      const [lo, hi] = bucketRange(i);
      expect(lo).toBe(prevHi + 1);
      expect(bucketOf(lo)).toBe(i);
      expect(bucketOf(hi)).toBe(i);
      if (lo >= 256) expect((hi - lo + 1) / lo).toBeLessThanOrEqual(1 / 128);
      prevHi = hi;
    }
  });

  it('handles values past 2^32 (latencies over 4.3 s in ns), including just below powers of two', () => {
    for (const v of [2 ** 32 - 1, 2 ** 32, 2 ** 33 - 1, 2 ** 33, 1e11, 2 ** 39 + 12345]) {
      const [lo, hi] = bucketRange(bucketOf(v));
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThanOrEqual(hi);
    }
  });

  it('reports percentiles within 1% of the exact ones', () => {
    const h = new Histogram();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 100_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31; // deterministic LCG
      const v = 1000 + Math.floor((x / 2 ** 31) ** 3 * 50_000_000); // skewed, 1 us .. 50 ms in ns
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [1, 50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.01);
    }
    expect(h.count).toBe(100_000);
    expect(h.percentile(100)).toBe(values[values.length - 1]);
    expect(h.percentile(0)).toBe(values[0]);
  });

  it('merges, and survives a round trip through its plain-data form', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i * 1000);
    a.add(b);
    expect(a.count).toBe(1000);
    expect(a.min).toBe(1000);
    expect(a.max).toBe(1_000_000);
    const c = Histogram.fromJSON(structuredClone(a.toJSON()));
    expect(c.percentile(50)).toBe(a.percentile(50));
    expect(c.mean()).toBe(a.mean());
    expect(new Histogram().percentile(50)).toBe(0);
  });
});
