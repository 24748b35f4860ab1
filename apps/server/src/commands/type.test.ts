import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { SimpleString } from '../resp/reply.js';
import { type } from './type.js';
import { args, fakeCtx, pctx, setStr } from './test-helpers.js';

describe('TYPE', () => {
  it('parses the key', () => {
    expect(type.parse(args('k'), pctx)).toBe('k');
  });

  it('replies a simple string: none, string, AI_TENSOR', () => {
    const ctx = fakeCtx();
    setStr(ctx, 's', 'v');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(type.execute(ctx, 'missing')).toEqual(new SimpleString('none'));
    expect(type.execute(ctx, 's')).toEqual(new SimpleString('string'));
    expect(type.execute(ctx, 't')).toEqual(new SimpleString('AI_TENSOR'));
  });
});
