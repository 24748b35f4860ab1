import { MemoryKeyspace, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import type { ExecContext } from './types.js';
import { mget } from './mget.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}
const setStr = (ctx: ExecContext, k: string, v: string) => ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });

describe('MGET', () => {
  it('parses every key, repeats included', () => {
    expect(mget.parse(args('a', 'b', 'a'), pctx)).toEqual(['a', 'b', 'a']);
  });

  it('replies values in order, nil for missing and non-string keys (no WRONGTYPE)', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    setStr(ctx, 'b', '2');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(mget.execute(ctx, mget.parse(args('a', 'missing', 't', 'b', 'a'), pctx))).toEqual([
      Buffer.from('1'),
      null,
      null,
      Buffer.from('2'),
      Buffer.from('1'),
    ]);
  });
});
