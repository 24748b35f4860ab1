import { describe, expect, it } from 'vitest';
import { RedisDictOrder, sipHash, sipHash12 } from './redis-dict.js';

describe('SipHash', () => {
  it("matches the reference SipHash-2-4 vectors (key 00..0f, input 00..n-1): the same code runs 1-2", () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const input = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
    // From the SipHash paper's test vectors (vectors.h), read as little-endian 64-bit numbers.
    expect(sipHash(input(0), key, 2, 4)).toBe(0x726fdb47dd0e0e31n);
    expect(sipHash(input(1), key, 2, 4)).toBe(0x74f839c593dc67fdn);
    expect(sipHash(input(7), key, 2, 4)).toBe(0xab0200f58b01d137n);
    expect(sipHash(input(8), key, 2, 4)).toBe(0x93f5f5799a932462n);
    expect(sipHash(input(15), key, 2, 4)).toBe(0xa129ca6149be45e5n);
  });

  it('1-2 rounds with a zero key: the hashes the original engine used', () => {
    expect(sipHash12(Buffer.from('m'))).toBe(0xea72db90d7b8d47dn);
    expect(sipHash12(Buffer.from('pt_model'))).toBe(0x0fd9c82ca08263a1n);
  });
});

describe('RedisDictOrder', () => {
  const order = (keys: string[]) => {
    const d = new RedisDictOrder<string>();
    for (const k of keys) d.add(k, Buffer.from(k));
    return d.values();
  };

  it("redisai-py's test_model_scan: 'm' then 'pt_model' share bucket 1 of 4, the newer first", () => {
    expect(order(['m', 'pt_model'])).toEqual(['pt_model', 'm']);
  });

  it('lists every key once, whatever the growth and the rehash steps', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
    for (const n of [1, 4, 5, 9, 17, 33, 100, 300]) {
      const got = order(keys.slice(0, n));
      expect(got).toHaveLength(n);
      expect(new Set(got)).toEqual(new Set(keys.slice(0, n)));
    }
  });

  it('bucket order: keys in a table of 4 come by hash & 3, each bucket newest first', () => {
    const keys = ['a', 'b', 'c'];
    const bucket = (k: string) => Number(sipHash12(Buffer.from(k)) & 3n);
    const expected = keys
      .map((k, i) => ({ k, i }))
      .sort((x, y) => bucket(x.k) - bucket(y.k) || y.i - x.i)
      .map((x) => x.k);
    expect(order(keys)).toEqual(expected);
  });
});
