import { encodeModel, matmulChainModel, OnnxType } from '@respai/backend-onnx/testing';

/** Model fixtures shared by scenarios, built with the project's own writers, weights fixed by a seed. */

/** mulberry32: a small seeded PRNG, uniform in [0, 1). The same seed gives the same weights everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` weights uniform in [-scale, scale), from `seed`. */
export function randomWeights(n: number, seed: number, scale: number): Float32Array {
  const r = seededRandom(seed);
  return new Float32Array(n).map(() => (r() * 2 - 1) * scale);
}

const raw = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** What a scenario feeds a single-input model: its input's name, shape and one sample. */
export interface OnnxFixture {
  readonly name: string;
  readonly blob: Buffer;
  readonly dims: number[];
  readonly data: Float32Array;
  /** Floats in one output row (the output is [N, outWidth]). */
  readonly outWidth: number;
  readonly source: string;
}

/**
 * MNIST-sized MLP with a symbolic batch dimension: x [N,784] -> MatMul W1 [784,hidden] + b1, Relu,
 * MatMul W2 [hidden,10] + b2 -> y [N,10]. Weights uniform random from `seed` (fixed).
 */
export function onnxMlp(hidden = 128, seed = 1): Buffer {
  const w1 = randomWeights(784 * hidden, seed, 1 / Math.sqrt(784));
  const b1 = randomWeights(hidden, seed + 1, 0.1);
  const w2 = randomWeights(hidden * 10, seed + 2, 1 / Math.sqrt(hidden));
  const b2 = randomWeights(10, seed + 3, 0.1);
  return encodeModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
      { op: 'Relu', inputs: ['hb'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'W2'], outputs: ['o'] },
      { op: 'Add', inputs: ['o', 'b2'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: ['N', 784] } }],
    outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: ['N', 10] } }],
    initializers: [
      { name: 'W1', type: OnnxType.FLOAT, dims: [784, hidden], raw: raw(w1) },
      { name: 'b1', type: OnnxType.FLOAT, dims: [hidden], raw: raw(b1) },
      { name: 'W2', type: OnnxType.FLOAT, dims: [hidden, 10], raw: raw(w2) },
      { name: 'b2', type: OnnxType.FLOAT, dims: [10], raw: raw(b2) },
    ],
  });
}

/** A pseudo-random 28x28 "image" in [0, 1), one sample ([1,784]). */
export function mnistSample(seed = 42): Float32Array {
  const r = seededRandom(seed);
  return new Float32Array(784).map(() => r());
}

/** The ONNX fixtures of the dag scenario: tiny (per-run cost) and mnist (the MLP above). */
export function onnxFixture(name: string): OnnxFixture {
  if (name === 'tiny') {
    return {
      name,
      blob: matmulChainModel(8, 1),
      dims: [1, 8],
      data: new Float32Array(8).fill(1),
      outWidth: 8,
      source: 'generated: x[N,8] @ W[8,8], Relu (fed [1,8])',
    };
  }
  if (name === 'mnist') {
    return {
      name,
      blob: onnxMlp(),
      dims: [1, 784],
      data: mnistSample(),
      outWidth: 10,
      source: 'generated MLP x[N,784] -> 128 (Relu) -> 10, seeded random weights (fed [1,784])',
    };
  }
  throw new Error(`unknown model ${name} (tiny, mnist)`);
}

/** The bytes of a Float32Array, for BLOB arguments. */
export function blobOf(d: Float32Array): Buffer {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}
