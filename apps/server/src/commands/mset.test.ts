import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { OK } from '../resp/reply.js';
import { mset } from './mset.js';
import { args, errorOf, fakeCtx, pctx, setStr } from './test-helpers.js';

describe('MSET', () => {
  it('parses key/value pairs', () => {
    expect(mset.parse(args('a', '1', 'b', '2'), pctx)).toEqual([
      ['a', Buffer.from('1')],
      ['b', Buffer.from('2')],
    ]);
  });

  it.each([[['a', '1', 'b']], [['a']], [['a', '1', 'b', '2', 'c']]])('rejects the odd count %j with the arity text', (xs) => {
    expect(errorOf(() => mset.parse(args(...xs), pctx))).toBe("ERR wrong number of arguments for 'mset' command");
  });

  it('sets every pair (last one wins for a repeated key), clears TTLs, overwrites any type', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('a', { type: 'string', value: Buffer.from('old') }, { expireAt: Date.now() + 60_000 });
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(mset.execute(ctx, mset.parse(args('a', '1', 't', '2', 'a', '3'), pctx))).toBe(OK);
    expect(ctx.keyspace.getTyped('a', 'string')?.toString()).toBe('3');
    expect(ctx.keyspace.ttl('a')).toBe(-1);
    expect(ctx.keyspace.getTyped('t', 'string')?.toString()).toBe('2');
  });

  it('stores copies of the values', () => {
    const ctx = fakeCtx();
    const v = Buffer.from('abc');
    mset.execute(ctx, mset.parse([Buffer.from('k'), v], pctx));
    v.fill(0);
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('abc');
  });
});
