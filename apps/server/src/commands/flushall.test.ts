import { MemoryKeyspace } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { flushall } from './flushall.js';
import { flushdb } from './flushdb.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

// FLUSHDB is FLUSHALL under another name (one database).
describe.each([flushall, flushdb])('$name', (command) => {
  it.each([[[]], [['ASYNC']], [['sync']], [['Async']]])('accepts %j', (xs) => {
    expect(() => command.parse(args(...xs), pctx)).not.toThrow();
  });

  it.each([[['FOO']], [['ASYNC', 'SYNC']], [['SYNC', 'SYNC']], [['']]])('syntax error for %j', (xs) => {
    expect(errorOf(() => command.parse(args(...xs), pctx))).toBe('ERR syntax error');
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
    expect(command.execute(ctx, command.parse([], pctx))).toBe(OK);
    expect(keyspace.size).toBe(0);
    expect(keyspace.volatileCount).toBe(0);
  });
});
