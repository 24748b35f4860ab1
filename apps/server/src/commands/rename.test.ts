import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { ExecContext } from './types.js';
import { OK } from '../resp/reply.js';
import { rename } from './rename.js';
import { args, errorOf, fakeCtx, pctx, setStr } from './test-helpers.js';

const run = (ctx: ExecContext, from: string, to: string) => rename.execute(ctx, rename.parse(args(from, to), pctx));

describe('RENAME', () => {
  it('parses source and destination', () => {
    expect(rename.parse(args('a', 'b'), pctx)).toEqual({ from: 'a', to: 'b' });
  });

  it('no such key for a missing source', () => {
    expect(errorOf(() => run(fakeCtx(), 'missing', 'b'))).toBe('ERR no such key');
    expect(errorOf(() => run(fakeCtx(), 'missing', 'missing'))).toBe('ERR no such key');
  });

  it('moves value and TTL, replacing the destination whatever its type', () => {
    const ctx = fakeCtx();
    const at = Date.now() + 60_000;
    ctx.keyspace.set('a', { type: 'string', value: Buffer.from('1') }, { expireAt: at });
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(run(ctx, 'a', 't')).toBe(OK);
    expect(ctx.keyspace.has('a')).toBe(false);
    expect(ctx.keyspace.getTyped('t', 'string')?.toString()).toBe('1');
    expect(ctx.keyspace.expiryOf('t')).toBe(at);
  });

  it('a destination with a TTL loses it when the source has none', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    ctx.keyspace.set('b', { type: 'string', value: Buffer.from('2') }, { expireAt: Date.now() + 60_000 });
    expect(run(ctx, 'a', 'b')).toBe(OK);
    expect(ctx.keyspace.ttl('b')).toBe(-1);
  });

  it('renaming a key to itself is OK and keeps it', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    expect(run(ctx, 'a', 'a')).toBe(OK);
    expect(ctx.keyspace.getTyped('a', 'string')?.toString()).toBe('1');
  });

  it('moves a tensor', () => {
    const ctx = fakeCtx();
    const t = Tensor.zeros('INT8', [3]);
    ctx.keyspace.set('x', { type: 'tensor', value: t });
    run(ctx, 'x', 'y');
    expect(ctx.keyspace.getTyped('y', 'tensor')).toBe(t);
  });
});
