import { MemoryKeyspace, RespaiError, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import { get } from './get.js';
import type { ExecContext } from './types.js';

const args = (...xs: (string | Buffer)[]): Buffer[] =>
  xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x));
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

describe('GET', () => {
  it('parses the key binary-safely', () => {
    expect(get.parse(args('k'), pctx)).toBe('k');
    expect(Buffer.from(get.parse(args(Buffer.from([0, 0xff, 0x0d, 0x0a])), pctx), 'latin1')).toEqual(
      Buffer.from([0, 0xff, 0x0d, 0x0a]),
    );
  });

  it('replies the value, or nil, and counts hits and misses', () => {
    const ctx = fakeCtx();
    const run = (k: string) => get.execute(ctx, get.parse(args(k), pctx));
    expect(run('k')).toBeNull();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('hello') });
    expect(run('k')).toEqual(Buffer.from('hello'));
    expect(ctx.server.stats.keyspaceHits).toBe(1);
    expect(ctx.server.stats.keyspaceMisses).toBe(1);
  });

  it('WRONGTYPE against a tensor', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('INT8', [1]) });
    expect(errorOf(() => get.execute(ctx, 't'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });
});
