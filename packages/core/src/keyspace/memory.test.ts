import { describe, expect, it } from 'vitest';
import { MemoryKeyspace } from './memory.js';
import type { Value } from './keyspace.js';

const str = (s: string): Value => ({ type: 'string', value: Buffer.from(s) });

function fixture() {
  let t = 1_000_000;
  const ks = new MemoryKeyspace({ now: () => t, activeExpiryMs: 0 });
  return { ks, advance: (ms: number) => (t += ms), now: () => t };
}

describe('MemoryKeyspace', () => {
  it('sets, gets, deletes', () => {
    const { ks } = fixture();
    ks.set('a', str('1'));
    expect(ks.get('a')).toEqual(str('1'));
    expect(ks.size).toBe(1);
    expect(ks.delete('a')).toBe(true);
    expect(ks.delete('a')).toBe(false);
    expect(ks.get('a')).toBeUndefined();
  });

  it('getTyped throws WRONGTYPE for another type', () => {
    const { ks } = fixture();
    ks.set('a', str('1'));
    expect(() => ks.getTyped('a', 'tensor')).toThrow(
      'WRONGTYPE Operation against a key holding the wrong kind of value',
    );
    expect(ks.getTyped('missing', 'tensor')).toBeUndefined();
  });

  it('expires lazily and reports TTLs', () => {
    const { ks, advance, now } = fixture();
    ks.set('a', str('1'), { expireAt: now() + 100 });
    expect(ks.ttl('a')).toBe(100);
    expect(ks.ttl('missing')).toBe(-2);
    ks.set('b', str('2'));
    expect(ks.ttl('b')).toBe(-1);
    advance(100);
    expect(ks.get('a')).toBeUndefined();
    expect(ks.size).toBe(1);
  });

  it('plain set clears the TTL, keepTtl keeps it', () => {
    const { ks, now } = fixture();
    ks.set('a', str('1'), { expireAt: now() + 100 });
    ks.set('a', str('2'), { keepTtl: true });
    expect(ks.ttl('a')).toBe(100);
    ks.set('a', str('3'));
    expect(ks.ttl('a')).toBe(-1);
    expect(ks.volatileCount).toBe(0);
  });

  it('active expiry removes expired keys in bounded steps', () => {
    const { ks, advance, now } = fixture();
    for (let i = 0; i < 500; i++) ks.set(`k${i}`, str('v'), { expireAt: now() + 10 });
    advance(10);
    let removed = 0;
    for (let i = 0; i < 10 && ks.volatileCount > 0; i++) removed += ks.activeExpire(100);
    expect(removed).toBe(500);
    expect(ks.size).toBe(0);
  });

  it('rename moves the value and its TTL', () => {
    const { ks, now } = fixture();
    ks.set('a', str('1'), { expireAt: now() + 50 });
    ks.set('b', str('old'));
    expect(ks.rename('a', 'b')).toBe(true);
    expect(ks.get('a')).toBeUndefined();
    expect(ks.get('b')).toEqual(str('1'));
    expect(ks.ttl('b')).toBe(50);
    expect(ks.rename('nope', 'c')).toBe(false);
  });

  it('scan returns every key present throughout, despite deletes and inserts', () => {
    const { ks } = fixture();
    for (let i = 0; i < 5000; i++) ks.set(`k${i}`, str('v'));
    const seen = new Set<string>();
    let cursor = 0;
    let round = 0;
    do {
      const page = ks.scan(cursor, 37);
      page.keys.forEach((k) => seen.add(k));
      cursor = page.cursor;
      // churn: delete some keys not yet seen (they may or may not be returned) and add new ones
      for (let j = 0; j < 20; j++) ks.delete(`k${round * 20 + j + 3000}`);
      ks.set(`new${round}`, str('v'));
      round++;
    } while (cursor !== 0 && round < 10_000);
    expect(cursor).toBe(0);
    for (let i = 0; i < 3000; i++) expect(seen.has(`k${i}`)).toBe(true);
  });

  it('scan with a filter and an empty keyspace', () => {
    const { ks } = fixture();
    expect(ks.scan(0, 10)).toEqual({ cursor: 0, keys: [] });
    ks.set('a', str('1'));
    ks.set('b', str('2'));
    const page = ks.scan(0, 10, (k) => k === 'b');
    expect(page).toEqual({ cursor: 0, keys: ['b'] });
  });
});
