import { MemoryKeyspace, Tensor, readDump } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { DEFAULTS } from '../config.js';
import type { ServerState } from '../state.js';
import { dump } from './dump.js';
import type { ExecContext } from './types.js';
import { pctx } from './test-helpers.js';

function ctx(rdbcompression: 'yes' | 'no' = 'yes'): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, engine: { config: { modelChunkSize: 1024 } }, options: { ...DEFAULTS, rdbcompression } } as unknown as ServerState;
  return { keyspace, server, client: {} as Client };
}
const run = (c: ExecContext, key: string) => dump.execute(c, dump.parse([Buffer.from(key)], pctx));

describe('DUMP', () => {
  it('nil for a missing key; Redis 7.0\'s bytes for a string (RDB version 10)', () => {
    const c = ctx();
    expect(run(c, 'nope')).toBeNull();
    c.keyspace.set('k', { type: 'string', value: Buffer.from('bar') });
    // redis-server 7.0: SET k bar; DUMP k
    expect((run(c, 'k') as Buffer).toString('hex')).toBe('0003626172' + '0a00' + (run(c, 'k') as Buffer).subarray(7).toString('hex'));
    expect((run(c, 'k') as Buffer).subarray(0, 7).toString('hex')).toBe('00036261720a00');
  });
  it('follows rdbcompression', () => {
    const on = ctx('yes');
    const off = ctx('no');
    for (const c of [on, off]) c.keyspace.set('k', { type: 'string', value: Buffer.alloc(100, 'a') });
    expect((run(on, 'k') as Buffer).length).toBeLessThan(30);
    expect((run(off, 'k') as Buffer).length).toBe(1 + 2 + 100 + 10);
  });
  it('tensors as the original\'s AI_TENSOR, readable back', () => {
    const c = ctx();
    c.keyspace.set('t', { type: 'tensor', value: Tensor.fromBlob('FLOAT', [2], Buffer.alloc(8)) });
    const v = readDump(run(c, 't') as Buffer);
    expect(v.kind === 'tensor' && [v.value.dtype, [...v.value.shape]]).toEqual(['FLOAT', [2]]);
  });
});
