import { describe, expect, it } from 'vitest';
import { decr } from './decr.js';
import { decrby } from './decrby.js';
import { incrby } from './incrby.js';
import type { ExecContext } from './types.js';
import { args, errorOf, fakeCtx, pctx } from './test-helpers.js';

const str = (ctx: ExecContext, k: string) => ctx.keyspace.getTyped(k, 'string')?.toString();

// INCRBY, DECR and DECRBY share INCR's arithmetic (incr.test.ts covers parsing of stored values).
describe('INCRBY / DECR / DECRBY', () => {
  it('add and subtract int64 deltas, a missing key starting at 0', () => {
    const ctx = fakeCtx();
    expect(incrby.execute(ctx, incrby.parse(args('c', '10'), pctx))).toBe(10n);
    expect(incrby.execute(ctx, incrby.parse(args('c', '-3'), pctx))).toBe(7n);
    expect(decr.execute(ctx, decr.parse(args('c'), pctx))).toBe(6n);
    expect(decrby.execute(ctx, decrby.parse(args('c', '10'), pctx))).toBe(-4n);
    expect(str(ctx, 'c')).toBe('-4');
  });

  it('a delta that is not an int64: ERR value is not an integer or out of range', () => {
    for (const d of ['x', '1.5', '9223372036854775808', '']) {
      expect(errorOf(() => incrby.parse(args('c', d), pctx))).toBe('ERR value is not an integer or out of range');
      expect(errorOf(() => decrby.parse(args('c', d), pctx))).toBe('ERR value is not an integer or out of range');
    }
  });

  it('overflow either way leaves the value unchanged', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('m', { type: 'string', value: Buffer.from('9223372036854775800') });
    expect(errorOf(() => incrby.execute(ctx, incrby.parse(args('m', '8'), pctx)))).toBe('ERR increment or decrement would overflow');
    ctx.keyspace.set('n', { type: 'string', value: Buffer.from('-9223372036854775808') });
    expect(errorOf(() => decr.execute(ctx, decr.parse(args('n'), pctx)))).toBe('ERR increment or decrement would overflow');
    expect(errorOf(() => decrby.parse(args('n', '-9223372036854775808'), pctx))).toBe('ERR decrement would overflow');
    expect(str(ctx, 'm')).toBe('9223372036854775800');
    expect(str(ctx, 'n')).toBe('-9223372036854775808');
  });
});
