import { type Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { OK } from '../resp/reply.js';
import { aiTensorset } from './ai.tensorset.js';
import type { ExecContext } from './types.js';
import { args, errorOf, fakeCtx, pctx } from './test-helpers.js';

/**
 * AI.TENSORSET k <xs...> on `ctx`, parse and execute together: whether an argument error is
 * thrown by parse or deferred to execute (the original checks the key's type first) is the
 * command's business; the client sees one reply.
 */
function run(ctx: ExecContext, xs: (string | Buffer)[], p = pctx) {
  return aiTensorset.execute(ctx, aiTensorset.parse(args('k', ...xs), p));
}
const stored = (ctx: ExecContext): Tensor => ctx.keyspace.getTyped('k', 'tensor')!;
const errorText = (xs: (string | Buffer)[], p = pctx) => errorOf(() => run(fakeCtx(), xs, p));

describe('AI.TENSORSET', () => {
  it('stores VALUES, dtype upper-cased, and replies OK', () => {
    const ctx = fakeCtx();
    expect(run(ctx, ['float', '2', '2', 'values', '1', '2', '3', '4.5'])).toBe(OK);
    const t = stored(ctx);
    expect(t.dtype).toBe('FLOAT');
    expect(t.shape).toEqual([2, 2]);
    expect(t.values()).toEqual([1, 2, 3, 4.5]);
  });

  it('stores a BLOB byte for byte', () => {
    const ctx = fakeCtx();
    const blob = Buffer.from(new Int16Array([1, -2, 3]).buffer);
    expect(run(ctx, ['Int16', '3', 'Blob', blob])).toBe(OK);
    expect(stored(ctx).data).toEqual(blob);
    expect(stored(ctx).values()).toEqual([1, -2, 3]);
  });

  it('without BLOB or VALUES stores zeros', () => {
    const ctx = fakeCtx();
    run(ctx, ['DOUBLE', '1', '3']);
    expect(stored(ctx).shape).toEqual([1, 3]);
    expect(stored(ctx).values()).toEqual([0, 0, 0]);
  });

  it('a keyword right after the type makes a scalar', () => {
    const ctx = fakeCtx();
    run(ctx, ['FLOAT', 'VALUES', '7']);
    expect(stored(ctx).shape).toEqual([]);
    expect(stored(ctx).values()).toEqual([7]);
  });

  it.each([
    ['INT8', ['-128', '127'], [-128, 127]],
    ['UINT8', ['0', '255'], [0, 255]],
    ['INT64', ['-9223372036854775808', '9223372036854775807'], [-9223372036854775808n, 9223372036854775807n]],
    ['BOOL', ['0', '1'], [0, 1]],
  ])('%s VALUES at the ends of the range', (dtype, vals, want) => {
    const ctx = fakeCtx();
    run(ctx, [dtype, '2', 'VALUES', ...vals]);
    expect(stored(ctx).values()).toEqual(want);
  });

  it('STRING VALUES and BLOB', () => {
    const ctx = fakeCtx();
    run(ctx, ['STRING', '2', 'VALUES', 'ab', '']);
    expect(stored(ctx).values()).toEqual([Buffer.from('ab'), Buffer.alloc(0)]);
    run(ctx, ['string', '2', 'BLOB', Buffer.from('x\0yz\0')]);
    expect(stored(ctx).values()).toEqual([Buffer.from('x'), Buffer.from('yz')]);
  });

  it('overwrites a tensor and keeps no TTL', () => {
    const ctx = fakeCtx();
    run(ctx, ['FLOAT', '1']);
    ctx.keyspace.setExpiry('k', Date.now() + 60_000);
    run(ctx, ['INT32', '2', 'VALUES', '5', '6']);
    expect(stored(ctx).dtype).toBe('INT32');
    expect(ctx.keyspace.ttl('k')).toBe(-1);
  });

  it('a key holding a string is WRONGTYPE, even when the arguments are bad too', () => {
    const ctx = fakeCtx();
    ctx.keyspace.set('k', { type: 'string', value: Buffer.from('v') });
    const wrongType = 'WRONGTYPE Operation against a key holding the wrong kind of value';
    expect(errorOf(() => run(ctx, ['FLOAT', '1']))).toBe(wrongType);
    expect(errorOf(() => run(ctx, ['NOPE', '1']))).toBe(wrongType);
    expect(ctx.keyspace.getTyped('k', 'string')?.toString()).toBe('v');
  });

  it.each([
    [['NOPE', '1']],
    [['FLOAT32', '1']],
    [['', '1']],
    [['FLOATFLOATFLOAT', '1']],
  ])('invalid data type for %j', (xs) => {
    expect(errorText(xs)).toBe('ERR invalid data type');
  });

  it.each([
    [['FLOAT']],
    [['FLOAT', '0']],
    [['FLOAT', '-1']],
    [['FLOAT', '2', 'abc']],
    [['FLOAT', '01']],
    [['FLOAT', '1.5']],
    [['FLOAT', '+2']],
    [['FLOAT', '9223372036854775808']],
    [['FLOAT', '2', 'FOO', 'VALUES', '1', '2']],
  ])('invalid shape for %j', (xs) => {
    expect(errorText(xs)).toBe('ERR invalid or negative value found in tensor shape');
  });

  it.each([
    [['FLOAT', '2', 'VALUES', '1']],
    [['FLOAT', '2', 'VALUES', '1', '2', '3']],
    [['FLOAT', '2', 'VALUES']],
    [['FLOAT', '2', 'VALUES', '1', '2', 'BLOB', 'x']],
  ])('wrong number of values for %j', (xs) => {
    expect(errorText(xs)).toBe("ERR wrong number of values was given in 'AI.TENSORSET' command");
  });

  it.each([
    [['FLOAT', '1', 'BLOB']],
    [['FLOAT', '1', 'BLOB', 'abcd', 'efgh']],
    [['FLOAT', '1', 'BLOB', 'abcd', 'VALUES', '1']],
  ])('BLOB not followed by exactly one argument: %j', (xs) => {
    expect(errorText(xs)).toBe(
      "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
    );
  });

  it.each([
    [['FLOAT', '2', 'BLOB', 'abcd']],
    [['INT16', '1', 'BLOB', 'abc']],
    [['DOUBLE', '1', 'BLOB', '']],
  ])('BLOB length not matching shape and type: %j', (xs) => {
    expect(errorText(xs)).toBe('ERR data length does not match tensor shape and type');
  });

  it.each([
    [['FLOAT', '1', 'VALUES', 'abc']],
    [['INT8', '1', 'VALUES', '128']],
    [['INT8', '1', 'VALUES', '-129']],
    [['UINT8', '1', 'VALUES', '-1']],
    [['UINT16', '1', 'VALUES', '65536']],
    [['INT32', '1', 'VALUES', '1.5']],
    [['BOOL', '1', 'VALUES', '2']],
  ])('invalid value: %j', (xs) => {
    expect(errorText(xs)).toBe('ERR invalid value');
  });

  it('a BOOL blob byte other than 0/1', () => {
    expect(errorText(['BOOL', '2', 'BLOB', Buffer.from([1, 2])])).toBe('ERR BOOL tensor elements must be 0 or 1');
  });

  it('a STRING blob with the wrong number of strings', () => {
    expect(errorText(['STRING', '2', 'BLOB', Buffer.from('a\0')])).toBe(
      'ERR Number of string elements in data blob does not match tensor length',
    );
    expect(errorText(['STRING', '1', 'BLOB', Buffer.from('a')])).toBe(
      'ERR Number of string elements in data blob does not match tensor length',
    );
  });

  it('a tensor larger than proto-max-bulk-len is refused before allocating', () => {
    const small = { protoMaxBulkLen: 1024 * 1024 };
    expect(errorText(['FLOAT', '1024', '1024'], small)).toBe('ERR tensor size exceeds proto-max-bulk-len (1048576 bytes)');
    expect(errorText(['UINT8', '1000000', '1000000', '1000000'])).toBe(
      'ERR tensor size exceeds proto-max-bulk-len (536870912 bytes)',
    );
    const ctx = fakeCtx();
    expect(run(ctx, ['UINT8', '1024', '1024'], small)).toBe(OK);
  });

  it('an error leaves an existing tensor untouched', () => {
    const ctx = fakeCtx();
    run(ctx, ['INT8', '1', 'VALUES', '5']);
    expect(errorOf(() => run(ctx, ['INT8', '1', 'VALUES', '500']))).toBe('ERR invalid value');
    expect(stored(ctx).values()).toEqual([5]);
  });
});
