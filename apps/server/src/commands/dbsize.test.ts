import { MemoryKeyspace } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import type { ExecContext } from './types.js';
import { dbsize } from './dbsize.js';

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}
const setStr = (ctx: ExecContext, k: string, v: string) => ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });

describe('DBSIZE', () => {
  it('takes no arguments and replies the number of live keys', () => {
    const ctx = fakeCtx();
    expect(dbsize.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    expect(dbsize.execute(ctx, undefined)).toBe(0);
    setStr(ctx, 'a', '1');
    setStr(ctx, 'b', '1');
    expect(dbsize.execute(ctx, undefined)).toBe(2);
  });
});
