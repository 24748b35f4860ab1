import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { scan } from './scan.js';
import type { ExecContext } from './types.js';
import { args, errorOf, fakeCtx, pctx } from './test-helpers.js';

const parse = (...xs: string[]) => scan.parse(args(...xs), pctx);

/** Runs SCAN to the end; returns every key seen and the number of calls. */
function scanAll(ctx: ExecContext, ...opts: string[]): { keys: string[]; calls: number } {
  const seen: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const r = scan.execute(ctx, parse(cursor, ...opts)) as [string, Buffer[]];
    expect(typeof r[0]).toBe('string');
    cursor = r[0];
    seen.push(...r[1].map((b) => b.toString('latin1')));
    calls++;
    if (calls > 10_000) throw new Error('SCAN does not terminate');
  } while (cursor !== '0');
  return { keys: seen.sort(), calls };
}

describe('SCAN parse', () => {
  it('defaults: COUNT 10, no MATCH, no TYPE', () => {
    expect(parse('0')).toEqual({ cursor: 0, match: undefined, count: 10, type: undefined });
    expect(parse('42').cursor).toBe(42);
  });

  it('reads MATCH, COUNT, TYPE in any order and case; the last repeat wins', () => {
    expect(parse('0', 'match', 'a*', 'Count', '5', 'TYPE', 'STRING')).toEqual({
      cursor: 0,
      match: 'a*',
      count: 5,
      type: 'string',
    });
    expect(parse('0', 'COUNT', '5', 'count', '7', 'MATCH', 'x', 'MATCH', 'y')).toMatchObject({ count: 7, match: 'y' });
  });

  it('TYPE is compared case-insensitively (ai_tensor)', () => {
    expect(parse('0', 'TYPE', 'AI_TENSOR').type).toBe('ai_tensor');
  });

  it.each(['abc', '1.5', ' 1', '1 ', '99999999999999999999'])('invalid cursor %j', (c) => {
    expect(errorOf(() => parse(c))).toBe('ERR invalid cursor');
  });

  it.each([
    [['MATCH']],
    [['COUNT']],
    [['FOO', 'bar']],
    [['MATCH', 'a', 'COUNT']],
    [['COUNT', '0']],
    [['COUNT', '-1']],
  ])('syntax error for %j', (opts) => {
    expect(errorOf(() => parse('0', ...opts))).toBe('ERR syntax error');
  });

  it.each([['abc'], ['1.5'], ['9223372036854775808'], ['+5'], ['05']])('COUNT %j is not an integer', (n) => {
    expect(errorOf(() => parse('0', 'COUNT', n))).toBe('ERR value is not an integer or out of range');
  });

  // Redis reads the cursor with strtoul (a sign allowed, "" is 0) and COUNT as any int64.
  it.each([
    ['-1', 2 ** 64 - 1],
    ['+1', 1],
    ['18446744073709551615', 2 ** 64 - 1],
    ['-18446744073709551615', 1],
    ['', 0],
    ['007', 7],
  ])('cursor %j as strtoul reads it', (c, want) => {
    expect(parse(c).cursor).toBe(want);
  });

  it.each(['-', '+', '18446744073709551616', '-18446744073709551616', '0x10', '\t1'])('invalid cursor %j', (c) => {
    expect(errorOf(() => parse(c))).toBe('ERR invalid cursor');
  });

  it('COUNT up to int64 max; the cursor is read before the options', () => {
    expect(parse('0', 'COUNT', '9223372036854775807').count).toBe(2 ** 63);
    expect(errorOf(() => parse('x', 'COUNT', 'y'))).toBe('ERR invalid cursor');
  });

  it("MATCH '*' is no pattern at all, so the empty key is listed", () => {
    expect(parse('0', 'MATCH', '*').match).toBeUndefined();
    expect(parse('0', 'MATCH', '**').match).toBe('**');
  });
});

describe('SCAN execute', () => {
  it('an empty keyspace: cursor "0" and no keys', () => {
    expect(scan.execute(fakeCtx(), parse('0'))).toEqual(['0', []]);
  });

  it('iterates every key once, COUNT bounding each page', () => {
    const ctx = fakeCtx();
    const names = Array.from({ length: 25 }, (_, i) => `k${i}`);
    for (const n of names) ctx.keyspace.set(n, { type: 'string', value: Buffer.from('v') });
    const first = scan.execute(ctx, parse('0', 'COUNT', '10')) as [string, Buffer[]];
    expect(first[1]).toHaveLength(10);
    expect(first[0]).not.toBe('0');
    const all = scanAll(ctx, 'COUNT', '10');
    expect(all.keys).toEqual([...names].sort());
    expect(all.calls).toBe(3);
  });

  it('MATCH and TYPE filter the keys', () => {
    const ctx = fakeCtx();
    for (const n of ['a1', 'a2', 'b1']) ctx.keyspace.set(n, { type: 'string', value: Buffer.from('v') });
    ctx.keyspace.set('at', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(scanAll(ctx, 'MATCH', 'a*').keys).toEqual(['a1', 'a2', 'at']);
    expect(scanAll(ctx, 'MATCH', 'a*', 'TYPE', 'string').keys).toEqual(['a1', 'a2']);
    expect(scanAll(ctx, 'TYPE', 'ai_tensor').keys).toEqual(['at']);
    expect(scanAll(ctx, 'TYPE', 'AI_TENSOR').keys).toEqual(['at']);
    expect(scanAll(ctx, 'TYPE', 'list').keys).toEqual([]);
    expect(scanAll(ctx, 'MATCH', '*').keys).toEqual(['a1', 'a2', 'at', 'b1']);
  });

  it('keys deleted or added during the iteration do not break it', () => {
    const ctx = fakeCtx();
    for (let i = 0; i < 30; i++) ctx.keyspace.set(`k${i}`, { type: 'string', value: Buffer.from('v') });
    const first = scan.execute(ctx, parse('0', 'COUNT', '5')) as [string, Buffer[]];
    for (let i = 0; i < 30; i += 2) ctx.keyspace.delete(`k${i}`);
    ctx.keyspace.set('new', { type: 'string', value: Buffer.from('v') });
    const seen = new Set(first[1].map((b) => b.toString()));
    let cursor = first[0];
    while (cursor !== '0') {
      const r = scan.execute(ctx, parse(cursor, 'COUNT', '5')) as [string, Buffer[]];
      for (const b of r[1]) seen.add(b.toString());
      cursor = r[0];
    }
    for (let i = 1; i < 30; i += 2) expect(seen.has(`k${i}`)).toBe(true);
  });
});
