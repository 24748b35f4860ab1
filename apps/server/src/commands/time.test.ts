import { describe, expect, it } from 'vitest';
import { time } from './time.js';
import type { ExecContext } from './types.js';

describe('TIME', () => {
  it('replies [seconds, microseconds] as decimal strings close to now', () => {
    expect(time.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    const before = Date.now();
    const r = time.execute({} as ExecContext, undefined) as [string, string];
    const after = Date.now();
    expect(r).toHaveLength(2);
    expect(r[0]).toMatch(/^[1-9][0-9]*$/);
    expect(r[1]).toMatch(/^(0|[1-9][0-9]{0,5})$/);
    const ms = Number(r[0]) * 1000 + Math.floor(Number(r[1]) / 1000);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });
});
