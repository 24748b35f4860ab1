// Fuzzing the ONNX backend as the server runs it: damaged ONNX protobufs loaded by onnxruntime in
// its worker threads. A native crash in a worker would end this whole process (and fail the file),
// as it would end the server: each mutant must load, or be refused with an Error. Loaded mutants run
// once on zeros and must answer or fail cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, parseDevice, type DType, type LoadedModel } from '@respai/core';
import { ensureBuilt, fuzzModelLoads, packageDir } from '@respai/core/testing';
import { createOnnxBackend, type OnnxBackend } from './index.js';
import { OnnxType, binaryModel, encodeModel, matmulChainModel } from './testing/onnx-writer.js';

const MUTANTS = Number(process.env.RESPAI_FUZZ_ONNX ?? 1500);
const SEED = Number(process.env.RESPAI_FUZZ_SEED ?? 20);

let backend: OnnxBackend;
beforeAll(() => {
  ensureBuilt(packageDir('backend-onnx'));
  backend = createOnnxBackend();
  backend.init({ intraOpParallelism: 1, interOpParallelism: 0, modelExecutionTimeoutMs: 10_000, backendMemoryLimitMb: 0, threadsPerQueue: 1, log: { debug() {}, info() {}, warn() {} } });
}, 120_000);
afterAll(() => backend.dispose());

const int64s = (xs: number[]) => new Uint8Array(new BigInt64Array(xs.map(BigInt)).buffer);

/** Models with attributes, initializers and shape arithmetic: more of onnxruntime to reach. */
const BASES: Buffer[] = [
  binaryModel('Add', OnnxType.FLOAT, ['N', 3], ['N', 3], ['N', 3]),
  matmulChainModel(4, 3),
  encodeModel({
    nodes: [
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['t'], attrs: { perm: { ints: [1, 0] } } },
      { op: 'Gather', inputs: ['t', 'idx'], outputs: ['g'], attrs: { axis: 1 } },
      { op: 'Concat', inputs: ['g', 'g'], outputs: ['c'], attrs: { axis: 1 } },
      { op: 'Softmax', inputs: ['c'], outputs: ['y'], attrs: { axis: -1 } },
    ],
    inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [2, 3] } }],
    outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [2, 4] } }],
    initializers: [
      { name: 'shape', type: OnnxType.INT64, dims: [2], raw: int64s([3, 2]) },
      { name: 'idx', type: OnnxType.INT64, dims: [2], raw: int64s([0, 2]) },
    ],
  }),
  encodeModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { kernel_shape: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, strides: { ints: [1, 1] } } },
      { op: 'MaxPool', inputs: ['c'], outputs: ['p'], attrs: { kernel_shape: { ints: [2, 2] } } },
      { op: 'Flatten', inputs: ['p'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [1, 1, 4, 4] } }],
    outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT } }],
    initializers: [{ name: 'w', type: OnnxType.FLOAT, dims: [2, 1, 2, 2], floats: [1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5] }],
  }),
];

const load = (blob: Buffer): Promise<LoadedModel> => backend.loadModel({ blob, device: parseDevice('CPU'), inputs: [], outputs: [], batchSize: 0 });

/** Zeros for each input as declared (free dims 1), unless that would be large. */
function zerosFor(m: LoadedModel): Tensor[] | undefined {
  const out: Tensor[] = [];
  for (const spec of m.inputs) {
    const dtype: DType | undefined = spec.dtype;
    if (dtype === undefined || dtype === 'STRING') return undefined;
    const shape = (spec.shape ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > 1 << 16) return undefined;
    out.push(Tensor.fromBlob(dtype, shape, Buffer.alloc(n * ({ FLOAT: 4, DOUBLE: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, UINT8: 1, UINT16: 2, BOOL: 1 } as const)[dtype])));
  }
  return out;
}

describe('damaged ONNX models', { timeout: 180_000 }, () => {
  it('the undamaged models load and run', async () => {
    for (const base of BASES) {
      const m = await load(base);
      expect((await m.run(zerosFor(m)!, { slot: 0 })).length).toBe(1);
      await m.dispose();
    }
  });

  it(`${MUTANTS} mutants (seed ${SEED}): each loads or is refused; loaded ones run or fail cleanly`, async () => {
    const counts = await fuzzModelLoads({
      name: 'onnx',
      mutants: MUTANTS,
      seed: SEED,
      mix: 0x27d4eb2d,
      bases: BASES,
      blobOf: (b) => b,
      load: (blob) => load(blob),
      inputs: (m) => zerosFor(m),
    });
    expect(counts.refused ?? 0).toBeGreaterThan(MUTANTS / 10);
    expect(counts.ran ?? 0).toBeGreaterThan(MUTANTS / 20);
    // Still serving.
    const ok = await load(BASES[0]!);
    const x = Tensor.fromBlob('FLOAT', [1, 3], Buffer.from(new Float32Array([1, 2, 3]).buffer));
    const [y] = await ok.run([x, x], { slot: 0 });
    expect([...new Float32Array(y!.data.buffer, y!.data.byteOffset, 3)]).toEqual([2, 4, 6]);
  });
});
