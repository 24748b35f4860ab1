import { attr, GraphDefWriter } from './graphdef-writer.js';
import * as ref from './reference.js';

/**
 * The test and benchmark models, as a Keras or MobileNet export would freeze them, each with its
 * reference forward pass (./reference.ts) computed from the same weights.
 */

export interface TestModel {
  readonly blob: Buffer;
  readonly inputs: string[];
  readonly outputs: string[];
  /** The input shape the tests feed. */
  readonly inputShape: number[];
  readonly reference: (x: Float32Array, shape: readonly number[]) => ref.Arr;
}

const F = attr.type('FLOAT');

/**
 * MNIST-sized dense network: `input` declared [-1,28,28], Reshape to [-1,784], then
 * MatMul+BiasAdd+Relu (128) and MatMul+BiasAdd+Softmax (10) named `output`.
 */
export function mlpModel(hidden = 128, seed = 1): TestModel {
  const g = new GraphDefWriter();
  const w1 = ref.randoms(784 * hidden, seed, 0.05);
  const b1 = ref.randoms(hidden, seed + 1, 0.1);
  const w2 = ref.randoms(hidden * 10, seed + 2, 0.2);
  const b2 = ref.randoms(10, seed + 3, 0.1);
  const x = g.placeholder('input', 'FLOAT', [-1, 28, 28]);
  const shape = g.const('flatten/Const', { dtype: 'INT32', shape: [2], values: [-1, 784] });
  const flat = g.node('flatten/Reshape', 'Reshape', [x, shape], { T: F, Tshape: attr.type('INT32') });
  g.const('dense/kernel', { dtype: 'FLOAT', shape: [784, hidden], values: w1 });
  g.const('dense/bias', { dtype: 'FLOAT', shape: [hidden], values: b1 });
  g.node('dense/MatMul', 'MatMul', [flat, 'dense/kernel'], { T: F, transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
  g.node('dense/BiasAdd', 'BiasAdd', ['dense/MatMul', 'dense/bias'], { T: F, data_format: attr.str('NHWC') });
  g.node('dense/Relu', 'Relu', ['dense/BiasAdd'], { T: F });
  g.const('dense_1/kernel', { dtype: 'FLOAT', shape: [hidden, 10], values: w2 });
  // The typed float_val encoding, as small constants are often written.
  g.const('dense_1/bias', { dtype: 'FLOAT', shape: [10], values: b2, encoding: 'values' });
  g.node('dense_1/MatMul', 'MatMul', ['dense/Relu', 'dense_1/kernel'], { T: F, transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
  g.node('dense_1/BiasAdd', 'BiasAdd', ['dense_1/MatMul', 'dense_1/bias'], { T: F });
  g.node('output', 'Softmax', ['dense_1/BiasAdd'], { T: F });
  return {
    blob: g.toBuffer(),
    inputs: ['input'],
    outputs: ['output'],
    inputShape: [1, 28, 28],
    reference: (xs, shape) => {
      const flatX = ref.reshape(ref.arr(shape, xs), [-1, 784]);
      const h = ref.relu(ref.biasAdd(ref.matMul(flatX, ref.arr([784, hidden], w1)), ref.arr([hidden], b1)));
      return ref.softmax(ref.biasAdd(ref.matMul(h, ref.arr([hidden, 10], w2)), ref.arr([10], b2)));
    },
  };
}

/**
 * A small MobileNet-style convnet on 12x12x3 images fed flat ([-1,432], Reshape by an INT64 shape
 * constant): Conv2D 3x3/2 + BiasAdd + FusedBatchNormV3 + Relu6, DepthwiseConv2dNative 3x3 +
 * FusedBatchNormV3 + Relu6, pointwise Conv2D 1x1 + FusedBatchNormV3 + Relu6, AvgPool 6x6,
 * Squeeze, MatMul + BiasAdd + Softmax (`probs`).
 */
export function convnetModel(size = 12, seed = 7): TestModel {
  const g = new GraphDefWriter();
  const eps = 1e-3;
  const c1 = 8;
  const c2 = 16;
  const after = Math.ceil(size / 2);
  const rnd = (n: number, s: number, scale: number) => ref.randoms(n, seed * 100 + s, scale);
  const pos = (n: number, s: number) => rnd(n, s, 0.4).map((v) => v + 0.6);
  const W = {
    k1: rnd(3 * 3 * 3 * c1, 1, 0.3),
    b1: rnd(c1, 2, 0.1),
    dw: rnd(3 * 3 * c1, 3, 0.3),
    pw: rnd(c1 * c2, 4, 0.3),
    fc: rnd(c2 * 10, 5, 0.5),
    fb: rnd(10, 6, 0.1),
  };
  const bn = (s: number, c: number) => ({ scale: pos(c, s), offset: rnd(c, s + 1, 0.2), mean: rnd(c, s + 2, 0.2), variance: pos(c, s + 3) });
  const bns = [bn(10, c1), bn(20, c1), bn(30, c2)];

  const x = g.placeholder('image', 'FLOAT', [-1, size * size * 3]);
  g.const('reshape/shape', { dtype: 'INT64', shape: [4], values: [-1n, BigInt(size), BigInt(size), 3n] });
  g.node('reshape', 'Reshape', [x, 'reshape/shape'], { T: F, Tshape: attr.type('INT64') });
  const convAttrs = (stride: number, padding: string) => ({
    T: F,
    strides: attr.ints([1, stride, stride, 1]),
    padding: attr.str(padding),
    data_format: attr.str('NHWC'),
    dilations: attr.ints([1, 1, 1, 1]),
  });
  const batchNorm = (name: string, input: string, i: number, c: number) => {
    const p = bns[i]!;
    for (const k of ['scale', 'offset', 'mean', 'variance'] as const) g.const(`${name}/${k}`, { dtype: 'FLOAT', shape: [c], values: p[k] });
    g.node(name, 'FusedBatchNormV3', [input, `${name}/scale`, `${name}/offset`, `${name}/mean`, `${name}/variance`], {
      T: F,
      U: F,
      epsilon: attr.float(eps),
      data_format: attr.str('NHWC'),
      is_training: attr.bool(false),
      exponential_avg_factor: attr.float(1),
    });
    return g.node(`${name}/relu6`, 'Relu6', [name], { T: F });
  };
  g.const('conv1/kernel', { dtype: 'FLOAT', shape: [3, 3, 3, c1], values: W.k1 });
  g.node('conv1', 'Conv2D', ['reshape', 'conv1/kernel'], { ...convAttrs(2, 'SAME'), use_cudnn_on_gpu: attr.bool(true) });
  g.const('conv1/bias', { dtype: 'FLOAT', shape: [c1], values: W.b1 });
  g.node('conv1/BiasAdd', 'BiasAdd', ['conv1', 'conv1/bias'], { T: F, data_format: attr.str('NHWC') });
  const a1 = batchNorm('bn1', 'conv1/BiasAdd', 0, c1);
  g.const('dw/kernel', { dtype: 'FLOAT', shape: [3, 3, c1, 1], values: W.dw });
  g.node('dw', 'DepthwiseConv2dNative', [a1, 'dw/kernel'], convAttrs(1, 'SAME'));
  const a2 = batchNorm('bn2', 'dw', 1, c1);
  g.const('pw/kernel', { dtype: 'FLOAT', shape: [1, 1, c1, c2], values: W.pw });
  g.node('pw', 'Conv2D', [a2, 'pw/kernel'], convAttrs(1, 'VALID'));
  const a3 = batchNorm('bn3', 'pw', 2, c2);
  g.node('pool', 'AvgPool', [a3], {
    T: F,
    ksize: attr.ints([1, after, after, 1]),
    strides: attr.ints([1, 1, 1, 1]),
    padding: attr.str('VALID'),
    data_format: attr.str('NHWC'),
  });
  g.node('squeeze', 'Squeeze', ['pool'], { T: F, squeeze_dims: attr.ints([1, 2]) });
  g.const('fc/kernel', { dtype: 'FLOAT', shape: [c2, 10], values: W.fc });
  g.node('fc', 'MatMul', ['squeeze', 'fc/kernel'], { T: F, transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
  g.const('fc/bias', { dtype: 'FLOAT', shape: [10], values: W.fb });
  g.node('fc/BiasAdd', 'BiasAdd', ['fc', 'fc/bias'], { T: F });
  g.node('probs', 'Softmax', ['fc/BiasAdd'], { T: F });

  return {
    blob: g.toBuffer(),
    inputs: ['image'],
    outputs: ['probs'],
    inputShape: [1, size * size * 3],
    reference: (xs, shape) => {
      const bnr = (v: ref.Arr, i: number, c: number) => {
        const p = bns[i]!;
        return ref.relu6(ref.batchNorm(v, ref.arr([c], p.scale), ref.arr([c], p.offset), ref.arr([c], p.mean), ref.arr([c], p.variance), eps));
      };
      let v = ref.reshape(ref.arr(shape, xs), [-1, size, size, 3]);
      v = ref.biasAdd(ref.conv2d(v, ref.arr([3, 3, 3, c1], W.k1), 2, 'SAME'), ref.arr([c1], W.b1));
      v = bnr(v, 0, c1);
      v = bnr(ref.depthwiseConv2d(v, ref.arr([3, 3, c1, 1], W.dw), 1, 'SAME'), 1, c1);
      v = bnr(ref.conv2d(v, ref.arr([1, 1, c1, c2], W.pw), 1, 'VALID'), 2, c2);
      v = ref.squeeze(ref.avgPool(v, after, 1, 'VALID'), [1, 2]);
      return ref.softmax(ref.biasAdd(ref.matMul(v, ref.arr([c2, 10], W.fc)), ref.arr([10], W.fb)));
    },
  };
}

/** graph.pb's shape: placeholders `a`, `b` of unknown rank, `mul` = a*b, `c` = Identity(mul). */
export function mulModel(): Buffer {
  const g = new GraphDefWriter();
  g.placeholder('a', 'FLOAT');
  g.placeholder('b', 'FLOAT');
  g.node('mul', 'Mul', ['a', 'b'], { T: F });
  g.node('c', 'Identity', ['mul'], { T: F });
  return g.toBuffer();
}

/**
 * A TF2-style counting loop: StatelessWhile over (i, n, acc) with `cond` and `body` functions;
 * `acc` doubles n times. Outputs `loop:0` (= n) and `loop:2` (= x * 2^n).
 */
export function whileModel(): Buffer {
  const g = new GraphDefWriter();
  const I = attr.type('INT32');
  g.placeholder('n', 'INT32', []);
  g.placeholder('x', 'FLOAT');
  g.const('i0', { dtype: 'INT32', shape: [], values: [0] });
  const args = [
    { name: 'i', dtype: 'INT32' },
    { name: 'n', dtype: 'INT32' },
    { name: 'acc', dtype: 'FLOAT' },
  ] as const;
  g.function({
    name: 'cond',
    inputs: args,
    outputs: [{ name: 'r', dtype: 'BOOL' }],
    nodes: [{ name: 'less', op: 'Less', inputs: ['i', 'n'], attrs: { T: I } }],
    ret: { r: 'less:z:0' },
  });
  g.function({
    name: 'body',
    inputs: args,
    outputs: [
      { name: 'i_next', dtype: 'INT32' },
      { name: 'n_same', dtype: 'INT32' },
      { name: 'acc_next', dtype: 'FLOAT' },
    ],
    nodes: [
      { name: 'one', op: 'Const', attrs: { dtype: I, value: attr.tensor({ dtype: 'INT32', shape: [], values: [1] }) } },
      { name: 'inc', op: 'AddV2', inputs: ['i', 'one:output:0'], attrs: { T: I } },
      { name: 'dbl', op: 'AddV2', inputs: ['acc', 'acc'], attrs: { T: F } },
      { name: 'nid', op: 'Identity', inputs: ['n'], attrs: { T: I } },
    ],
    ret: { i_next: 'inc:z:0', n_same: 'nid:output:0', acc_next: 'dbl:z:0' },
  });
  g.node('loop', 'StatelessWhile', ['i0', 'n', 'x'], {
    T: attr.types(['INT32', 'INT32', 'FLOAT']),
    cond: attr.func('cond'),
    body: attr.func('body'),
  });
  return g.toBuffer();
}
