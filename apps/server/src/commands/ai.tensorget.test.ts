import { MemoryKeyspace, tensorFromArgs } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { DoubleReply } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { aiTensorget } from './ai.tensorget.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

/** A keyspace with `k` = the tensor from these AI.TENSORSET arguments (after the key). */
function ctxWith(...tensorArgs: (string | Buffer)[]): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  if (tensorArgs.length > 0) {
    keyspace.set('k', { type: 'tensor', value: tensorFromArgs(args(...tensorArgs), { maxBytes: 1 << 30 }) });
  }
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

/** AI.TENSORGET <key> <xs...>, parse and execute together (the original looks the key up first). */
const get = (ctx: ExecContext, key: string, ...xs: string[]) =>
  aiTensorget.execute(ctx, aiTensorget.parse(args(key, ...xs), pctx));

const FLOAT22 = ['FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4'];
const FLOAT22_BLOB = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
const doubles = (...xs: number[]) => xs.map((x) => new DoubleReply(x));

describe('AI.TENSORGET', () => {
  it('no format: META + BLOB', () => {
    expect(get(ctxWith(...FLOAT22), 'k')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'blob', FLOAT22_BLOB]);
  });

  it('META alone', () => {
    expect(get(ctxWith(...FLOAT22), 'k', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2]]);
  });

  it('META BLOB, any case and order', () => {
    const want = ['dtype', 'FLOAT', 'shape', [2, 2], 'blob', FLOAT22_BLOB];
    expect(get(ctxWith(...FLOAT22), 'k', 'META', 'BLOB')).toEqual(want);
    expect(get(ctxWith(...FLOAT22), 'k', 'blob', 'meta')).toEqual(want);
  });

  it('META VALUES: floats as DoubleReply', () => {
    expect(get(ctxWith(...FLOAT22), 'k', 'Meta', 'Values')).toEqual([
      'dtype',
      'FLOAT',
      'shape',
      [2, 2],
      'values',
      doubles(1, 2, 3, 4),
    ]);
  });

  it('BLOB alone: one bulk string', () => {
    expect(get(ctxWith(...FLOAT22), 'k', 'BLOB')).toEqual(FLOAT22_BLOB);
  });

  it('VALUES alone: an array', () => {
    expect(get(ctxWith(...FLOAT22), 'k', 'values')).toEqual(doubles(1, 2, 3, 4));
  });

  it('float32 values are widened exactly, DOUBLE kept', () => {
    expect(get(ctxWith('FLOAT', '1', 'VALUES', '0.1'), 'k', 'VALUES')).toEqual(doubles(Math.fround(0.1)));
    expect(get(ctxWith('DOUBLE', '2', 'VALUES', '0.1', '-2.5'), 'k', 'VALUES')).toEqual(doubles(0.1, -2.5));
  });

  it('integer dtypes as integers (INT64 as bigint), BOOL as 0/1, STRING as bulk strings', () => {
    expect(get(ctxWith('INT8', '3', 'VALUES', '-1', '0', '127'), 'k', 'VALUES')).toEqual([-1, 0, 127]);
    expect(get(ctxWith('UINT16', '1', 'VALUES', '65535'), 'k', 'VALUES')).toEqual([65535]);
    expect(get(ctxWith('INT64', '2', 'VALUES', '-9223372036854775808', '5'), 'k', 'VALUES')).toEqual([
      -9223372036854775808n,
      5n,
    ]);
    expect(get(ctxWith('BOOL', '2', 'VALUES', '1', '0'), 'k', 'VALUES')).toEqual([1, 0]);
    expect(get(ctxWith('STRING', '2', 'VALUES', 'ab', 'c'), 'k', 'META', 'VALUES')).toEqual([
      'dtype',
      'STRING',
      'shape',
      [2],
      'values',
      [Buffer.from('ab'), Buffer.from('c')],
    ]);
  });

  it('a scalar has an empty shape', () => {
    expect(get(ctxWith('INT32', 'VALUES', '9'), 'k', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [], 'values', [9]]);
  });

  it('repeated keywords are allowed', () => {
    expect(get(ctxWith(...FLOAT22), 'k', 'BLOB', 'BLOB')).toEqual(FLOAT22_BLOB);
    expect(get(ctxWith(...FLOAT22), 'k', 'META', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2]]);
  });

  it('a missing key: tensor key is empty (before any format error)', () => {
    const ctx = ctxWith();
    expect(errorOf(() => get(ctx, 'k'))).toBe('ERR tensor key is empty or in a different shard');
    expect(errorOf(() => get(ctx, 'k', 'NOPE'))).toBe('ERR tensor key is empty or in a different shard');
    expect(errorOf(() => get(ctx, 'k', 'BLOB', 'VALUES'))).toBe('ERR tensor key is empty or in a different shard');
  });

  it('a string key: WRONGTYPE', () => {
    const ctx = ctxWith();
    ctx.keyspace.set('s', { type: 'string', value: Buffer.from('v') });
    expect(errorOf(() => get(ctx, 's', 'META'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });

  it('an unknown format word', () => {
    expect(errorOf(() => get(ctxWith(...FLOAT22), 'k', 'NOPE'))).toBe('ERR unsupported data format');
    expect(errorOf(() => get(ctxWith(...FLOAT22), 'k', 'META', 'JSON'))).toBe('ERR unsupported data format');
  });

  it('BLOB with VALUES', () => {
    expect(errorOf(() => get(ctxWith(...FLOAT22), 'k', 'BLOB', 'VALUES'))).toBe('ERR both BLOB and VALUES specified');
    expect(errorOf(() => get(ctxWith(...FLOAT22), 'k', 'values', 'blob'))).toBe('ERR both BLOB and VALUES specified');
  });

  it('more than META and one format: the arity text, in lower case', () => {
    expect(errorOf(() => aiTensorget.parse(args('k', 'META', 'BLOB', 'META'), pctx))).toBe(
      "ERR wrong number of arguments for 'ai.tensorget' command",
    );
  });
});
