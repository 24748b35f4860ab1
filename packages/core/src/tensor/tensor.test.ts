import { constants as bufferConstants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { RespaiError } from '../errors.js';
import { DTYPE_NAMES, type DType } from './dtype.js';
import { checkSize, concat, parseShape, split, Tensor } from './tensor.js';

/** Matches a RespaiError with exactly this text (a bare string would match any message containing it). */
const err = (text: string) => new RespaiError(text);

const b = (s: string) => Buffer.from(s, 'latin1');
const bufs = (...xs: Array<string | number | bigint>) => xs.map((x) => b(String(x)));

/** VALUES arguments and what values() gives back, per dtype. */
const samples: Record<DType, { args: string[]; back: Array<number | bigint | string> }> = {
  FLOAT: { args: ['1', '-0.5', '1e3', '0.1'], back: [1, -0.5, 1000, Math.fround(0.1)] },
  DOUBLE: { args: ['1', '-0.5', '1e3', '0.1'], back: [1, -0.5, 1000, 0.1] },
  INT8: { args: ['-128', '-1', '0', '127'], back: [-128, -1, 0, 127] },
  INT16: { args: ['-32768', '-2', '3', '32767'], back: [-32768, -2, 3, 32767] },
  INT32: { args: ['-2147483648', '-3', '4', '2147483647'], back: [-2147483648, -3, 4, 2147483647] },
  INT64: {
    args: ['-9223372036854775808', '-1', '9007199254740993', '9223372036854775807'],
    back: [-9223372036854775808n, -1n, 9007199254740993n, 9223372036854775807n],
  },
  UINT8: { args: ['0', '1', '128', '255'], back: [0, 1, 128, 255] },
  UINT16: { args: ['0', '1', '32768', '65535'], back: [0, 1, 32768, 65535] },
  BOOL: { args: ['0', '1', '1', '0'], back: [0, 1, 1, 0] },
  STRING: { args: ['a', '', 'héllo', 'xyz'], back: ['a', '', 'héllo', 'xyz'] },
};

const norm = (vs: Array<number | bigint | Buffer>) => vs.map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));

describe('Tensor round trips', () => {
  it.each(DTYPE_NAMES)('%s: VALUES -> values() -> BLOB -> same tensor', (dtype) => {
    const { args, back } = samples[dtype];
    const t = Tensor.fromValues(dtype, [2, 2], bufs(...args));
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual([2, 2]);
    expect(t.length).toBe(4);
    expect(norm(t.values())).toEqual(back);
    const u = Tensor.fromBlob(dtype, [2, 2], Buffer.from(t.data));
    expect(u.data.equals(t.data)).toBe(true);
    expect(norm(u.values())).toEqual(back);
    expect(u.byteLength).toBe(t.data.length);
  });

  it('lays numeric blobs out little-endian, row-major', () => {
    const t = Tensor.fromValues('FLOAT', [2, 2], bufs(1, 2, 3, 4));
    expect(t.data.toString('hex')).toBe('0000803f000000400000404000008040');
    expect(Tensor.fromValues('INT16', [2], bufs(1, -2)).data.toString('hex')).toBe('0100feff');
    expect(Tensor.fromValues('INT64', [1], bufs(-2)).data.toString('hex')).toBe('feffffffffffffff');
  });

  it('byteLength is elements x size', () => {
    for (const d of DTYPE_NAMES.filter((x) => x !== 'STRING')) {
      expect(Tensor.zeros(d, [3, 5]).byteLength).toBe(15 * Tensor.zeros(d, [1]).byteLength);
    }
  });
});

describe('Tensor.fromValues', () => {
  it('accepts negative values for signed types (a fix over the original)', () => {
    expect(Tensor.fromValues('INT8', [2], bufs(-1, -128)).values()).toEqual([-1, -128]);
    expect(Tensor.fromValues('INT32', [1], bufs(-7)).values()).toEqual([-7]);
    expect(Tensor.fromValues('INT64', [1], bufs(-7)).values()).toEqual([-7n]);
  });

  it.each<[DType, string]>([
    ['INT8', '128'],
    ['INT8', '-129'],
    ['INT16', '32768'],
    ['INT16', '-32769'],
    ['INT32', '2147483648'],
    ['INT32', '-2147483649'],
    ['INT64', '9223372036854775808'],
    ['INT64', '-9223372036854775809'],
    ['UINT8', '-1'],
    ['UINT8', '256'],
    ['UINT16', '65536'],
    ['UINT16', '-1'],
    ['BOOL', '2'],
    ['BOOL', '-1'],
  ])('%s rejects %s as out of range', (dtype, v) => {
    expect(() => Tensor.fromValues(dtype, [1], bufs(v))).toThrow(err('ERR invalid value'));
  });

  it.each<[DType, string]>([
    ['INT32', '1.87'],
    ['INT32', 'A'],
    ['INT32', ''],
    ['INT32', '1e3'],
    ['INT32', ' 1'],
    ['INT64', '0x10'],
    ['BOOL', 'true'],
    ['BOOL', '1.0'],
    ['FLOAT', 'A'],
    ['FLOAT', '1.5x'],
    ['FLOAT', ''],
    ['FLOAT', ' 1'],
    ['DOUBLE', '1e400'],
    ['DOUBLE', 'Infinity1'],
  ])('%s rejects %j as not a number', (dtype, v) => {
    expect(() => Tensor.fromValues(dtype, [1], bufs(v))).toThrow(err('ERR invalid value'));
  });

  it('parses floats like strtod', () => {
    const t = Tensor.fromValues('DOUBLE', [7], bufs('1e3', '-0.5', 'inf', '-INFINITY', '+2', '.25', '0x1p-1'));
    expect(t.values()).toEqual([1000, -0.5, Infinity, -Infinity, 2, 0.25, 0.5]);
    expect(Tensor.fromValues('FLOAT', [1], bufs('nan')).values()[0]).toBeNaN();
  });

  it('stores FLOAT values as float32 (overflowing to inf like a C cast)', () => {
    const t = Tensor.fromValues('FLOAT', [3], bufs('0.1', '3.4028234663852886e38', '1e39'));
    expect(t.values()).toEqual([Math.fround(0.1), 3.4028234663852886e38, Infinity]);
    expect(t.byteLength).toBe(12);
  });

  it('keeps INT64 exact', () => {
    const t = Tensor.fromValues('INT64', [2], bufs('9007199254740993', '-9007199254740993'));
    expect(t.values()).toEqual([9007199254740993n, -9007199254740993n]);
  });

  it('needs exactly one value per element', () => {
    expect(() => Tensor.fromValues('FLOAT', [2], bufs(1))).toThrow(err(
      "ERR wrong number of values was given in 'AI.TENSORSET' command",
    ));
    expect(() => Tensor.fromValues('FLOAT', [2], bufs(1, 2, 3))).toThrow(err(
      "ERR wrong number of values was given in 'AI.TENSORSET' command",
    ));
    expect(() => Tensor.fromValues('STRING', [2], [])).toThrow(err(
      "ERR wrong number of values was given in 'AI.TENSORSET' command",
    ));
  });

  it('takes STRING values as raw bytes, dropping one trailing NUL', () => {
    const t = Tensor.fromValues('STRING', [2], [b('str_val1'), b('str_val2\0')]);
    expect(t.data).toEqual(b('str_val1\0str_val2\0'));
    expect(norm(t.values())).toEqual(['str_val1', 'str_val2']);
    const utf8 = Tensor.fromValues('STRING', [1], [Buffer.from('עברית')]);
    expect((utf8.values()[0] as Buffer).toString('utf8')).toBe('עברית');
    expect(Tensor.fromValues('STRING', [2], [b(''), b('\0')]).data).toEqual(b('\0\0'));
  });

  it('rejects a NUL inside a STRING value', () => {
    expect(() => Tensor.fromValues('STRING', [2], [b('valid C-string'), b('invalid\0C-string')])).toThrow(err(
      'ERR C-string value contains null character',
    ));
    expect(() => Tensor.fromValues('STRING', [1], [b('a\0\0')])).toThrow(err('ERR C-string value contains null character'));
  });
});

describe('Tensor.fromBlob', () => {
  it('needs exactly elements x size bytes', () => {
    expect(() => Tensor.fromBlob('FLOAT', [2], Buffer.alloc(7))).toThrow(err(
      'ERR data length does not match tensor shape and type',
    ));
    expect(() => Tensor.fromBlob('INT64', [1, 1, 28, 280], Buffer.alloc(3136))).toThrow(err(
      'ERR data length does not match tensor shape and type',
    ));
    // A product that would wrap in 64 bits must not match a small blob.
    expect(() => Tensor.fromBlob('UINT8', [2 ** 32, 2 ** 32], Buffer.alloc(0))).toThrow(err(
      'ERR data length does not match tensor shape and type',
    ));
  });

  it('keeps the buffer it is given', () => {
    const blob = Buffer.alloc(16);
    expect(Tensor.fromBlob('FLOAT', [4], blob).data).toBe(blob);
  });

  it('checks every BOOL byte, the last one included', () => {
    expect(Tensor.fromBlob('BOOL', [2], Buffer.from([0, 1])).values()).toEqual([0, 1]);
    expect(() => Tensor.fromBlob('BOOL', [2], Buffer.from([2, 1]))).toThrow(err('ERR BOOL tensor elements must be 0 or 1'));
    expect(() => Tensor.fromBlob('BOOL', [2], Buffer.from([1, 255]))).toThrow(err(
      'ERR BOOL tensor elements must be 0 or 1',
    ));
  });

  it('reads STRING blobs as NUL-terminated strings back to back', () => {
    const t = Tensor.fromBlob('STRING', [2, 2], b('str11\0str12\0str21\0\0'));
    expect(norm(t.values())).toEqual(['str11', 'str12', 'str21', '']);
    expect(t.length).toBe(4);
  });

  it.each(['single c-string\0', 'one\0two\0three\0', 'C-string\0followed by a non C-string', '', 'a\0b'])(
    'rejects STRING blob %j for 2 elements',
    (blob) => {
      expect(() => Tensor.fromBlob('STRING', [2], b(blob))).toThrow(err(
        'ERR Number of string elements in data blob does not match tensor length',
      ));
    },
  );
});

describe('Tensor.zeros', () => {
  it.each(DTYPE_NAMES)('%s', (dtype) => {
    const t = Tensor.zeros(dtype, [2, 3]);
    expect(t.length).toBe(6);
    const vs = norm(t.values());
    expect(vs).toEqual(Array(6).fill(dtype === 'INT64' ? 0n : dtype === 'STRING' ? '' : 0));
  });

  it('STRING zeros are length NUL bytes', () => {
    expect(Tensor.zeros('STRING', [3]).data).toEqual(Buffer.alloc(3));
  });

  it('refuses shapes no Buffer can hold without allocating', () => {
    expect(() => Tensor.zeros('DOUBLE', [2 ** 32, 2 ** 32])).toThrow(err(`ERR tensor size exceeds proto-max-bulk-len (${bufferConstants.MAX_LENGTH} bytes)`));
  });

  it('a scalar (empty shape) has one element', () => {
    const t = Tensor.zeros('FLOAT', []);
    expect(t.length).toBe(1);
    expect(t.byteLength).toBe(4);
  });

  it('rejects non-positive or fractional dimensions', () => {
    for (const shape of [[0], [-1], [1.5], [NaN], [2 ** 60]]) {
      expect(() => Tensor.zeros('FLOAT', shape)).toThrow(err('ERR invalid or negative value found in tensor shape'));
    }
  });
});

describe('immutability', () => {
  it('freezes the tensor and its shape, and copies a caller-owned shape', () => {
    const shape = [2];
    const t = Tensor.zeros('FLOAT', shape);
    shape[0] = 5;
    expect(t.shape).toEqual([2]);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(Reflect.set(t, 'dtype', 'INT8')).toBe(false);
    expect(t.length).toBe(2);
  });
});

describe('view', () => {
  it('shares memory when aligned', () => {
    const t = Tensor.fromValues('FLOAT', [2], bufs(1, 2));
    const v = t.view();
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.buffer).toBe(t.data.buffer);
    expect(Array.from(v as Float32Array)).toEqual([1, 2]);
  });

  it.each<[DType, new (n: number) => ArrayBufferView]>([
    ['FLOAT', Float32Array],
    ['DOUBLE', Float64Array],
    ['INT8', Int8Array],
    ['INT16', Int16Array],
    ['INT32', Int32Array],
    ['INT64', BigInt64Array],
    ['UINT8', Uint8Array],
    ['UINT16', Uint16Array],
    ['BOOL', Uint8Array],
    ['STRING', Uint8Array],
  ])('%s views as its typed array', (dtype, ctor) => {
    expect(Tensor.zeros(dtype, [2]).view()).toBeInstanceOf(ctor);
  });

  it('copies into aligned memory when data sits at an odd offset', () => {
    const backing = Buffer.alloc(17);
    Buffer.from(new Float64Array([1.5, -2.25]).buffer).copy(backing, 1);
    const t = Tensor.fromBlob('DOUBLE', [2], backing.subarray(1));
    expect(t.data.byteOffset).toBe(1);
    const v = t.view();
    expect(v).toBeInstanceOf(Float64Array);
    expect(v.byteOffset % 8).toBe(0);
    expect(v.buffer).not.toBe(t.data.buffer);
    expect(Array.from(v as Float64Array)).toEqual([1.5, -2.25]);
    expect(t.values()).toEqual([1.5, -2.25]);
  });

  it('handles unaligned INT16 and INT64 too', () => {
    const backing = Buffer.alloc(9);
    backing.writeBigInt64LE(-5n, 1);
    expect(Tensor.fromBlob('INT64', [1], backing.subarray(1)).values()).toEqual([-5n]);
    const b16 = Buffer.from([0, 0xfe, 0xff]);
    expect(Tensor.fromBlob('INT16', [1], b16.subarray(1)).values()).toEqual([-2]);
  });
});

describe('blob copy rule', () => {
  it('copies a small view into a big chunk so it does not pin the chunk', () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const blob = chunk.subarray(100, 100 + 1024);
    const t = Tensor.fromBlob('UINT8', [1024], blob);
    expect(t.data.buffer).not.toBe(chunk.buffer);
    expect(t.data.buffer.byteLength).toBe(1024);
    expect(t.data.equals(blob)).toBe(true);
  });

  it('copies out of Node\'s shared pool slab', () => {
    const pooled = Buffer.from([1, 0, 0, 0]);
    expect(pooled.buffer.byteLength).toBeGreaterThan(8); // sanity: it is a pool slice
    const t = Tensor.fromBlob('INT32', [1], pooled);
    expect(t.data.buffer.byteLength).toBe(4);
    expect(t.values()).toEqual([1]);
  });

  it('keeps a view that is most of its buffer', () => {
    const chunk = Buffer.alloc(1500);
    const blob = chunk.subarray(0, 1000);
    expect(Tensor.fromBlob('UINT8', [1000], blob).data).toBe(blob);
  });

  it('applies to STRING blobs', () => {
    const chunk = Buffer.alloc(4096);
    chunk.write('ab\0c\0', 10, 'latin1');
    const t = Tensor.fromBlob('STRING', [2], chunk.subarray(10, 15));
    expect(t.data.buffer.byteLength).toBe(5);
    expect(norm(t.values())).toEqual(['ab', 'c']);
  });
});

describe('parseShape', () => {
  it('reads positive decimal dimensions', () => {
    expect(parseShape(bufs('2', '3', '1'))).toEqual([2, 3, 1]);
    expect(parseShape([])).toEqual([]);
    expect(parseShape(bufs('9223372036854775807'))).toEqual([9223372036854775807]);
  });

  it.each(['0', '-1', '+1', '01', '1.5', '1e3', 'abc', '', ' 1', '1 ', '0x10', '9223372036854775808', '1'.repeat(40)])(
    'rejects %j',
    (d) => {
      expect(() => parseShape(bufs('2', d))).toThrow(err('ERR invalid or negative value found in tensor shape'));
    },
  );
});

describe('checkSize', () => {
  it('allows up to the limit exactly', () => {
    expect(() => checkSize('INT8', [10, 10], 100)).not.toThrow();
    expect(() => checkSize('FLOAT', [25], 100)).not.toThrow();
    expect(() => checkSize('FLOAT', [26], 100)).toThrow(err('ERR tensor size exceeds proto-max-bulk-len (100 bytes)'));
    expect(() => checkSize('DOUBLE', [], 4)).toThrow(err('ERR tensor size exceeds proto-max-bulk-len (4 bytes)'));
  });

  it('limits STRING tensors by element count', () => {
    expect(() => checkSize('STRING', [100], 100)).not.toThrow();
    expect(() => checkSize('STRING', [101], 100)).toThrow(err('ERR tensor size exceeds proto-max-bulk-len (100 bytes)'));
  });

  // Looping over (or allocating) a declared 2^40-element shape would not end within the test's time limit.
  it('does not wrap on huge dimensions and throws at once', () => {
    const limit = 512 * 1024 * 1024;
    for (const shape of [
      [4294967296, 4294967296],
      [2 ** 53, 2 ** 53, 2 ** 53],
      [9223372036854775807, 9223372036854775807],
      Array(10_000).fill(2 ** 40),
    ]) {
      expect(() => checkSize('FLOAT', shape, limit)).toThrow(err(`ERR tensor size exceeds proto-max-bulk-len (${limit} bytes)`));
    }
  });

  it('rejects invalid dimensions', () => {
    expect(() => checkSize('FLOAT', [0], 100)).toThrow(err('ERR invalid or negative value found in tensor shape'));
    expect(() => checkSize('FLOAT', [1.5], 100)).toThrow(err('ERR invalid or negative value found in tensor shape'));
  });
});

describe('concat and split', () => {
  const f = (shape: number[], ...v: number[]) => Tensor.fromValues('FLOAT', shape, bufs(...v));

  it('concatenates along dim 0 and splits back', () => {
    const a = f([1, 2], 1, 2);
    const c = f([2, 2], 3, 4, 5, 6);
    const t = concat([a, c]);
    expect(t.shape).toEqual([3, 2]);
    expect(t.values()).toEqual([1, 2, 3, 4, 5, 6]);
    const [x, y] = split(t, [1, 2]);
    expect(x?.shape).toEqual([1, 2]);
    expect(x?.values()).toEqual([1, 2]);
    expect(y?.shape).toEqual([2, 2]);
    expect(y?.values()).toEqual([3, 4, 5, 6]);
  });

  it('works for every dtype', () => {
    for (const dtype of DTYPE_NAMES) {
      const a = Tensor.fromValues(dtype, [2], bufs(...samples[dtype].args.slice(0, 2)));
      const c = Tensor.fromValues(dtype, [2], bufs(...samples[dtype].args.slice(2)));
      const t = concat([a, c]);
      expect(t.shape).toEqual([4]);
      expect(norm(t.values())).toEqual(samples[dtype].back);
      const parts = split(t, [1, 3]);
      expect(parts.map((p) => norm(p.values()))).toEqual([samples[dtype].back.slice(0, 1), samples[dtype].back.slice(1)]);
    }
  });

  it('splits STRING tensors at element boundaries', () => {
    const t = Tensor.fromBlob('STRING', [3, 2], b('a\0bb\0\0ccc\0d\0eeee\0'));
    const parts = split(t, [2, 1]);
    expect(parts[0]?.shape).toEqual([2, 2]);
    expect(norm(parts[0]?.values() ?? [])).toEqual(['a', 'bb', '', 'ccc']);
    expect(parts[1]?.shape).toEqual([1, 2]);
    expect(parts[1]?.data).toEqual(b('d\0eeee\0'));
    expect(concat(parts).data).toEqual(t.data);
  });

  it('returns a lone tensor as is', () => {
    const a = f([2], 1, 2);
    expect(concat([a])).toBe(a);
    expect(split(a, [2])).toEqual([a]);
  });

  it('copies parts that would pin a much larger batch', () => {
    const t = Tensor.zeros('FLOAT', [100, 10]);
    const parts = split(t, Array(100).fill(1));
    expect(parts).toHaveLength(100);
    expect(parts[5]?.data.buffer.byteLength).toBe(40);
  });

  it('refuses tensors that do not batch', () => {
    const msg = 'ERR tensors to batch must have the same type and the same dimensions after the first';
    expect(() => concat([])).toThrow(err(msg));
    expect(() => concat([f([1, 2], 1, 2), f([1, 3], 1, 2, 3)])).toThrow(err(msg));
    expect(() => concat([f([2], 1, 2), f([1, 2], 1, 2)])).toThrow(err(msg));
    expect(() => concat([f([2], 1, 2), Tensor.zeros('DOUBLE', [2])])).toThrow(err(msg));
    expect(() => concat([Tensor.zeros('FLOAT', []), Tensor.zeros('FLOAT', [])])).toThrow(err(msg));
  });

  it('refuses sizes that do not add up', () => {
    const msg = "ERR batch sizes do not add up to the tensor's first dimension";
    const t = f([3], 1, 2, 3);
    expect(() => split(t, [1, 1])).toThrow(err(msg));
    expect(() => split(t, [2, 2])).toThrow(err(msg));
    expect(() => split(t, [3, 0])).toThrow(err(msg));
    expect(() => split(t, [1.5, 1.5])).toThrow(err(msg));
    expect(() => split(t, [])).toThrow(err(msg));
    expect(() => split(Tensor.zeros('FLOAT', []), [1])).toThrow(err(msg));
  });
});
