import { MemoryKeyspace } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import { persist } from './persist.js';
import type { ExecContext } from './types.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

describe('PERSIST', () => {
  it('parses the key', () => {
    expect(persist.parse(args('k'), pctx)).toBe('k');
  });

  it('0 for a missing key or one without TTL; 1 when it removes a TTL', () => {
    const ctx = fakeCtx();
    const run = (k: string) => persist.execute(ctx, persist.parse(args(k), pctx));
    expect(run('nope')).toBe(0);
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') });
    expect(run('k')).toBe(0);
    ctx.keyspace.setExpiry('k', Date.now() + 60_000);
    expect(run('k')).toBe(1);
    expect(ctx.keyspace.ttl('k')).toBe(-1);
    expect(ctx.keyspace.volatileCount).toBe(0);
    expect(run('k')).toBe(0);
  });
});
