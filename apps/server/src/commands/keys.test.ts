import { MemoryKeyspace } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import { keys } from './keys.js';
import type { ExecContext } from './types.js';
import { args, pctx } from './test-helpers.js';

function fakeCtx(...names: string[]): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  for (const n of names) keyspace.set(n, { type: 'string', value: Buffer.from('v') });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

const run = (ctx: ExecContext, pattern: string) =>
  (keys.execute(ctx, keys.parse(args(pattern), pctx)) as Buffer[]).map((b) => b.toString('latin1')).sort();

describe('KEYS', () => {
  it('parses the pattern as latin1 (one char per byte)', () => {
    expect(keys.parse([Buffer.from([0x2a, 0xff])], pctx)).toBe('*\u00ff');
  });

  it('* lists every key', () => {
    expect(run(fakeCtx('a', 'b', 'c'), '*')).toEqual(['a', 'b', 'c']);
    expect(run(fakeCtx(), '*')).toEqual([]);
  });

  it('filters with a glob pattern', () => {
    const ctx = fakeCtx('user:1', 'user:2', 'user:10', 'session:1', 'User:3');
    expect(run(ctx, 'user:*')).toEqual(['user:1', 'user:10', 'user:2']);
    expect(run(ctx, 'user:?')).toEqual(['user:1', 'user:2']);
    expect(run(ctx, '[uU]ser:[0-9]')).toEqual(['User:3', 'user:1', 'user:2']);
    expect(run(ctx, '*:1*')).toEqual(['session:1', 'user:1', 'user:10']);
    expect(run(ctx, 'nothing')).toEqual([]);
  });

  it('matches binary keys byte for byte and skips expired keys', () => {
    const ctx = fakeCtx('\u00ff\u0000x');
    ctx.keyspace.set('gone', { type: 'string', value: Buffer.from('v') }, { expireAt: Date.now() - 1 });
    const out = keys.execute(ctx, keys.parse([Buffer.from([0xff, 0x3f, 0x2a])], pctx)) as Buffer[];
    expect(out).toEqual([Buffer.from([0xff, 0x00, 0x78])]);
    expect(run(ctx, 'g*')).toEqual([]);
  });
});
