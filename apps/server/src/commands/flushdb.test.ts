import { MemoryKeyspace, RespaiError } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { flushdb } from './flushdb.js';
import type { ExecContext } from './types.js';

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

describe('FLUSHDB', () => {
  it.each([[[]], [['ASYNC']], [['sync']], [['Async']]])('accepts %j', (xs) => {
    expect(() => flushdb.parse(args(...xs), pctx)).not.toThrow();
  });

  it.each([[['FOO']], [['ASYNC', 'SYNC']], [['SYNC', 'SYNC']], [['']]])('syntax error for %j', (xs) => {
    expect(errorOf(() => flushdb.parse(args(...xs), pctx))).toBe('ERR syntax error');
  });

  it('deletes every key, TTLs included', () => {
    const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
    keyspace.set('a', { type: 'string', value: Buffer.from('1') });
    keyspace.set('b', { type: 'string', value: Buffer.from('2') }, { expireAt: Date.now() + 60_000 });
    const ctx: ExecContext = {
      keyspace,
      server: { keyspace, stats: new Stats() } as unknown as ServerState,
      client: { id: 1 } as unknown as Client,
    };
    expect(flushdb.execute(ctx, flushdb.parse([], pctx))).toBe(OK);
    expect(keyspace.size).toBe(0);
    expect(keyspace.volatileCount).toBe(0);
  });
});
