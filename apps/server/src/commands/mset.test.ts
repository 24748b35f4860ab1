import { MemoryKeyspace, RespaiError, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import type { ExecContext } from './types.js';
import { OK } from '../resp/reply.js';
import { mset } from './mset.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

/** The exact text of the RespaiError `fn` throws (anything else is rethrown). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (RespaiError.isInstance(e)) return e.message;
    throw e;
  }
  throw new Error('expected a RespaiError, nothing was thrown');
}

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}
const setStr = (ctx: ExecContext, k: string, v: string) => ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });

describe('MSET', () => {
  it('parses key/value pairs', () => {
    expect(mset.parse(args('a', '1', 'b', '2'), pctx)).toEqual([
      ['a', Buffer.from('1')],
      ['b', Buffer.from('2')],
    ]);
  });

  it.each([[['a', '1', 'b']], [['a']], [['a', '1', 'b', '2', 'c']]])('rejects the odd count %j with the arity text', (xs) => {
    expect(errorOf(() => mset.parse(args(...xs), pctx))).toBe("ERR wrong number of arguments for 'mset' command");
  });

  it('sets every pair (last one wins for a repeated key), clears TTLs, overwrites any type', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('a', { type: 'string', value: Buffer.from('old') }, { expireAt: Date.now() + 60_000 });
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(mset.execute(ctx, mset.parse(args('a', '1', 't', '2', 'a', '3'), pctx))).toBe(OK);
    expect(ctx.keyspace.getTyped('a', 'string')?.toString()).toBe('3');
    expect(ctx.keyspace.ttl('a')).toBe(-1);
    expect(ctx.keyspace.getTyped('t', 'string')?.toString()).toBe('2');
  });

  it('stores copies of the values', () => {
    const ctx = fakeCtx();
    const v = Buffer.from('abc');
    mset.execute(ctx, mset.parse([Buffer.from('k'), v], pctx));
    v.fill(0);
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('abc');
  });
});
