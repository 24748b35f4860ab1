import { MemoryKeyspace } from '@respai/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import { expire, pexpire } from './expire.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0, now: () => Date.now() });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

const NX_CONFLICT = 'ERR NX and XX, GT or LT options at the same time are not compatible';

describe.each([
  ['expire', expire],
  ['pexpire', pexpire],
] as const)('%s parse', (name, cmd) => {
  const parse = (...xs: string[]) => cmd.parse(args(...xs), pctx);

  const NOW = 1_700_000_000_000;
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const unitMs = name === 'expire' ? 1000 : 1;
  /** Runs the command on a key without TTL; replies the reply and the key's expiry after. */
  const apply = (...xs: string[]) => {
    const ctx = fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') });
    const reply = cmd.execute(ctx, parse('k', ...xs));
    return { reply, at: ctx.keyspace.expiryOf('k'), exists: ctx.keyspace.has('k') };
  };

  it('reads key and amount', () => {
    expect(parse('k', '100').key).toBe('k');
    expect(apply('100')).toEqual({ reply: 1, at: NOW + 100 * unitMs, exists: true });
    expect(apply('-5')).toEqual({ reply: 1, at: undefined, exists: false });
    expect(apply('0')).toEqual({ reply: 1, at: undefined, exists: false });
  });

  it.each([
    ['nx', 1],
    ['XX', 0],
    ['Gt', 0],
    ['lT', 1],
  ])('reads option %s case-insensitively', (opt, reply) => {
    expect(apply('10', opt).reply).toBe(reply);
  });

  it('accepts a repeated option', () => {
    expect(apply('10', 'NX', 'nx').reply).toBe(1);
  });

  it('accepts XX with GT or LT (both must hold)', () => {
    expect(apply('10', 'XX', 'GT').reply).toBe(0);
    expect(apply('10', 'lt', 'xx').reply).toBe(0);
    const ctx = fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') }, { expireAt: NOW + 50 * unitMs });
    expect(cmd.execute(ctx, parse('k', '10', 'XX', 'GT'))).toBe(0);
    expect(cmd.execute(ctx, parse('k', '100', 'XX', 'GT'))).toBe(1);
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 100 * unitMs);
    expect(cmd.execute(ctx, parse('k', '20', 'LT', 'XX'))).toBe(1);
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 20 * unitMs);
  });

  it.each(['abc', '1.5', '', ' 1', '01', '9223372036854775808'])('rejects the amount %j', (amount) => {
    expect(errorOf(() => parse('k', amount))).toBe('ERR value is not an integer or out of range');
  });

  it('rejects an unknown option, quoting it as given', () => {
    expect(errorOf(() => parse('k', '10', 'FOO'))).toBe('ERR Unsupported option FOO');
    expect(errorOf(() => parse('k', '10', 'NX', 'bar'))).toBe('ERR Unsupported option bar');
  });

  it.each([
    ['NX', 'XX'],
    ['XX', 'NX'],
    ['NX', 'GT'],
    ['LT', 'NX'],
  ])('rejects %s with %s', (a, b) => {
    expect(errorOf(() => parse('k', '10', a, b))).toBe(NX_CONFLICT);
  });

  it('rejects GT with LT with its own text', () => {
    expect(errorOf(() => parse('k', '10', 'GT', 'LT'))).toBe('ERR GT and LT options at the same time are not compatible');
    expect(errorOf(() => parse('k', '10', 'lt', 'gt'))).toBe('ERR GT and LT options at the same time are not compatible');
  });

  it('checks the options before the amount, as Redis does', () => {
    expect(errorOf(() => parse('k', 'abc', 'FOO'))).toBe('ERR Unsupported option FOO');
    expect(errorOf(() => parse('k', '10', 'NX', 'XX', 'FOO'))).toBe('ERR Unsupported option FOO');
    expect(errorOf(() => parse('k', 'abc', 'NX', 'XX'))).toBe(NX_CONFLICT);
  });

  it('an int64 amount that overflows in ms is an invalid expire time, even for a missing key', () => {
    const overflowing =
      name === 'expire'
        ? ['9223372036854775807', '9223372036854776', '-9223372036854776', '-9223372036854775808']
        : ['9223372036854775807'];
    for (const amount of overflowing) {
      expect(errorOf(() => cmd.execute(fakeCtx(), parse('missing', amount)))).toBe(
        `ERR invalid expire time in '${name}' command`,
      );
    }
  });

  it('a huge negative amount that does not overflow just deletes (0 for a missing key)', () => {
    const amount = name === 'expire' ? '-9223372036854775' : '-9223372036854775808';
    expect(cmd.execute(fakeCtx(), parse('missing', amount))).toBe(0);
    expect(apply(amount)).toEqual({ reply: 1, at: undefined, exists: false });
  });
});

describe('EXPIRE / PEXPIRE execute', () => {
  const NOW = 1_700_000_000_000;
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const withKey = (ttlMs?: number) => {
    const ctx = fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') }, ttlMs === undefined ? {} : { expireAt: NOW + ttlMs });
    return ctx;
  };
  const ex = (ctx: ExecContext, ...xs: string[]) => expire.execute(ctx, expire.parse(args('k', ...xs), pctx));
  const pex = (ctx: ExecContext, ...xs: string[]) => pexpire.execute(ctx, pexpire.parse(args('k', ...xs), pctx));

  it('replies 0 for a missing key', () => {
    expect(ex(fakeCtx(), '100')).toBe(0);
  });

  it('sets the TTL in seconds or milliseconds', () => {
    const ctx = withKey();
    expect(ex(ctx, '100')).toBe(1);
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 100_000);
    expect(pex(ctx, '1500')).toBe(1);
    expect(ctx.keyspace.expiryOf('k')).toBe(NOW + 1500);
  });

  it('a non-positive amount deletes the key', () => {
    const ctx = withKey();
    expect(ex(ctx, '0')).toBe(1);
    expect(ctx.keyspace.has('k')).toBe(false);
    const ctx2 = withKey();
    expect(pex(ctx2, '-1')).toBe(1);
    expect(ctx2.keyspace.has('k')).toBe(false);
  });

  it('NX sets only without a TTL, XX only with one', () => {
    const ctx = withKey();
    expect(ex(ctx, '100', 'XX')).toBe(0);
    expect(ctx.keyspace.ttl('k')).toBe(-1);
    expect(ex(ctx, '100', 'NX')).toBe(1);
    expect(ex(ctx, '200', 'NX')).toBe(0);
    expect(ex(ctx, '200', 'XX')).toBe(1);
    expect(ctx.keyspace.ttl('k')).toBe(200_000);
  });

  it('GT / LT compare with the current TTL; no TTL counts as infinite', () => {
    const ctx = withKey();
    expect(ex(ctx, '100', 'GT')).toBe(0);
    expect(ex(ctx, '100', 'LT')).toBe(1);
    expect(ex(ctx, '50', 'GT')).toBe(0);
    expect(ex(ctx, '100', 'GT')).toBe(0);
    expect(ex(ctx, '150', 'GT')).toBe(1);
    expect(ex(ctx, '200', 'LT')).toBe(0);
    expect(ex(ctx, '150', 'LT')).toBe(0);
    expect(ex(ctx, '10', 'LT')).toBe(1);
    expect(ctx.keyspace.ttl('k')).toBe(10_000);
  });
});
