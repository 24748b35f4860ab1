import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKEND_API_VERSION, Tensor, parseDevice, type BackendSettings, type LoadedModel } from '@respai/core';
import { floats, itShared, sharedPath, tensor, testBackends } from '@respai/core/testing';
import { createTfliteBackend, feedDims, type TfliteBackend } from './index.js';
import { ensureTfliteBuilt } from './testing/build.js';
import { TensorType, binaryModel, denseClassifier, mlpModel, tfliteModel } from './testing/tflite-writer.js';

const MNIST = ['models/mnist_model_quant.tflite', 'models/one.raw'];
const mnist = () => readFileSync(sharedPath('models/mnist_model_quant.tflite'));
const one = () => Tensor.fromBlob('FLOAT', [1, 1, 28, 28], readFileSync(sharedPath('models/one.raw')));

const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn() };
const { newBackend, disposeAll } = testBackends(createTfliteBackend, { log });

let backend: TfliteBackend;
beforeAll(() => {
  ensureTfliteBuilt();
  backend = newBackend();
}, 120_000);
afterAll(async () => {
  await disposeAll();
});

const load = (blob: Buffer, batchSize = 0, b: TfliteBackend = backend): Promise<LoadedModel> =>
  b.loadModel({ blob, device: parseDevice('CPU'), inputs: [], outputs: [], batchSize });
const failure = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  );

describe('the TFLITE backend', () => {
  it('identifies itself with the TFLite version', () => {
    expect(backend.name).toBe('TFLITE');
    expect(backend.apiVersion).toBe(BACKEND_API_VERSION);
    expect(backend.version).toBe('2.9.0');
    expect(backend.supportsDevice(parseDevice('CPU:1'))).toBe(true);
    expect(backend.supportsDevice(parseDevice('GPU'))).toBe(false);
  });

  itShared('mnist_model_quant.tflite: names from the model, "1" read from one.raw as FLOAT 1 1 28 28', MNIST, async () => {
    const m = await load(mnist());
    expect(m.inputs.map((s) => [s.name, s.dtype, s.shape])).toEqual([['Placeholder', 'FLOAT', [1, 28, 28]]]);
    expect(m.outputs).toEqual([
      { name: 'ArgMax', dtype: 'INT64', shape: [1] },
      { name: 'Softmax', dtype: 'FLOAT', shape: [1, 10] },
    ]);
    for (const x of [one(), Tensor.fromBlob('FLOAT', [1, 784], one().data)]) {
      const [cls, probs] = await m.run([x], { slot: 0 });
      expect(cls!.dtype).toBe('INT64');
      expect(cls!.values()).toEqual([1n]);
      expect(probs!.shape).toEqual([1, 10]);
      const p = probs!.values() as number[];
      expect(p.indexOf(Math.max(...p))).toBe(1);
    }
    // Its graph reshapes to a fixed [1, 784]: a batch of two fails in TFLite, and the next run works.
    const two = Tensor.fromBlob('FLOAT', [2, 1, 28, 28], Buffer.concat([one().data, one().data]));
    expect(await failure(m.run([two], { slot: 0 }))).toMatch(/^ERR .*RESHAPE.* failed to prepare/);
    expect((await m.run([one()], { slot: 0 }))[0]!.values()).toEqual([1n]);
    await m.dispose();
  });

  it('BATCHSIZE: dim 0 is reported free and inputs are resized to the batch', async () => {
    const blob = binaryModel('ADD', TensorType.FLOAT32, [1, 2]);
    const fixed = await load(blob);
    expect(fixed.inputs[0]!.shape).toEqual([1, 2]);
    const m = await load(blob, 4);
    expect(m.inputs.map((s) => s.shape)).toEqual([
      [-1, 2],
      [-1, 2],
    ]);
    expect(m.outputs[0]!.shape).toEqual([-1, 2]);
    const a = floats([3, 2], [1, 2, 3, 4, 5, 6]);
    const [c] = await m.run([a, a], { slot: 1 });
    expect(c!.shape).toEqual([3, 2]);
    expect(c!.values()).toEqual([2, 4, 6, 8, 10, 12]);
    // Back to the declared size, then a batch again: each run gets the shape it brought.
    expect((await m.run([floats([1, 2], [1, 1]), floats([1, 2], [2, 3])], { slot: 1 }))[0]!.values()).toEqual([3, 4]);
    expect((await m.run([floats([2, 2], [1, 1, 1, 1]), floats([2, 2], [0, 1, 2, 3])], { slot: 1 }))[0]!.shape).toEqual([2, 2]);
    await Promise.all([m.dispose(), fixed.dispose()]);
  });

  it('quantized models take and give their integer dtype; FLOAT into them is refused with the quantization', async () => {
    const m = await load(binaryModel('ADD', TensorType.INT8, [3], { scale: 0.25, zeroPoint: -10 }));
    expect(m.inputs.map((s) => s.dtype)).toEqual(['INT8', 'INT8']);
    // Real values (q - zp) * scale: (0 + 10) * 0.25 + (2 + 10) * 0.25 = 5.5 -> 5.5 / 0.25 - 10 = 12.
    const [c] = await m.run([tensor('INT8', [3], [0, -10, 50]), tensor('INT8', [3], [2, -10, 50])], { slot: 0 });
    expect(c!.dtype).toBe('INT8');
    expect(c!.values()).toEqual([12, -10, 110]);
    expect(await failure(m.run([floats([3], [1, 2, 3]), floats([3], [1, 2, 3])], { slot: 0 }))).toBe(
      "ERR TFLITE model input 'a' expects INT8, got FLOAT (quantized: scale 0.25, zero point -10; send q = round(x / scale) + zero point)",
    );
    await m.dispose();
  });

  it('two outputs of two dtypes, in the model order', async () => {
    const m = await load(denseClassifier([[1, -1], [-1, 1], [0.5, 0.5]], [0, 0, 0], 1), 8);
    const [scores, cls] = await m.run([floats([2, 2], [3, 1, 0, 4])], { slot: 0 });
    expect(scores!.values()).toEqual([2, -2, 2, -4, 4, 2]);
    expect(cls!.dtype).toBe('INT64');
    expect(cls!.values()).toEqual([0n, 1n]);
    await m.dispose();
  });

  it('an MLP of FULLY_CONNECTED + RELU layers matches a plain forward pass', async () => {
    const r = (i: number) => (((i * 2654435761) >>> 0) % 1000) / 1000 - 0.5;
    const layers = [
      { out: 16, weights: Array.from({ length: 16 * 12 }, (_, i) => r(i)), bias: Array.from({ length: 16 }, (_, i) => r(i + 7)) },
      { out: 4, weights: Array.from({ length: 4 * 16 }, (_, i) => r(i + 99)), bias: [0.1, -0.2, 0.3, 0] },
    ];
    const x = Array.from({ length: 12 }, (_, i) => r(i + 500));
    let h = x;
    layers.forEach((l, k) => {
      const inp = h.length;
      h = Array.from({ length: l.out }, (_, o) => {
        const v = l.bias[o]! + h.reduce((acc, xi, i) => acc + xi * l.weights[o * inp + i]!, 0);
        return k < layers.length - 1 ? Math.max(0, v) : v;
      });
    });
    const m = await load(mlpModel(layers, 12));
    const [y] = await m.run([floats([1, 12], x)], { slot: 0 });
    const got = y!.values() as number[];
    h.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-5));
    await m.dispose();
  });

  it('refuses what is not a TFLite model at load, with clear texts', async () => {
    expect(await failure(load(Buffer.from('not a model at all')))).toBe(
      'ERR Invalid TFLITE model: the bytes are not a TFLite flatbuffer (no TFL3 file identifier)',
    );
    expect(await failure(load(Buffer.concat([Buffer.from([16, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(40, 7)])))).toBe(
      'ERR Invalid TFLITE model: the bytes are not a valid TFLite flatbuffer',
    );
    // A well-formed flatbuffer whose operator reads a tensor that does not exist.
    const broken = tfliteModel({
      tensors: [
        { name: 'a', type: TensorType.FLOAT32, shape: [2] },
        { name: 'c', type: TensorType.FLOAT32, shape: [2] },
      ],
      inputs: [0],
      outputs: [1],
      ops: [{ op: 'ADD', inputs: [0, 5], outputs: [1] }],
    });
    expect(await failure(load(broken))).toMatch(/^ERR Invalid TFLITE model: .+/);
    // An op whose input types disagree fails when TFLite prepares the graph, still at load.
    const mixed = tfliteModel({
      tensors: [
        { name: 'a', type: TensorType.FLOAT32, shape: [2] },
        { name: 'b', type: TensorType.INT32, shape: [2] },
        { name: 'c', type: TensorType.FLOAT32, shape: [2] },
      ],
      inputs: [0, 1],
      outputs: [2],
      ops: [{ op: 'ADD', inputs: [0, 1], outputs: [2] }],
    });
    expect(await failure(load(mixed))).toMatch(/^ERR Invalid TFLITE model: .+/);
    // A graph whose ADD reads tensors nothing writes (no inputs): TFLite segfaults running it, in
    // the child process that checks every model before the server's workers see it.
    const unfed = tfliteModel({
      tensors: [
        { name: 'a', type: TensorType.FLOAT32, shape: [2] },
        { name: 'b', type: TensorType.FLOAT32, shape: [2] },
        { name: 'c', type: TensorType.FLOAT32, shape: [2] },
      ],
      inputs: [],
      outputs: [2],
      ops: [{ op: 'ADD', inputs: [0, 1], outputs: [2] }],
    });
    expect(await failure(load(unfed))).toMatch(
      /^ERR Invalid TFLITE model: TFLite crashed reading it \(SIG[A-Z]+\); the flatbuffer passes TFLite's verifier but its contents are inconsistent$/,
    );
    // Nothing broke: a valid model still loads and runs.
    const m = await load(binaryModel('SUB', TensorType.INT32, [2]));
    expect((await m.run([tensor('INT32', [2], [5, 5]), tensor('INT32', [2], [2, 7])], { slot: 0 }))[0]!.values()).toEqual([3, -2]);
    await m.dispose();
  });

  it('refuses bad runs with clear texts, and runs again after each', async () => {
    const m = await load(binaryModel('ADD', TensorType.FLOAT32, [2, 2]));
    const x = floats([2, 2], [1, 2, 3, 4]);
    expect(await failure(m.run([x], { slot: 0 }))).toBe('ERR Expected 2 inputs but got 1');
    expect(await failure(m.run([x, tensor('INT32', [2, 2], [1, 2, 3, 4])], { slot: 0 }))).toBe("ERR TFLITE model input 'b' expects FLOAT, got INT32");
    expect(await failure(m.run([x, floats([5], [1, 2, 3, 4, 5])], { slot: 0 }))).toBe(
      "ERR TFLITE model input 'b' has shape [2, 2] and cannot take a tensor of shape [5]",
    );
    // Same rank, other shape: the input is resized and ADD itself refuses the mismatch.
    expect(await failure(m.run([x, floats([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])], { slot: 0 }))).toMatch(/^ERR .*ADD.*/);
    // Same element count, other shape: fed as the declared shape.
    const [c] = await m.run([x, floats([4], [1, 1, 1, 1])], { slot: 0 });
    expect(c!.shape).toEqual([2, 2]);
    expect(c!.values()).toEqual([2, 3, 4, 5]);
    await m.dispose();
  });

  it('MODEL_EXECUTION_TIMEOUT stops a run by replacing its worker, which reloads the model', async () => {
    // Two 512 x 512 layers on a batch of 64: 33M multiply-adds, far beyond 1 ms on any CPU.
    const layer = () => ({ weights: new Float32Array(512 * 512).fill(0.001), bias: new Float32Array(512), out: 512 });
    const heavy = mlpModel([layer(), layer()], 512, 64);
    const b = newBackend({ modelExecutionTimeoutMs: 1, threadsPerQueue: 1 });
    const m = await load(heavy, 0, b);
    const x = Tensor.fromBlob('FLOAT', [64, 512], Buffer.alloc(64 * 512 * 4));
    const timedOut = 'ERR TFLITE model run exceeded MODEL_EXECUTION_TIMEOUT (1 ms)';
    expect(await failure(m.run([x], { slot: 0 }))).toBe(timedOut);
    // The same text again proves the new worker holds the model (else: not loaded in this worker).
    expect(await failure(m.run([x], { slot: 0 }))).toBe(timedOut);
    await m.dispose();
  }, 60_000);

  it('BACKEND_MEMORY_LIMIT counts model bytes times THREADS_PER_QUEUE', async () => {
    const b = newBackend({ backendMemoryLimitMb: 1, threadsPerQueue: 2 });
    const big = denseClassifier(
      Array.from({ length: 200 }, (_, i) => Array.from({ length: 700 }, (_, j) => ((i * 7 + j) % 13) / 13)),
      new Array<number>(200).fill(0),
    );
    expect(await failure(load(big, 0, b))).toBe(
      'ERR BACKEND_MEMORY_LIMIT (1 MB) exceeded: TFLITE models would hold at least 2 MB (model bytes x THREADS_PER_QUEUE)',
    );
  });
});

describe('feedDims', () => {
  const spec = (dims: number[]) => ({ name: 'x', dtype: 'FLOAT' as const, dims, scale: 0, zeroPoint: 0 });
  it('keeps the declared shape for as many elements, resizes otherwise', () => {
    expect(feedDims(spec([1, 28, 28]), [1, 1, 28, 28])).toEqual([1, 28, 28]);
    expect(feedDims(spec([1, 28, 28]), [4, 28, 28])).toEqual([4, 28, 28]);
    expect(feedDims(spec([1, 28, 28]), [4, 1, 28, 28])).toEqual([4, 28, 28]);
    expect(feedDims(spec([1, 28, 28]), [4, 784])).toEqual([4, 28, 28]);
    expect(feedDims(spec([]), [])).toEqual([]);
    expect(() => feedDims(spec([1, 3]), [2, 2, 2, 1, 1])).toThrow("ERR TFLITE model input 'x' has shape [1, 3] and cannot take a tensor of shape [2, 2, 2, 1, 1]");
  });
});
