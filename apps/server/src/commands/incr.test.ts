import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { incr } from './incr.js';
import type { ExecContext } from './types.js';
import { args, errorOf, fakeCtx, pctx, setStr } from './test-helpers.js';

const run = (ctx: ExecContext, k: string) => incr.execute(ctx, incr.parse(args(k), pctx));

describe('INCR', () => {
  it('parses the key', () => {
    expect(incr.parse(args('counter'), pctx)).toBe('counter');
  });

  it('starts a missing key at 1 and stores the decimal text', () => {
    const ctx = fakeCtx();
    expect(run(ctx, 'c')).toBe(1n);
    expect(run(ctx, 'c')).toBe(2n);
    expect(ctx.keyspace.getTyped('c', 'string')).toEqual(Buffer.from('2'));
  });

  it('increments negatives and int64 values exactly', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'n', '-1');
    expect(run(ctx, 'n')).toBe(0n);
    setStr(ctx, 'big', '9223372036854775806');
    expect(run(ctx, 'big')).toBe(9223372036854775807n);
    expect(ctx.keyspace.getTyped('big', 'string')?.toString()).toBe('9223372036854775807');
  });

  it('overflow error at INT64_MAX, value unchanged', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'max', '9223372036854775807');
    expect(errorOf(() => run(ctx, 'max'))).toBe('ERR increment or decrement would overflow');
    expect(ctx.keyspace.getTyped('max', 'string')?.toString()).toBe('9223372036854775807');
  });

  it.each(['abc', '1.5', ' 1', '1 ', '+1', '01', '-0', '', '9223372036854775808', '1e3'])(
    'rejects the stored value %j',
    (v) => {
      const ctx = fakeCtx();
      setStr(ctx, 'k', v);
      expect(errorOf(() => run(ctx, 'k'))).toBe('ERR value is not an integer or out of range');
    },
  );

  it('keeps the TTL', () => {
    const ctx = fakeCtx();
    const at = Date.now() + 60_000;
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('5') }, { expireAt: at });
    expect(run(ctx, 'k')).toBe(6n);
    expect(ctx.keyspace.expiryOf('k')).toBe(at);
  });

  it('WRONGTYPE against a tensor', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('INT8', [1]) });
    expect(errorOf(() => run(ctx, 't'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });
});
