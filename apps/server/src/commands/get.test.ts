import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { get } from './get.js';
import { args, errorOf, fakeCtx, pctx } from './test-helpers.js';

describe('GET', () => {
  it('parses the key binary-safely', () => {
    expect(get.parse(args('k'), pctx)).toBe('k');
    expect(Buffer.from(get.parse(args(Buffer.from([0, 0xff, 0x0d, 0x0a])), pctx), 'latin1')).toEqual(
      Buffer.from([0, 0xff, 0x0d, 0x0a]),
    );
  });

  it('replies the value, or nil, and counts hits and misses', () => {
    const ctx = fakeCtx();
    const run = (k: string) => get.execute(ctx, get.parse(args(k), pctx));
    expect(run('k')).toBeNull();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('hello') });
    expect(run('k')).toEqual(Buffer.from('hello'));
    expect(ctx.server.stats.keyspaceHits).toBe(1);
    expect(ctx.server.stats.keyspaceMisses).toBe(1);
  });

  it('WRONGTYPE against a tensor', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('INT8', [1]) });
    expect(errorOf(() => get.execute(ctx, 't'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });
});
