import { MemoryKeyspace, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import type { ExecContext } from './types.js';
import { del } from './del.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}
const setStr = (ctx: ExecContext, k: string, v: string) => ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });

describe('DEL', () => {
  it('parses every key binary-safely', () => {
    expect(del.parse(args('a', 'b', 'a'), pctx)).toEqual(['a', 'b', 'a']);
    expect(del.parse([Buffer.from([0xff, 0])], pctx)).toEqual(['\u00ff\u0000']);
  });

  it('deletes keys of any type and counts those that existed (a repeat only once)', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    setStr(ctx, 'b', '2');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(del.execute(ctx, del.parse(args('a', 'a', 'missing', 't'), pctx))).toBe(2);
    expect(ctx.keyspace.has('a')).toBe(false);
    expect(ctx.keyspace.has('t')).toBe(false);
    expect(ctx.keyspace.has('b')).toBe(true);
    expect(del.execute(ctx, del.parse(args('a'), pctx))).toBe(0);
  });
});
