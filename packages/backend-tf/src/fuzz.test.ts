// Fuzzing the TF backend as the server runs it: damaged GraphDefs (protobuf-aware damage that still
// parses, and raw byte damage) loaded by tfjs in its worker threads. Each mutant must load or be
// refused with an Error; loaded ones run once and answer or fail cleanly. tfjs is JavaScript and
// WebAssembly, so a mutant cannot crash the process natively; what this guards against is a hang,
// a thrown non-Error, or memory that is kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, type Backend, type Device } from '@respai/core';
import { ensureBuilt, fuzzModelLoads, memoryLogger, packageDir } from '@respai/core/testing';
import { createTfBackend } from './index.js';
import { convnetModel, mlpModel, mulModel, whileModel } from './testing/models.js';

const MUTANTS = Number(process.env.RESPAI_FUZZ_TF ?? 1500);
const SEED = Number(process.env.RESPAI_FUZZ_SEED ?? 20);
const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };

const f32 = (shape: number[], v = 0.5) => Tensor.fromBlob('FLOAT', shape, Buffer.from(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v).buffer));
const i32 = (v: number) => Tensor.fromBlob('INT32', [], Buffer.from(new Int32Array([v]).buffer));

/** Graphs with their INPUTS/OUTPUTS names and inputs to run them on. */
const BASES: { blob: Buffer; inputs: string[]; outputs: string[]; feed: Tensor[] }[] = [
  { blob: mulModel(), inputs: ['a', 'b'], outputs: ['c'], feed: [f32([2]), f32([2])] },
  { blob: whileModel(), inputs: ['n', 'x'], outputs: ['loop:0', 'loop:2'], feed: [i32(3), f32([2])] },
  { blob: mlpModel(8).blob, inputs: ['input'], outputs: ['output'], feed: [f32([1, 28, 28])] },
  { blob: convnetModel(6).blob, inputs: ['image'], outputs: ['probs'], feed: [f32([1, 6 * 6 * 3])] },
];

let tf: Backend;
beforeAll(async () => {
  ensureBuilt(packageDir('backend-tf'));
  tf = createTfBackend();
  tf.init!({ intraOpParallelism: 0, interOpParallelism: 0, modelExecutionTimeoutMs: 10_000, backendMemoryLimitMb: 0, threadsPerQueue: 1, log: memoryLogger() });
  await (await tf.loadModel({ blob: BASES[0]!.blob, device: CPU, inputs: ['a', 'b'], outputs: ['c'], batchSize: 0 })).dispose();
}, 60_000);
afterAll(() => tf.dispose!());

describe('damaged TF GraphDefs', { timeout: 180_000 }, () => {
  it('the undamaged graphs load and run', async () => {
    for (const base of BASES) {
      const m = await tf.loadModel({ blob: base.blob, device: CPU, inputs: base.inputs, outputs: base.outputs, batchSize: 0 });
      expect((await m.run(base.feed, { slot: 0 })).length).toBe(base.outputs.length);
      await m.dispose();
    }
  });

  it(`${MUTANTS} mutants (seed ${SEED}): each loads or is refused; loaded ones run or fail cleanly`, async () => {
    const counts = await fuzzModelLoads({
      name: 'tf',
      mutants: MUTANTS,
      seed: SEED,
      mix: 0x165667b1,
      bases: BASES,
      blobOf: (b) => b.blob,
      load: (blob, b) => tf.loadModel({ blob, device: CPU, inputs: b.inputs, outputs: b.outputs, batchSize: 0 }),
      inputs: (_, b) => b.feed,
    });
    expect(counts.refused ?? 0).toBeGreaterThan(MUTANTS / 10);
    // Still serving.
    const ok = await tf.loadModel({ blob: BASES[0]!.blob, device: CPU, inputs: ['a', 'b'], outputs: ['c'], batchSize: 0 });
    const [y] = await ok.run([f32([2], 2), f32([2], 3)], { slot: 0 });
    expect([...new Float32Array(y!.data.buffer, y!.data.byteOffset, 2)]).toEqual([6, 6]);
  });
});
