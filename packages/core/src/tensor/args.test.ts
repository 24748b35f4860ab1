import { describe, expect, it } from 'vitest';
import { RespaiError } from '../errors.js';
import { parseTensorGetFormat, tensorFromArgs, tensorGetReply } from './args.js';
import { Tensor } from './tensor.js';

/** Matches a RespaiError with exactly this text (a bare string would match any message containing it). */
const err = (text: string) => new RespaiError(text);

const b = (s: string) => Buffer.from(s, 'latin1');
/** Space-separated arguments, as after `AI.TENSORSET key`. */
const args = (s: string) => s.split(' ').map(b);
const opts = { maxBytes: 512 * 1024 * 1024 };
// The catalog's texts as the original wrote them (../shared/spec/behaviour.md, the original's
// tensor.c and tests_common.py), pinned here so a typo in the catalog fails a test.
const INVALID_DATA_TYPE = 'ERR invalid data type';
const INVALID_SHAPE = 'ERR invalid or negative value found in tensor shape';
const INVALID_VALUE = 'ERR invalid value';
const VALUES_COUNT = "ERR wrong number of values was given in 'AI.TENSORSET' command";
const BLOB_ARGS = "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command";
const BLOB_LENGTH = 'ERR data length does not match tensor shape and type';
const STRING_COUNT = 'ERR Number of string elements in data blob does not match tensor length';
const STRING_NUL = 'ERR C-string value contains null character';
const BOOL_VALUE = 'ERR BOOL tensor elements must be 0 or 1';
/** Ours: the original had no such limit. */
const TOO_LARGE = 'ERR tensor size exceeds proto-max-bulk-len (536870912 bytes)';

const set = (s: string, o = opts) => tensorFromArgs(args(s), o);

describe('tensorFromArgs', () => {
  it('reads type, shape and VALUES', () => {
    const t = set('FLOAT 2 2 VALUES 1 2 3 4');
    expect(t.dtype).toBe('FLOAT');
    expect(t.shape).toEqual([2, 2]);
    expect(t.values()).toEqual([1, 2, 3, 4]);
  });

  it('reads BLOB', () => {
    const blob = Buffer.from(new Int16Array([1, -2, 3]).buffer);
    const t = tensorFromArgs([b('int16'), b('3'), b('blob'), blob], opts);
    expect(t.dtype).toBe('INT16');
    expect(t.values()).toEqual([1, -2, 3]);
  });

  it('takes keywords in any case', () => {
    expect(set('float 2 values 1 2').values()).toEqual([1, 2]);
    expect(set('Double 1 VaLuEs 0.5').values()).toEqual([0.5]);
  });

  it('makes zeros without BLOB or VALUES', () => {
    const t = set('INT32 2 3');
    expect(t.shape).toEqual([2, 3]);
    expect(t.values()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(set('STRING 2').data).toEqual(Buffer.alloc(2));
  });

  it('makes a scalar when a keyword follows the type, as the original', () => {
    const t = set('FLOAT VALUES 7');
    expect(t.shape).toEqual([]);
    expect(t.values()).toEqual([7]);
    expect(tensorFromArgs([b('INT8'), b('BLOB'), Buffer.from([255])], opts).values()).toEqual([-1]);
  });

  it('accepts negative signed VALUES (we deliberately differ from the original)', () => {
    expect(set('INT8 2 VALUES -1 -128').values()).toEqual([-1, -128]);
  });

  it('reads STRING VALUES and BLOBs', () => {
    const t = tensorFromArgs([b('STRING'), b('2'), b('VALUES'), b('str_val1'), b('str_val2\0')], opts);
    expect(t.data).toEqual(b('str_val1\0str_val2\0'));
    const u = tensorFromArgs([b('STRING'), b('2'), b('BLOB'), b('str_blob1\0str_blob2\0')], opts);
    expect(u.values().map(String)).toEqual(['str_blob1', 'str_blob2']);
  });

  // The error cases of the original test suite (tests_common.py), and which check wins.
  it.each<[string, string | Buffer[]]>([
    [INVALID_DATA_TYPE, 'INT128 2 VALUES 2 3'],
    [INVALID_DATA_TYPE, 'INT128 -1'],
    [INVALID_SHAPE, 'INT32 -1 VALUES 2 3'],
    [INVALID_SHAPE, 'INT32 2 not_a_number VALUES 2 3'],
    [INVALID_SHAPE, 'INT32 0'],
    [INVALID_SHAPE, 'FLOAT x BLOB'],
    [INVALID_SHAPE, 'FLOAT 2 1.5'],
    [INVALID_VALUE, 'FLOAT 2 VALUES 2 A'],
    [INVALID_VALUE, 'INT32 2 VALUES 2 1.87'],
    [INVALID_VALUE, 'BOOL 2 VALUES 1 2'],
    [INVALID_VALUE, 'INT8 1 VALUES 128'],
    [INVALID_VALUE, 'UINT8 1 VALUES -1'],
    [INVALID_VALUE, 'INT64 1 VALUES 9223372036854775808'],
    [INVALID_VALUE, 'FLOAT 2 VALUES 1.5x 1'],
    [STRING_NUL, [b('STRING'), b('2'), b('VALUES'), b('valid C-string'), b('invalid\0C-string')]],
    [VALUES_COUNT, 'FLOAT 2 VALUES 1'],
    [VALUES_COUNT, 'FLOAT 2 VALUES 1 2 3'],
    [VALUES_COUNT, 'FLOAT 2 VALUES'],
    [VALUES_COUNT, 'FLOAT VALUES'],
    [VALUES_COUNT, 'FLOAT 2 VALUES A'],
    [BLOB_ARGS, [b('FLOAT'), b('2'), b('BLOB'), b('\0'), b('extra-argument')]],
    [BLOB_ARGS, 'FLOAT 2 BLOB'],
    [BLOB_ARGS, 'FLOAT BLOB'],
    [BLOB_ARGS, 'FLOAT 4294967296 4294967296 BLOB'],
    [BLOB_LENGTH, [b('FLOAT'), b('1'), b('1'), b('28'), b('280'), b('BLOB'), Buffer.alloc(3136)]],
    [BLOB_LENGTH, 'FLOAT 2 BLOB VALUES'],
    [STRING_COUNT, [b('STRING'), b('2'), b('BLOB'), b('single c-string\0')]],
    [STRING_COUNT, [b('STRING'), b('2'), b('BLOB'), b('one\0two\0three\0')]],
    [STRING_COUNT, [b('STRING'), b('2'), b('BLOB'), b('C-string\0followed by a non C-string')]],
    [BOOL_VALUE, [b('BOOL'), b('2'), b('BLOB'), Buffer.from([2, 1])]],
    [TOO_LARGE, 'FLOAT 4294967296 4294967296'],
    [TOO_LARGE, 'FLOAT 4294967296 4294967296 BLOB x'],
    [TOO_LARGE, 'INT8 9223372036854775807 9223372036854775807 9223372036854775807'],
    [TOO_LARGE, 'STRING 536870913'],
  ])('%s for %j', (text, input) => {
    const a = typeof input === 'string' ? args(input) : input;
    expect(() => tensorFromArgs(a, opts)).toThrow(err(text));
  });

  it('checks VALUES arity when the keyword is reached, before the size guard (as the original)', () => {
    expect(() => set('FLOAT 4294967296 4294967296 VALUES 1')).toThrow(err(VALUES_COUNT));
  });

  it('enforces maxBytes before allocating', () => {
    expect(() => set('FLOAT 3', { maxBytes: 8 })).toThrow(err('ERR tensor size exceeds proto-max-bulk-len (8 bytes)'));
    expect(set('FLOAT 2', { maxBytes: 8 }).byteLength).toBe(8);
    // Checked on the declared shape, before anything the size of it is allocated.
    expect(() => set('DOUBLE 4294967296 4294967296 4294967296')).toThrow(err(TOO_LARGE));
  });

  it('does not crash on missing arguments', () => {
    expect(() => tensorFromArgs([], opts)).toThrow(err(INVALID_DATA_TYPE));
    expect(() => tensorFromArgs([b('FLOAT')], opts)).toThrow(err(INVALID_SHAPE));
  });
});

describe('parseTensorGetFormat', () => {
  it('defaults to META BLOB', () => {
    expect(parseTensorGetFormat([])).toEqual({ meta: true, blob: true, values: false });
  });

  it.each<[string, { meta: boolean; blob: boolean; values: boolean }]>([
    ['META', { meta: true, blob: false, values: false }],
    ['BLOB', { meta: false, blob: true, values: false }],
    ['VALUES', { meta: false, blob: false, values: true }],
    ['meta values', { meta: true, blob: false, values: true }],
    ['VALUES Meta', { meta: true, blob: false, values: true }],
    ['blob META', { meta: true, blob: true, values: false }],
    ['META META', { meta: true, blob: false, values: false }],
  ])('%s', (s, fmt) => {
    expect(parseTensorGetFormat(args(s))).toEqual(fmt);
  });

  it('rejects unknown words and BLOB with VALUES', () => {
    expect(() => parseTensorGetFormat(args('unsupported_format'))).toThrow(err('ERR unsupported data format'));
    expect(() => parseTensorGetFormat(args('META x'))).toThrow(err('ERR unsupported data format'));
    expect(() => parseTensorGetFormat(args('BLOB VALUES x'))).toThrow(err('ERR unsupported data format'));
    expect(() => parseTensorGetFormat(args('BLOB VALUES'))).toThrow(err('ERR both BLOB and VALUES specified'));
    expect(() => parseTensorGetFormat(args('values META blob'))).toThrow(err('ERR both BLOB and VALUES specified'));
  });
});

describe('tensorGetReply', () => {
  const t = Tensor.fromValues('FLOAT', [2, 2], args('1 2 3 4'));

  it('META BLOB', () => {
    const r = tensorGetReply(t, parseTensorGetFormat([]));
    expect(r).toEqual({ meta: { dtype: 'FLOAT', shape: [2, 2] }, blob: t.data, floats: true });
    expect(r.blob).toBe(t.data);
  });

  it('META VALUES and bare forms', () => {
    expect(tensorGetReply(t, parseTensorGetFormat(args('META VALUES')))).toEqual({
      meta: { dtype: 'FLOAT', shape: [2, 2] },
      values: [1, 2, 3, 4],
      floats: true,
    });
    expect(tensorGetReply(t, parseTensorGetFormat(args('VALUES')))).toEqual({ values: [1, 2, 3, 4], floats: true });
    expect(tensorGetReply(t, parseTensorGetFormat(args('BLOB')))).toEqual({ blob: t.data, floats: true });
    expect(tensorGetReply(t, parseTensorGetFormat(args('META')))).toEqual({
      meta: { dtype: 'FLOAT', shape: [2, 2] },
      floats: true,
    });
  });

  it('integers and strings are not floats', () => {
    const i = Tensor.fromValues('INT64', [2], args('-1 5'));
    expect(tensorGetReply(i, { meta: false, blob: false, values: true })).toEqual({ values: [-1n, 5n], floats: false });
    const s = Tensor.fromValues('STRING', [2], args('a b'));
    expect(tensorGetReply(s, { meta: false, blob: false, values: true })).toEqual({
      values: [b('a'), b('b')],
      floats: false,
    });
  });
});
