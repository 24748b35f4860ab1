import { describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor } from './tensor.js';

const hex = (b: Buffer) => b.toString('hex');

describe('encodeTensor', () => {
  it('infers the dtype from typed arrays, strings and booleans; the shape defaults to [length]', () => {
    expect(encodeTensor(new Float32Array([1]))).toMatchObject({ dtype: 'FLOAT', shape: [1] });
    expect(encodeTensor(new Float64Array(2)).dtype).toBe('DOUBLE');
    expect(encodeTensor(new Int8Array(1)).dtype).toBe('INT8');
    expect(encodeTensor(new Int16Array(1)).dtype).toBe('INT16');
    expect(encodeTensor(new Int32Array(1)).dtype).toBe('INT32');
    expect(encodeTensor(new BigInt64Array(1)).dtype).toBe('INT64');
    expect(encodeTensor(new Uint8Array(1)).dtype).toBe('UINT8');
    expect(encodeTensor(new Uint16Array(1)).dtype).toBe('UINT16');
    expect(encodeTensor(['a']).dtype).toBe('STRING');
    expect(encodeTensor([true]).dtype).toBe('BOOL');
    expect(encodeTensor([1n]).dtype).toBe('INT64');
  });

  it('sends a typed array of the dtype as a view of its memory, little-endian', () => {
    const a = new Float32Array([1, 2]);
    const t = encodeTensor(a, { shape: [1, 2] });
    expect(t.blob.buffer).toBe(a.buffer);
    expect(hex(t.blob)).toBe('0000803f00000040');
    const sub = new Int16Array([1, 2, 3, 4]).subarray(1, 3);
    expect(hex(encodeTensor(sub).blob)).toBe('02000300');
  });

  it('converts other arrays to the dtype given', () => {
    expect(hex(encodeTensor([1, 2], { dtype: 'UINT16' }).blob)).toBe('01000200');
    expect(hex(encodeTensor(new Float64Array([0.5]), { dtype: 'FLOAT' }).blob)).toBe('0000003f');
    expect(hex(encodeTensor([-1, 2n], { dtype: 'INT64' }).blob)).toBe('ffffffffffffffff0200000000000000');
    expect(hex(encodeTensor([true, false, 1, 0] as unknown as boolean[], { dtype: 'BOOL' }).blob)).toBe('01000100');
  });

  it('STRING: UTF-8, each NUL-terminated', () => {
    expect(encodeTensor(['é', '']).blob).toEqual(Buffer.from([0xc3, 0xa9, 0, 0]));
  });

  it('a Buffer is the raw bytes of the dtype', () => {
    const b = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    expect(encodeTensor(b, { dtype: 'FLOAT' })).toEqual({ dtype: 'FLOAT', shape: [4], blob: b });
    expect(encodeTensor(b, { dtype: 'DOUBLE', shape: [1, 2] }).shape).toEqual([1, 2]);
    expect(encodeTensor(Buffer.from([1, 2])).dtype).toBe('UINT8');
    expect(encodeTensor(Buffer.from('a\0b\0'), { dtype: 'STRING' }).shape).toEqual([2]);
    expect(() => encodeTensor(Buffer.alloc(6), { dtype: 'FLOAT' })).toThrow('6 bytes are not a whole number of FLOAT elements');
  });

  it('refuses what the client can see is wrong, with what is wrong', () => {
    expect(() => encodeTensor(new Float32Array(3), { shape: [2, 2] })).toThrow('shape [2, 2] holds 4 elements, the data has 3');
    expect(() => encodeTensor(new Float32Array(0), { shape: [] })).toThrow('a tensor needs at least one dimension');
    expect(() => encodeTensor(new Float32Array(2), { shape: [2, 0.5] })).toThrow('tensor dimensions are positive integers, got 0.5');
    expect(() => encodeTensor([1, 2])).toThrow('pass a dtype for plain arrays');
    expect(() => encodeTensor(['a\0'])).toThrow('STRING tensor elements cannot contain NUL characters');
    expect(() => encodeTensor([2] as unknown as boolean[], { dtype: 'BOOL' })).toThrow('BOOL tensors take booleans (or 0 and 1), got 2');
    expect(() => encodeTensor(['x'] as unknown as number[], { dtype: 'FLOAT' })).toThrow('FLOAT tensors take numbers, got string');
    expect(() => encodeTensor([1] as unknown as string[], { dtype: 'STRING' })).toThrow('STRING tensors take strings, got number');
  });
});

describe('decodeTensor', () => {
  it('views aligned bytes without a copy, copies unaligned ones', () => {
    const blob = Buffer.from(new Float32Array([1, 2]).buffer);
    const t = decodeTensor('FLOAT', [2], blob);
    expect(t.data).toEqual(new Float32Array([1, 2]));
    expect((t.data as Float32Array).buffer).toBe(blob.buffer);
    const odd = Buffer.alloc(9).subarray(1);
    odd.writeFloatLE(3, 0);
    const u = decodeTensor('FLOAT', [2], odd);
    expect(u.data).toEqual(new Float32Array([3, 0]));
    expect((u.data as Float32Array).buffer).not.toBe(odd.buffer);
  });

  it('every dtype: the typed array, booleans, strings', () => {
    expect(decodeTensor('INT64', [1], Buffer.from('feffffffffffffff', 'hex')).data).toEqual(new BigInt64Array([-2n]));
    expect(decodeTensor('UINT16', [1], Buffer.from('ffff', 'hex')).data).toEqual(new Uint16Array([65535]));
    expect(decodeTensor('INT8', [1], Buffer.from('ff', 'hex')).data).toEqual(new Int8Array([-1]));
    expect(decodeTensor('BOOL', [3], Buffer.from([1, 0, 1])).data).toEqual([true, false, true]);
    expect(decodeTensor('STRING', [3], Buffer.from('a\0\0wörld\0')).data).toEqual(['a', '', 'wörld']);
  });

  it('refuses a blob that is not a whole number of elements', () => {
    expect(() => decodeTensor('DOUBLE', [1], Buffer.alloc(7))).toThrow('a DOUBLE blob of 7 bytes is not a whole number of elements');
  });
});
