import { MemoryKeyspace, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import type { ExecContext } from './types.js';
import { SimpleString } from '../resp/reply.js';
import { type } from './type.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}
const setStr = (ctx: ExecContext, k: string, v: string) => ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });

describe('TYPE', () => {
  it('parses the key', () => {
    expect(type.parse(args('k'), pctx)).toBe('k');
  });

  it('replies a simple string: none, string, AI_TENSOR', () => {
    const ctx = fakeCtx();
    setStr(ctx, 's', 'v');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(type.execute(ctx, 'missing')).toEqual(new SimpleString('none'));
    expect(type.execute(ctx, 's')).toEqual(new SimpleString('string'));
    expect(type.execute(ctx, 't')).toEqual(new SimpleString('AI_TENSOR'));
  });
});
