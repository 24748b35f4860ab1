import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { mget } from './mget.js';
import { args, fakeCtx, pctx, setStr } from './test-helpers.js';

describe('MGET', () => {
  it('parses every key, repeats included', () => {
    expect(mget.parse(args('a', 'b', 'a'), pctx)).toEqual(['a', 'b', 'a']);
  });

  it('replies values in order, nil for missing and non-string keys (no WRONGTYPE)', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    setStr(ctx, 'b', '2');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(mget.execute(ctx, mget.parse(args('a', 'missing', 't', 'b', 'a'), pctx))).toEqual([
      Buffer.from('1'),
      null,
      null,
      Buffer.from('2'),
      Buffer.from('1'),
    ]);
  });
});
