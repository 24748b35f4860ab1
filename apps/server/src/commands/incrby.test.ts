import { MemoryKeyspace, RespaiError } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import { decr } from './decr.js';
import { decrby } from './decrby.js';
import { incrby } from './incrby.js';
import type { ExecContext } from './types.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

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

const str = (ctx: ExecContext, k: string) => ctx.keyspace.getTyped(k, 'string')?.toString();

// INCRBY, DECR and DECRBY share INCR's arithmetic (incr.test.ts covers parsing of stored values).
describe('INCRBY / DECR / DECRBY', () => {
  it('add and subtract int64 deltas, a missing key starting at 0', () => {
    const ctx = fakeCtx();
    expect(incrby.execute(ctx, incrby.parse(args('c', '10'), pctx))).toBe(10n);
    expect(incrby.execute(ctx, incrby.parse(args('c', '-3'), pctx))).toBe(7n);
    expect(decr.execute(ctx, decr.parse(args('c'), pctx))).toBe(6n);
    expect(decrby.execute(ctx, decrby.parse(args('c', '10'), pctx))).toBe(-4n);
    expect(str(ctx, 'c')).toBe('-4');
  });

  it('a delta that is not an int64: ERR value is not an integer or out of range', () => {
    for (const d of ['x', '1.5', '9223372036854775808', '']) {
      expect(errorOf(() => incrby.parse(args('c', d), pctx))).toBe('ERR value is not an integer or out of range');
      expect(errorOf(() => decrby.parse(args('c', d), pctx))).toBe('ERR value is not an integer or out of range');
    }
  });

  it('overflow either way leaves the value unchanged', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('m', { type: 'string', value: Buffer.from('9223372036854775800') });
    expect(errorOf(() => incrby.execute(ctx, incrby.parse(args('m', '8'), pctx)))).toBe('ERR increment or decrement would overflow');
    ctx.keyspace.set('n', { type: 'string', value: Buffer.from('-9223372036854775808') });
    expect(errorOf(() => decr.execute(ctx, decr.parse(args('n'), pctx)))).toBe('ERR increment or decrement would overflow');
    expect(errorOf(() => decrby.parse(args('n', '-9223372036854775808'), pctx))).toBe('ERR decrement would overflow');
    expect(str(ctx, 'm')).toBe('9223372036854775800');
    expect(str(ctx, 'n')).toBe('-9223372036854775808');
  });
});
