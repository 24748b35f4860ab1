import { MemoryKeyspace } from '@respai/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import { pttl, ttl } from './ttl.js';
import type { ExecContext } from './types.js';
import { args, pctx } from './test-helpers.js';

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0, now: () => Date.now() });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

describe('TTL / PTTL parse', () => {
  it('takes the key as is (binary-safe)', () => {
    expect(ttl.parse(args('k'), pctx)).toBe('k');
    expect(pttl.parse(args(Buffer.from([0xc3, 0x00])), pctx)).toBe('\u00c3\u0000');
  });
});

describe('TTL / PTTL execute', () => {
  const NOW = 1_700_000_000_000;
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const T = (ctx: ExecContext, k: string) => ttl.execute(ctx, ttl.parse(args(k), pctx));
  const PT = (ctx: ExecContext, k: string) => pttl.execute(ctx, pttl.parse(args(k), pctx));

  it('-2 for a missing key, -1 for a key without TTL', () => {
    const ctx = fakeCtx();
    expect(T(ctx, 'nope')).toBe(-2);
    expect(PT(ctx, 'nope')).toBe(-2);
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') });
    expect(T(ctx, 'k')).toBe(-1);
    expect(PT(ctx, 'k')).toBe(-1);
  });

  it('remaining time, TTL rounded to the nearest second like Redis', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') }, { expireAt: NOW + 10_000 });
    expect(T(ctx, 'k')).toBe(10);
    expect(PT(ctx, 'k')).toBe(10_000);
    vi.advanceTimersByTime(499);
    expect(T(ctx, 'k')).toBe(10); // 9501 ms
    vi.advanceTimersByTime(1);
    expect(T(ctx, 'k')).toBe(10); // 9500 ms: (9500 + 500) / 1000
    vi.advanceTimersByTime(1);
    expect(T(ctx, 'k')).toBe(9); // 9499 ms
    expect(PT(ctx, 'k')).toBe(9499);
  });

  it('-2 once the key has expired', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') }, { expireAt: NOW + 1000 });
    vi.advanceTimersByTime(1000);
    expect(T(ctx, 'k')).toBe(-2);
    expect(PT(ctx, 'k')).toBe(-2);
  });
});
