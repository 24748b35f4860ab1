import { describe, expect, it } from 'vitest';
import { counted, modelStoreArgs, scriptArgs, tensorSetArgs } from './args.js';

describe('command arguments', () => {
  it('counted lists', () => {
    expect(counted('INPUTS', ['a', 'b'])).toEqual(['INPUTS', '2', 'a', 'b']);
    expect(counted('ARGS', [1, 2.5])).toEqual(['ARGS', '2', '1', '2.5']);
  });

  it('AI.TENSORSET: dtype, one argument per dimension, BLOB; a tensor object keeps its dtype and shape', () => {
    const args = tensorSetArgs('AI.TENSORSET', 'k', new Int32Array([1, 2]), { shape: [1, 2] });
    expect(args.slice(0, 6)).toEqual(['AI.TENSORSET', 'k', 'INT32', '1', '2', 'BLOB']);
    expect(args[6]).toEqual(Buffer.from(new Int32Array([1, 2]).buffer));
    const t = { dtype: 'BOOL', shape: [2, 1], data: [true, false] } as const;
    expect(tensorSetArgs('AI.TENSORSET', 'b', t, {})).toEqual(['AI.TENSORSET', 'b', 'BOOL', '2', '1', 'BLOB', Buffer.from([1, 0])]);
  });

  it('AI.MODELSTORE: options in the reference order, then the blob in chunks of at most chunkSize (views)', () => {
    const blob = Buffer.from('0123456789');
    const args = modelStoreArgs(
      'm',
      { backend: 'TF', device: 'GPU:1', blob, tag: 'v2', batchSize: 8, minBatchSize: 2, minBatchTimeout: 5, inputs: ['a', 'b'], outputs: ['c'] },
      4,
    );
    expect(args.map(String)).toEqual([
      'AI.MODELSTORE', 'm', 'TF', 'GPU:1', 'TAG', 'v2', 'BATCHSIZE', '8', 'MINBATCHSIZE', '2', 'MINBATCHTIMEOUT', '5',
      'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', '0123', '4567', '89',
    ]);
    expect((args.at(-1) as Buffer).buffer).toBe(blob.buffer);
    expect(modelStoreArgs('m', { backend: 'ONNX', blob }, 100).map(String)).toEqual(['AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', '0123456789']);
    // An empty blob is still one (empty) argument: the server's own error, not a missing BLOB.
    expect(modelStoreArgs('m', { backend: 'ONNX', blob: Buffer.alloc(0) }, 100).slice(4).map(String)).toEqual(['BLOB', '']);
    expect(() => modelStoreArgs('m', { backend: 'ONNX', blob }, 0)).toThrow('MODEL_CHUNK_SIZE must be positive, got 0');
  });

  it('AI.SCRIPTEXECUTE: INPUTS, each LIST_INPUTS, ARGS, OUTPUTS', () => {
    expect(scriptArgs({ inputs: ['a', 3], listInputs: [['x', 'y'], ['z']], args: ['s'], outputs: ['o'] })).toEqual([
      'INPUTS', '2', 'a', '3', 'LIST_INPUTS', '2', 'x', 'y', 'LIST_INPUTS', '1', 'z', 'ARGS', '1', 's', 'OUTPUTS', '1', 'o',
    ]);
    expect(scriptArgs({})).toEqual([]);
  });
});
