import { describe, expect, it } from 'vitest';
import { ValueCache, type Cacheable } from './cache.js';

class Counted implements Cacheable {
  refs = 1;
  constructor(readonly name: string) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    this.refs--;
  }
}

describe('ValueCache', () => {
  it('hits by (key, digest) only, retaining for the caller', () => {
    const c = new ValueCache<Counted>();
    const v = new Counted('v1');
    c.put('k', 'd1', v);
    expect(c.get('k', 'd2')).toBeUndefined();
    expect(c.get('k', 'd1')).toBe(v);
    expect(v.refs).toBe(2);
    expect(c.stats).toMatchObject({ entries: 1, hits: 1 });
  });

  it('shares one load between concurrent misses, and caches the version the load found', async () => {
    const c = new ValueCache<Counted>();
    let loads = 0;
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const load = async () => {
      loads++;
      await gate;
      return { digest: 'd2', value: new Counted('v2') };
    };
    const p1 = c.getOrLoad('k', 'd1', load);
    const p2 = c.getOrLoad('k', 'd1', load);
    finish();
    const [a, b] = await Promise.all([p1, p2]);
    expect(loads).toBe(1);
    expect(a).toBe(b);
    expect(a.refs).toBe(3); // the cache's and one per caller
    expect(c.peek('k')?.digest).toBe('d2');
    expect(c.stats.misses).toBe(2);
  });

  it('a failed load is not cached and the next call loads again', async () => {
    const c = new ValueCache<Counted>();
    await expect(c.getOrLoad('k', 'd', () => Promise.reject(new Error('bad blob')))).rejects.toThrow('bad blob');
    expect((await c.getOrLoad('k', 'd', async () => ({ digest: 'd', value: new Counted('ok') }))).name).toBe('ok');
  });

  it('a replaced or dropped entry is released once', () => {
    const c = new ValueCache<Counted>();
    const v1 = new Counted('v1');
    const v2 = new Counted('v2');
    c.put('k', 'd1', v1);
    c.put('k', 'd2', v2);
    expect(v1.refs).toBe(0);
    expect(c.drop('k')).toBe(true);
    expect(c.drop('k')).toBe(false);
    expect(v2.refs).toBe(0);
  });

  it('check() drops entries whose key no longer holds the cached digest, keeps the rest', async () => {
    const c = new ValueCache<Counted>();
    const [a, b, d] = [new Counted('a'), new Counted('b'), new Counted('d')];
    c.put('a', 'x', a);
    c.put('b', 'y', b);
    c.put('d', 'z', d);
    const dropped = await c.check(async (keys) => keys.map((k) => ({ a: 'x', b: 'changed', d: null })[k] ?? null));
    expect(dropped).toBe(2);
    expect(c.digests()).toEqual([['a', 'x']]);
    expect([a.refs, b.refs, d.refs]).toEqual([1, 0, 0]);
    expect(c.stats.evictions).toBe(2);
  });

  it('check() keeps an entry replaced while the store was being asked', async () => {
    const c = new ValueCache<Counted>();
    c.put('k', 'old', new Counted('old'));
    const fresh = new Counted('new');
    await c.check(async () => {
      c.put('k', 'new', fresh);
      return [null];
    });
    expect(c.peek('k')?.value).toBe(fresh);
  });
});
