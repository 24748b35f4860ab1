import { readFileSync } from 'node:fs';
import { BACKEND_API_VERSION, E, errorText, Tensor, type Backend, type BackendSettings, type Device, type ModelLoadRequest } from '@respai/core';
import { ensureBuilt, floats, itShared, memoryLogger, packageDir, sharedPath, tensor } from '@respai/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import defaultBackend, { createTfBackend } from './index.js';
import { attr, GraphDefWriter } from './testing/graphdef-writer.js';
import { mlpModel, mulModel, whileModel } from './testing/models.js';
import { randoms } from './testing/reference.js';

const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };
const settings = (over: Partial<BackendSettings> = {}): BackendSettings => ({
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 0,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 2,
  log: memoryLogger(),
  ...over,
});
const request = (blob: Buffer, inputs: string[], outputs: string[]): ModelLoadRequest => ({ blob, device: CPU, inputs, outputs, batchSize: 0 });

/** The reply a rejected promise becomes. */
async function reply(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return errorText(e);
  }
  throw new Error('it resolved');
}

let tf: Backend;
// Starting a worker imports tfjs (seconds on a busy machine): start both before the timed tests.
beforeAll(async () => {
  ensureBuilt(packageDir('backend-tf'));
  tf = createTfBackend();
  tf.init!(settings());
  const warm = await tf.loadModel(request(mulModel(), ['a', 'b'], ['mul']));
  await warm.dispose();
}, 60_000);
afterAll(() => tf.dispose!());

describe('the backend object', () => {
  it('is the TF backend of this API version', () => {
    expect(defaultBackend.name).toBe('TF');
    expect(defaultBackend.apiVersion).toBe(BACKEND_API_VERSION);
    expect(defaultBackend.version).toBe('4.22.0');
  });

  it('supports CPU devices only (the engine then replies: GPU requested but TF has no GPU support here)', () => {
    expect(tf.supportsDevice(CPU)).toBe(true);
    expect(tf.supportsDevice({ type: 'CPU', index: 1, name: 'CPU:1' })).toBe(true);
    expect(tf.supportsDevice({ type: 'GPU', index: undefined, name: 'GPU' })).toBe(false);
    expect(tf.supportsDevice({ type: 'GPU', index: 0, name: 'GPU:0' })).toBe(false);
    expect(E.noGpu('TF')).toBe('ERR GPU requested but TF has no GPU support here');
  });
});

describe('models in worker threads', () => {
  itShared('runs the real graph.pb: a*b', ['models/graph.pb'], async () => {
    const m = await tf.loadModel(request(readFileSync(sharedPath('models/graph.pb')), ['a', 'b'], ['mul']));
    expect(m.inputs).toEqual([
      { name: 'a', dtype: 'FLOAT' },
      { name: 'b', dtype: 'FLOAT' },
    ]);
    expect(m.outputs).toEqual([{ name: 'mul', dtype: 'FLOAT' }]);
    const x = floats([2, 2], [2, 3, 2, 3]);
    const [out] = await m.run([x, x], { slot: 0 });
    expect(out!.dtype).toBe('FLOAT');
    expect(out!.shape).toEqual([2, 2]);
    expect(out!.values()).toEqual([4, 9, 4, 9]);
    await m.dispose();
  });

  it('runs the MLP on both slots, matching the reference', async () => {
    const mlp = mlpModel();
    const m = await tf.loadModel(request(mlp.blob, mlp.inputs, mlp.outputs));
    expect(m.inputs).toEqual([{ name: 'input', dtype: 'FLOAT', shape: [-1, 28, 28] }]);
    const x = randoms(784, 5);
    const want = mlp.reference(x, [1, 1, 28, 28]);
    // FLOAT 1 1 28 28 into the [-1,28,28] placeholder: not shape-checked.
    const input = Tensor.fromBlob('FLOAT', [1, 1, 28, 28], Buffer.from(x.buffer));
    const outs = await Promise.all([0, 1, 0, 1].map((slot) => m.run([input], { slot })));
    for (const [out] of outs) {
      expect(out!.shape).toEqual([1, 10]);
      (out!.values() as number[]).forEach((v, i) => expect(Math.abs(v - want.data[i]!)).toBeLessThan(1e-4));
    }
    await m.dispose();
  });

  it('int64 results come back as INT64; out-of-range int64 inputs are refused', async () => {
    const g = mulInt64();
    const m = await tf.loadModel(request(g, ['x'], ['y']));
    expect(m.outputs).toEqual([{ name: 'y', dtype: 'INT64' }]);
    const [out] = await m.run([tensor('INT64', [2], [3n, -4n])], { slot: 1 });
    expect(out!.dtype).toBe('INT64');
    expect(out!.values()).toEqual([9n, 16n]);
    expect(await reply(m.run([tensor('INT64', [1], [1n << 32n])], { slot: 1 }))).toBe(
      'ERR Input node "x": INT64 value 4294967296 at index 0 does not fit in int32, the widest integer tfjs computes in',
    );
    await m.dispose();
  });

  it('refuses runs with a wrong input count or dtype', async () => {
    const m = await tf.loadModel(request(mulModel(), ['a', 'b'], ['mul']));
    const x = floats([1], [1]);
    expect(await reply(m.run([x], { slot: 0 }))).toBe('ERR the TF model takes 2 inputs, got 1');
    expect(await reply(m.run([x, tensor('INT32', [1], [1])], { slot: 0 }))).toBe('ERR Input node "b" of the TF graph expects FLOAT, got INT32');
    await m.dispose();
    expect(await reply(m.run([x, x], { slot: 0 }))).toBe('ERR the TF model was disposed');
  });
});

describe('load errors keep their exact texts across the thread hop', () => {
  it('unknown node names', async () => {
    expect(await reply(tf.loadModel(request(mulModel(), ['a', 'nope'], ['mul'])))).toBe('ERR Input node named "nope" not found in TF graph.');
    expect(await reply(tf.loadModel(request(mulModel(), ['a', 'b'], ['nope:0'])))).toBe('ERR Output node named "nope:0" not found in TF graph');
  });

  it('a model without INPUTS and OUTPUTS (the original\'s encoding version 0) loads, and refuses to run', async () => {
    const m = await tf.loadModel(request(mulModel(), [], []));
    expect([m.inputs, m.outputs]).toEqual([[], []]);
    const x = Tensor.fromValues('FLOAT', [1], [Buffer.from('1')]);
    expect(await reply(m.run([x], { slot: 0 }))).toMatch(/takes 0 inputs, got 1/);
    await m.dispose();
  });

  it('an unsupported op is listed', async () => {
    const blob = Buffer.from(mulModel().toString('latin1').replace('Identity', 'Identiti'), 'latin1');
    expect(await reply(tf.loadModel(request(blob, ['a', 'b'], ['c'])))).toBe(
      'ERR TF graph uses ops the TF backend (tfjs-converter 4.22.0) cannot run: Identiti (node "c")',
    );
  });

  /** A backend whose log the test reads. */
  async function withLog(run: (b: Backend, log: ReturnType<typeof memoryLogger>) => Promise<void>): Promise<void> {
    const log = memoryLogger();
    const b = createTfBackend();
    b.init!(settings({ log, threadsPerQueue: 1 }));
    try {
      await run(b, log);
    } finally {
      await b.dispose!();
    }
  }

  itShared("an ONNX model: exactly TensorFlow's text to the client, what it seems to be in the log", ['models/mnist.onnx'], async () => {
    await withLog(async (b, log) => {
      expect(await reply(b.loadModel(request(readFileSync(sharedPath('models/mnist.onnx')), ['Input3'], ['Plus214_Output_0'])))).toBe('ERR Invalid GraphDef');
      expect(log.entries).toContainEqual({
        level: 'debug',
        msg: 'TF model refused',
        fields: { reason: 'Invalid GraphDef: this is an ONNX model (use the ONNX backend); the TF backend runs frozen TensorFlow GraphDefs (a binary GraphDef .pb)' },
      });
    });
  });

  it('garbage bytes, a truncated GraphDef: exactly ERR Invalid GraphDef', async () => {
    await withLog(async (b, log) => {
      expect(await reply(b.loadModel(request(Buffer.from('not a model at all, just text'), ['a'], ['b'])))).toBe('ERR Invalid GraphDef');
      const mlp = mlpModel(16);
      expect(await reply(b.loadModel(request(mlp.blob.subarray(0, Math.floor(mlp.blob.length * 0.99)), mlp.inputs, mlp.outputs)))).toBe('ERR Invalid GraphDef');
      expect(log.entries.filter((e) => e.msg === 'TF model refused')).toHaveLength(2);
    });
  });
});

describe('MODEL_EXECUTION_TIMEOUT', () => {
  it('a run past it is answered with an error; the slot then reloads its models in a fresh worker', async () => {
    const b = createTfBackend();
    b.init!(settings({ modelExecutionTimeoutMs: 500, threadsPerQueue: 1 }));
    try {
      const m = await b.loadModel(request(whileModel(), ['n', 'x'], ['loop:2']));
      const run = (n: number) => m.run([tensor('INT32', [], [n]), floats([1], [1])], { slot: 0 });
      expect((await run(3))[0]!.values()).toEqual([8]);
      // Loop iterations cost ~0.02-1 ms each in tfjs: 100k take seconds on any machine, so the
      // limit is what answers. The retired worker finishes the loop before dispose can stop it
      // (workers are only terminated when idle), so more iterations only make the test slower.
      expect(await reply(run(100_000))).toBe('ERR TF model run exceeded MODEL_EXECUTION_TIMEOUT (500 ms)');
      expect((await run(4))[0]!.values()).toEqual([16]);
      await m.dispose();
    } finally {
      await b.dispose!();
    }
  }, 120_000);
});

/** y = x * x over INT64. */
function mulInt64(): Buffer {
  const g = new GraphDefWriter();
  g.placeholder('x', 'INT64', [-1]);
  g.node('y', 'Mul', ['x', 'x'], { T: attr.type('INT64') });
  return g.toBuffer();
}
