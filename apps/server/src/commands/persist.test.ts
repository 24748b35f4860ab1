import { describe, expect, it } from 'vitest';
import { persist } from './persist.js';
import { args, fakeCtx, pctx } from './test-helpers.js';

describe('PERSIST', () => {
  it('parses the key', () => {
    expect(persist.parse(args('k'), pctx)).toBe('k');
  });

  it('0 for a missing key or one without TTL; 1 when it removes a TTL', () => {
    const ctx = fakeCtx();
    const run = (k: string) => persist.execute(ctx, persist.parse(args(k), pctx));
    expect(run('nope')).toBe(0);
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') });
    expect(run('k')).toBe(0);
    ctx.keyspace.setExpiry('k', Date.now() + 60_000);
    expect(run('k')).toBe(1);
    expect(ctx.keyspace.ttl('k')).toBe(-1);
    expect(ctx.keyspace.volatileCount).toBe(0);
    expect(run('k')).toBe(0);
  });
});
