import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { exists } from './exists.js';
import { args, fakeCtx, pctx, setStr } from './test-helpers.js';

describe('EXISTS', () => {
  it('parses every key binary-safely', () => {
    expect(exists.parse(args('a', 'b', 'a'), pctx)).toEqual(['a', 'b', 'a']);
    expect(exists.parse([Buffer.from([0xff, 0])], pctx)).toEqual(['\u00ff\u0000']);
  });

  it('counts existing keys, a repeated key each time', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(exists.execute(ctx, exists.parse(args('a', 'a', 'missing', 't'), pctx))).toBe(3);
    expect(exists.execute(ctx, exists.parse(args('missing'), pctx))).toBe(0);
    expect(ctx.keyspace.size).toBe(2);
  });

  it('an expired key does not exist', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('a', { type: 'string', value: Buffer.from('1') }, { expireAt: Date.now() - 1 });
    expect(exists.execute(ctx, ['a'])).toBe(0);
  });
});
