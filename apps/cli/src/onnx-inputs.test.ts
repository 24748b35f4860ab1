import { describe, expect, it } from 'vitest';
import { OnnxType, encodeModel } from '@respai/backend-onnx/testing';
import { onnxInputs } from './onnx-inputs.js';

describe('onnxInputs', () => {
  it('names, dtypes and shapes of the graph inputs, free dimensions as -1, initializers left out', () => {
    const model = encodeModel({
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }, { op: 'Cast', inputs: ['ids'], outputs: ['z'], attrs: { to: 1 } }],
      inputs: [
        { name: 'x', type: { tensor: OnnxType.FLOAT, shape: ['N', 3, 28, 28] } },
        { name: 'w', type: { tensor: OnnxType.FLOAT, shape: [3, 28, 28] } },
        { name: 'ids', type: { tensor: OnnxType.INT64, shape: [null] } },
      ],
      outputs: [
        { name: 'y', type: { tensor: OnnxType.FLOAT } },
        { name: 'z', type: { tensor: OnnxType.FLOAT } },
      ],
      initializers: [{ name: 'w', type: OnnxType.FLOAT, dims: [3, 28, 28], raw: new Uint8Array(3 * 28 * 28 * 4) }],
    });
    expect(onnxInputs(model)).toEqual([
      { name: 'x', dtype: 'FLOAT', shape: [-1, 3, 28, 28] },
      { name: 'ids', dtype: 'INT64', shape: [-1] },
    ]);
  });
  it('refuses what is no ONNX model', () => {
    expect(() => onnxInputs(Buffer.from([0x08, 0x08]))).toThrow('no graph in the ONNX model');
    expect(() => onnxInputs(Buffer.from([0x3a, 0x10, 0x01]))).toThrow('truncated protobuf');
  });
});
