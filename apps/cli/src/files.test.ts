import { describe, expect, it } from 'vitest';
import { dump, parse } from 'npyjs';
import { OnnxType, binaryModel } from '@respai/backend-onnx/testing';
import { TensorType, binaryModel as tfliteBinary } from '@respai/backend-tflite/testing';
import { detectBackend, npyOf, parseDType, parseShape, tensorFromNpy, tensorFromRaw } from './files.js';

const buf = (a: ArrayBuffer) => Buffer.from(a);

describe('detectBackend', () => {
  const onnx = binaryModel('Add', OnnxType.FLOAT, [1], [1], [1]);
  const lite = tfliteBinary('ADD', TensorType.FLOAT32, [1]);
  it('by extension first', () => {
    expect(detectBackend('m.onnx', Buffer.alloc(0))).toBe('ONNX');
    expect(detectBackend('M.TFLITE', Buffer.alloc(0))).toBe('TFLITE');
    expect(detectBackend('m.pt', Buffer.alloc(0))).toBe('TORCH');
    expect(detectBackend('graph.pb', Buffer.alloc(0))).toBe('TF');
  });
  it('else by the first bytes', () => {
    expect(detectBackend('model', onnx)).toBe('ONNX');
    expect(detectBackend('model', lite)).toBe('TFLITE');
    expect(detectBackend('model', Buffer.from('PK\x03\x04rest', 'latin1'))).toBe('TORCH');
    expect(detectBackend('model', Buffer.from([0x0a, 0x03]))).toBe('TF');
    expect(detectBackend('model', Buffer.from('hello'))).toBeUndefined();
  });
});

describe('.npy', () => {
  it('every dtype round-trips through npyOf and tensorFromNpy', () => {
    const cases = [
      { dtype: 'FLOAT', shape: [2], data: new Float32Array([1.5, -2]) },
      { dtype: 'DOUBLE', shape: [1], data: new Float64Array([Math.E]) },
      { dtype: 'INT8', shape: [2], data: new Int8Array([-1, 1]) },
      { dtype: 'INT16', shape: [1, 2], data: new Int16Array([-300, 300]) },
      { dtype: 'INT32', shape: [1], data: new Int32Array([7]) },
      { dtype: 'INT64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
      { dtype: 'UINT8', shape: [3], data: new Uint8Array([0, 128, 255]) },
      { dtype: 'UINT16', shape: [1], data: new Uint16Array([65535]) },
      { dtype: 'BOOL', shape: [2], data: [true, false] },
      { dtype: 'STRING', shape: [2], data: ['ab', 'c'] },
    ] as const;
    for (const t of cases) expect(tensorFromNpy(npyOf(t as never))).toEqual(t);
  });
  it('what numpy writes: a 0-d array is [1]; header and dtype checks', () => {
    const scalar = buf(dump(new Float64Array([3]), []));
    expect(tensorFromNpy(scalar)).toEqual({ dtype: 'DOUBLE', shape: [1], data: new Float64Array([3]) });
    expect(parse(npyOf({ dtype: 'FLOAT', shape: [1, 2], data: new Float32Array([1, 2]) }).buffer as ArrayBuffer).shape).toEqual([1, 2]);
    const big = Buffer.from(buf(dump(new Float32Array([1]), [1])).toString('latin1').replace("'<f4'", "'>f4'"), 'latin1');
    expect(() => tensorFromNpy(big)).toThrow('.npy: big-endian arrays are not supported');
    const u4 = buf(dump(new Uint32Array([1]), [1]));
    expect(() => tensorFromNpy(u4)).toThrow('.npy: dtype u4 has no respai dtype');
  });
});

describe('raw inputs and options', () => {
  it('raw bytes of a dtype and shape; the byte count must match', () => {
    const b = Buffer.from(new Float32Array([1, 2]).buffer);
    expect(tensorFromRaw(b, 'FLOAT', [1, 2])).toEqual({ dtype: 'FLOAT', shape: [1, 2], data: new Float32Array([1, 2]) });
    expect(() => tensorFromRaw(b, 'FLOAT', [3])).toThrow('raw input: 8 bytes, but FLOAT [3] needs 12');
    expect(tensorFromRaw(Buffer.from('a\0b\0'), 'STRING', [2]).data).toEqual(['a', 'b']);
  });
  it('--shape and --dtype', () => {
    expect(parseShape('1,1,28,28')).toEqual([1, 1, 28, 28]);
    expect(parseShape('2x3')).toEqual([2, 3]);
    expect(() => parseShape('1,0')).toThrow("--shape: positive integers separated by commas, got '1,0'");
    expect(parseDType('float')).toBe('FLOAT');
    expect(() => parseDType('f32')).toThrow("--dtype: one of FLOAT, DOUBLE, INT8, INT16, INT32, INT64, UINT8, UINT16, BOOL, STRING, got 'f32'");
  });
});
