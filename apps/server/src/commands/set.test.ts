import { MemoryKeyspace, Tensor } from '@respai/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { set } from './set.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const parse = (...xs: (string | Buffer)[]) => set.parse(args(...xs), pctx);

const NOW = 1_700_000_000_000;

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0, now: () => Date.now() });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

describe('SET parse', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads a bare key and value', () => {
    const r = parse('k', 'v');
    expect(r.key).toBe('k');
    expect(r.value).toEqual(Buffer.from('v'));
    expect(r.cond).toBeUndefined();
    expect(r.get).toBe(false);
    expect(r.expire).toBeUndefined();
  });

  it('keeps binary keys and values byte for byte', () => {
    const key = Buffer.from([0xff, 0x00, 0x80]);
    const value = Buffer.from([0, 1, 2, 255]);
    const r = parse(key, value);
    expect(Buffer.from(r.key, 'latin1')).toEqual(key);
    expect(r.value).toEqual(value);
  });

  it.each([
    [['NX'], { cond: 'NX' }],
    [['nx'], { cond: 'NX' }],
    [['Xx'], { cond: 'XX' }],
    [['get'], { get: true }],
    [['KeepTTL'], { expire: 'KEEPTTL' }],
  ])('reads option %j case-insensitively', (opts, want) => {
    expect(parse('k', 'v', ...opts)).toMatchObject(want);
  });

  it.each([
    [['ex', '10'], NOW + 10_000],
    [['Px', '1500'], NOW + 1500],
    [['exat', '1800000000'], 1_800_000_000_000],
    [['pxAT', '1800000000123'], 1_800_000_000_123],
  ])('reads expiry %j case-insensitively', (opts, at) => {
    const ctx = fakeCtx();
    expect(set.execute(ctx, parse('k', 'v', ...opts))).toBe(OK);
    expect(ctx.keyspace.expiryOf('k')).toBe(at);
  });

  it('combines options in any order', () => {
    const ctx = fakeCtx();
    const a = parse('k', 'v', 'EX', '10', 'NX', 'GET');
    expect(a).toMatchObject({ cond: 'NX', get: true });
    expect(set.execute(ctx, a)).toBeNull();
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 10_000);
    const b = parse('k', 'v2', 'get', 'xx', 'px', '100');
    expect(b).toMatchObject({ cond: 'XX', get: true });
    expect(set.execute(ctx, b)).toEqual(Buffer.from('v'));
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 100);
    expect(parse('k', 'v', 'KEEPTTL', 'XX')).toMatchObject({ cond: 'XX', expire: 'KEEPTTL' });
  });

  it.each([
    [['FOO']],
    [['NX', 'XX']],
    [['XX', 'NX']],
    [['EX', '10', 'PX', '10']],
    [['PX', '10', 'EXAT', '10']],
    [['EX', '10', 'KEEPTTL']],
    [['KEEPTTL', 'EX', '10']],
    [['EX']],
    [['NX', 'PX']],
    [['EX', '10', 'FOO']],
    [['EXX', '10']],
  ])('rejects %j with a syntax error', (opts) => {
    expect(errorOf(() => parse('k', 'v', ...opts))).toBe('ERR syntax error');
  });

  it.each([
    [['EX', 'abc']],
    [['EX', '1.5']],
    [['PX', ' 10']],
    [['EX', '+10']],
    [['EX', '010']],
    [['EX', '9223372036854775808']],
  ])('rejects a non-integer expire %j', (opts) => {
    expect(errorOf(() => parse('k', 'v', ...opts))).toBe('ERR value is not an integer or out of range');
  });

  it.each([
    [['EX', '0']],
    [['EX', '-1']],
    [['PX', '0']],
    [['EXAT', '0']],
    [['PXAT', '-5']],
  ])('rejects a non-positive expire %j', (opts) => {
    expect(errorOf(() => parse('k', 'v', ...opts))).toBe("ERR invalid expire time in 'set' command");
  });

  // Redis 7 lets NX, XX, GET, KEEPTTL and EX/PX/EXAT/PXAT repeat (the last amount wins); only
  // conflicting options are a syntax error.
  it('accepts repeated options like Redis', () => {
    const ctx = fakeCtx();
    expect(set.execute(ctx, parse('k', 'v1', 'NX', 'NX'))).toBe(OK);
    expect(set.execute(ctx, parse('k', 'v2', 'XX', 'xx'))).toBe(OK);
    expect(set.execute(ctx, parse('k', 'v3', 'GET', 'GET'))).toEqual(Buffer.from('v2'));
    expect(set.execute(ctx, parse('k', 'v4', 'EX', '10', 'EX', '20'))).toBe(OK);
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 20_000);
    expect(set.execute(ctx, parse('k', 'v5', 'KEEPTTL', 'KEEPTTL'))).toBe(OK);
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 20_000);
  });

  // Redis parses every option before looking at the expire amount, so a later bad option
  // wins: `SET k v EX abc FOO` and `SET k v EX 0 FOO` are `ERR syntax error`.
  it('reports a syntax error after a bad amount like Redis', () => {
    expect(errorOf(() => parse('k', 'v', 'EX', 'abc', 'FOO'))).toBe('ERR syntax error');
    expect(errorOf(() => parse('k', 'v', 'EX', '0', 'FOO'))).toBe('ERR syntax error');
  });

  it('an int64 amount that overflows in milliseconds is an invalid expire time', () => {
    for (const opts of [
      ['EX', '9223372036854775807'],
      ['EX', '10000000000000000'],
      ['PX', '9223372036854775807'],
      ['EXAT', '9223372036854775807'],
    ]) {
      expect(errorOf(() => set.execute(fakeCtx(), parse('k', 'v', ...opts)))).toBe(
        "ERR invalid expire time in 'set' command",
      );
    }
  });

  it('PXAT up to INT64_MAX is accepted (a key that never expires in practice)', () => {
    const ctx = fakeCtx();
    expect(set.execute(ctx, parse('k', 'v', 'PXAT', '9223372036854775807'))).toBe(OK);
    expect(ctx.keyspace.has('k')).toBe(true);
  });
});

describe('SET execute', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const run = (ctx: ExecContext, ...xs: string[]) => set.execute(ctx, parse(...xs));

  it('stores the value and replies OK', () => {
    const ctx = fakeCtx();
    expect(run(ctx, 'k', 'v')).toBe(OK);
    expect(ctx.keyspace.getTyped('k', 'string')).toEqual(Buffer.from('v'));
    expect(ctx.keyspace.ttl('k')).toBe(-1);
  });

  it('keeps a private copy of the value', () => {
    const ctx = fakeCtx();
    const value = Buffer.from('abc');
    set.execute(ctx, set.parse([Buffer.from('k'), value], pctx));
    value[0] = 0x7a;
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('abc');
  });

  it('NX sets only a missing key, XX only an existing one', () => {
    const ctx = fakeCtx();
    expect(run(ctx, 'k', 'v1', 'XX')).toBeNull();
    expect(ctx.keyspace.has('k')).toBe(false);
    expect(run(ctx, 'k', 'v1', 'NX')).toBe(OK);
    expect(run(ctx, 'k', 'v2', 'NX')).toBeNull();
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('v1');
    expect(run(ctx, 'k', 'v3', 'XX')).toBe(OK);
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('v3');
  });

  it('GET replies the old value (nil when missing), also when NX refuses', () => {
    const ctx = fakeCtx();
    expect(run(ctx, 'k', 'v1', 'GET')).toBeNull();
    expect(run(ctx, 'k', 'v2', 'GET')).toEqual(Buffer.from('v1'));
    expect(run(ctx, 'k', 'v3', 'NX', 'GET')).toEqual(Buffer.from('v2'));
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('v2');
    expect(run(ctx, 'missing', 'x', 'XX', 'GET')).toBeNull();
    expect(ctx.keyspace.has('missing')).toBe(false);
  });

  it('GET against a non-string is WRONGTYPE and leaves the key alone', () => {
    const ctx = fakeCtx();
    const t = Tensor.zeros('FLOAT', [2]);
    ctx.keyspace.set('t', { type: 'tensor', value: t });
    expect(errorOf(() => run(ctx, 't', 'v', 'GET'))).toBe(
      'WRONGTYPE Operation against a key holding the wrong kind of value',
    );
    expect(ctx.keyspace.get('t')?.type).toBe('tensor');
    // Without GET a SET overwrites any type.
    expect(run(ctx, 't', 'v')).toBe(OK);
    expect(ctx.keyspace.get('t')?.type).toBe('string');
  });

  it('a plain SET clears the TTL, KEEPTTL keeps it', () => {
    const ctx = fakeCtx();
    run(ctx, 'k', 'v', 'EX', '100');
    run(ctx, 'k', 'v2', 'KEEPTTL');
    expect(ctx.keyspace.ttl('k')).toBe(100_000);
    run(ctx, 'k', 'v3');
    expect(ctx.keyspace.ttl('k')).toBe(-1);
  });

  it('an absolute expiry in the past leaves no key', () => {
    const ctx = fakeCtx();
    expect(run(ctx, 'k', 'v', 'PXAT', '1')).toBe(OK);
    expect(ctx.keyspace.has('k')).toBe(false);
  });

  it('a key expires after its TTL', () => {
    const ctx = fakeCtx();
    run(ctx, 'k', 'v', 'PX', '100');
    vi.advanceTimersByTime(99);
    expect(ctx.keyspace.has('k')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(ctx.keyspace.has('k')).toBe(false);
  });
});
