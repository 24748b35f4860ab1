import type { DType } from '@respai/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTf, liveTensors, loadModel, runModel, unloadModel, type WireTensor } from './runtime.js';
import { attr, GraphDefWriter, type TfType } from './testing/graphdef-writer.js';
import { convnetModel, mlpModel, mulModel, whileModel, type TestModel } from './testing/models.js';
import { randoms } from './testing/reference.js';

// tfjs in this test process (the backend runs the same code inside worker threads).
beforeAll(async () => {
  await initTf('wasm');
});

let nextId = 1;
async function load(blob: Uint8Array, inputs: string[], outputs: string[]) {
  const id = nextId++;
  const info = await loadModel(id, blob, inputs, outputs);
  return { id, info, run: (...ins: WireTensor[]) => runModel(id, ins) };
}

function wire(dtype: DType, shape: number[], values: ArrayLike<number> | bigint[] | string[]): WireTensor {
  let bytes: Uint8Array;
  switch (dtype) {
    case 'FLOAT':
      bytes = new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
      break;
    case 'DOUBLE':
      bytes = new Uint8Array(Float64Array.from(values as ArrayLike<number>).buffer);
      break;
    case 'INT64':
      bytes = new Uint8Array(BigInt64Array.from(values as bigint[]).buffer);
      break;
    case 'INT32':
      bytes = new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
      break;
    case 'INT16':
      bytes = new Uint8Array(Int16Array.from(values as ArrayLike<number>).buffer);
      break;
    case 'STRING':
      bytes = Buffer.from((values as string[]).map((s) => `${s}\0`).join(''));
      break;
    default:
      bytes = Uint8Array.from(values as ArrayLike<number>);
  }
  return { dtype, shape, data: new Uint8Array(bytes).buffer }; // a copy: Buffer#slice would be a view of the pool
}

function values(t: WireTensor): number[] | bigint[] | string[] {
  switch (t.dtype) {
    case 'FLOAT':
      return [...new Float32Array(t.data)];
    case 'DOUBLE':
      return [...new Float64Array(t.data)];
    case 'INT64':
      return [...new BigInt64Array(t.data)];
    case 'INT32':
      return [...new Int32Array(t.data)];
    case 'INT16':
      return [...new Int16Array(t.data)];
    case 'STRING':
      return Buffer.from(t.data).toString('latin1').split('\0').slice(0, -1);
    default:
      return [...new Uint8Array(t.data)];
  }
}

async function checkAgainstReference(m: TestModel, shape: number[]) {
  const { run } = await load(m.blob, m.inputs, m.outputs);
  const x = randoms(shape.reduce((a, b) => a * b, 1), 42);
  const [out] = await run(wire('FLOAT', shape, x));
  const want = m.reference(x, shape);
  expect(out!.shape).toEqual(want.shape);
  const got = new Float32Array(out!.data);
  for (let i = 0; i < want.data.length; i++) expect(Math.abs(got[i]! - want.data[i]!), `element ${i}`).toBeLessThan(1e-4);
}

describe('numerics against plain-loop references (tolerance 1e-4)', () => {
  it('Keras-style MLP (Reshape, MatMul, BiasAdd, Relu, Softmax), batch 3', () => checkAgainstReference(mlpModel(), [3, 28, 28]));

  it('MobileNet-style convnet (Conv2D, DepthwiseConv2dNative, FusedBatchNormV3, Relu6, AvgPool, Squeeze, ...), batch 2', () =>
    checkAgainstReference(convnetModel(), [2, 432]));

  it('placeholders are not shape-checked: FLOAT 1 1 28 28 into a [-1,28,28] placeholder that a Reshape follows', () =>
    checkAgainstReference(mlpModel(32), [1, 1, 28, 28]));
});

describe('graph.pb-like models', () => {
  it('a*b', async () => {
    const m = await load(mulModel(), ['a', 'b'], ['mul']);
    const [out] = await m.run(wire('FLOAT', [2, 2], [2, 3, 2, 3]), wire('FLOAT', [2, 2], [2, 3, 2, 3]));
    expect(out).toMatchObject({ dtype: 'FLOAT', shape: [2, 2] });
    expect(values(out!)).toEqual([4, 9, 4, 9]);
  });

  it('an input the graph never reads may have any shape', async () => {
    const g = new GraphDefWriter();
    g.placeholder('a', 'FLOAT', [2]);
    g.placeholder('unused', 'FLOAT', [5, 5]);
    g.node('y', 'Neg', ['a'], { T: attr.type('FLOAT') });
    const m = await load(g.toBuffer(), ['a', 'unused'], ['y']);
    const [out] = await m.run(wire('FLOAT', [2], [1, -2]), wire('FLOAT', [3, 1, 2], [1, 2, 3, 4, 5, 6]));
    expect(values(out!)).toEqual([-1, 2]);
  });

  it('outputs may be a Const (a weight, which must survive the run) or repeat', async () => {
    const g = new GraphDefWriter();
    g.placeholder('a', 'FLOAT');
    g.const('k', { dtype: 'FLOAT', shape: [2], values: [7, 8] });
    g.node('y', 'Mul', ['a', 'k'], { T: attr.type('FLOAT') });
    const m = await load(g.toBuffer(), ['a'], ['k', 'y', 'y:0']);
    for (let i = 0; i < 2; i++) {
      const out = await m.run(wire('FLOAT', [2], [1, 2]));
      expect(out.map(values)).toEqual([
        [7, 8],
        [7, 16],
        [7, 16],
      ]);
    }
  });

  it('a wrong input dtype is refused', async () => {
    const m = await load(mulModel(), ['a', 'b'], ['mul']);
    await expect(m.run(wire('INT32', [1], [1]), wire('FLOAT', [1], [1]))).rejects.toThrow('Input node "a" of the TF graph expects FLOAT, got INT32');
  });
});

/** x -> op(x, k) -> y, all of dtype `t`, with output `y` declared as `t`. */
function binary(t: TfType, op: string, k: { shape: number[]; values: number[] | bigint[] }) {
  const g = new GraphDefWriter();
  g.placeholder('x', t);
  g.const('k', { dtype: t, ...k });
  g.node('y', op, ['x', 'k'], { T: attr.type(t) });
  return g.toBuffer();
}

describe('dtypes tfjs lacks are converted with range checks', () => {
  it('INT64 in and out: narrowed to int32, reported as INT64', async () => {
    const m = await load(binary('INT64', 'AddV2', { shape: [1], values: [5n] }), ['x'], ['y']);
    expect(m.info.inputs[0]!.dtype).toBe('INT64');
    expect(m.info.outputs[0]!.dtype).toBe('INT64');
    const [out] = await m.run(wire('INT64', [3], [1n, -2n, 2147483642n]));
    expect(out!.dtype).toBe('INT64');
    expect(values(out!)).toEqual([6n, 3n, 2147483647n]);
  });

  it('an INT64 input beyond int32 is an error naming the value', async () => {
    const m = await load(binary('INT64', 'AddV2', { shape: [1], values: [5n] }), ['x'], ['y']);
    await expect(m.run(wire('INT64', [2], [1n, 2n ** 31n]))).rejects.toThrow(
      'Input node "x": INT64 value 2147483648 at index 1 does not fit in int32, the widest integer tfjs computes in',
    );
  });

  it('DOUBLE: computed in float32, reported as DOUBLE; beyond float32 is an error', async () => {
    const m = await load(binary('DOUBLE', 'Mul', { shape: [], values: [0.5] }), ['x'], ['y']);
    const [out] = await m.run(wire('DOUBLE', [2], [3, -1.5]));
    expect(out!.dtype).toBe('DOUBLE');
    expect(values(out!)).toEqual([1.5, -0.75]);
    await expect(m.run(wire('DOUBLE', [1], [1e300]))).rejects.toThrow('DOUBLE value 1e+300 at index 0 does not fit in float32');
  });

  it('UINT8 in, FLOAT math, UINT8 out: a result beyond 255 is an error, not a wrap', async () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'UINT8', [-1]);
    g.node('f', 'Cast', ['x'], { SrcT: attr.type('UINT8'), DstT: attr.type('FLOAT') });
    g.const('two', { dtype: 'FLOAT', shape: [], values: [2] });
    g.node('m', 'Mul', ['f', 'two'], { T: attr.type('FLOAT') });
    g.node('u8', 'Cast', ['m'], { SrcT: attr.type('FLOAT'), DstT: attr.type('UINT8') });
    const m = await load(g.toBuffer(), ['x'], ['u8', 'm']);
    expect(m.info.outputs.map((o) => o.dtype)).toEqual(['UINT8', 'FLOAT']);
    const ok = await m.run(wire('UINT8', [3], [0, 100, 127]));
    expect(ok.map(values)).toEqual([
      [0, 200, 254],
      [0, 200, 254],
    ]);
    await expect(m.run(wire('UINT8', [2], [1, 200]))).rejects.toThrow('Output node "u8": value 400 at index 1 does not fit in UINT8');
  });

  it('INT16 in and out', async () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'INT16');
    g.node('y', 'Neg', ['x'], { T: attr.type('INT16') });
    const m = await load(g.toBuffer(), ['x'], ['y']);
    expect(values((await m.run(wire('INT16', [2], [5, -32767])))[0]!)).toEqual([-5, 32767]);
    await expect(m.run(wire('INT16', [1], [-32768]))).rejects.toThrow('value 32768 at index 0 does not fit in INT16');
  });

  it('BOOL in and out', async () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'BOOL');
    g.node('y', 'LogicalNot', ['x']);
    const m = await load(g.toBuffer(), ['x'], ['y']);
    const [out] = await m.run(wire('BOOL', [3], [1, 0, 1]));
    expect(out!.dtype).toBe('BOOL');
    expect(values(out!)).toEqual([0, 1, 0]);
  });

  it('ArgMax reports its declared INT64', async () => {
    const g = new GraphDefWriter();
    g.placeholder('x', 'FLOAT');
    g.const('axis', { dtype: 'INT32', shape: [], values: [1] });
    g.node('am', 'ArgMax', ['x', 'axis'], { T: attr.type('FLOAT'), Tidx: attr.type('INT32'), output_type: attr.type('INT64') });
    const m = await load(g.toBuffer(), ['x'], ['am']);
    const [out] = await m.run(wire('FLOAT', [2, 3], [1, 5, 2, 9, 0, 3]));
    expect(out!.dtype).toBe('INT64');
    expect(values(out!)).toEqual([1n, 0n]);
  });

  it('STRING in and out', async () => {
    const g = new GraphDefWriter();
    g.placeholder('s', 'STRING');
    g.node('y', 'Identity', ['s'], { T: attr.type('STRING') });
    const m = await load(g.toBuffer(), ['s'], ['y']);
    expect(m.info.backend).toBe('cpu'); // wasm kernels cannot read strings
    const [out] = await m.run(wire('STRING', [2], ['hello', 'wörld']));
    expect(out!.dtype).toBe('STRING');
    expect(Buffer.from(out!.data).toString('utf8')).toBe('hello\0wörld\0');
  });
});

describe('control flow and functions (TF2 frozen graphs)', () => {
  it('StatelessIf calls its branch functions', async () => {
    const g = new GraphDefWriter();
    const F = attr.type('FLOAT');
    g.placeholder('p', 'BOOL', []);
    g.placeholder('x', 'FLOAT');
    const branch = (name: string, op: string, k: number) =>
      g.function({
        name,
        inputs: [{ name: 'a', dtype: 'FLOAT' }],
        outputs: [{ name: 'r', dtype: 'FLOAT' }],
        nodes: [
          { name: 'k', op: 'Const', attrs: { dtype: F, value: attr.tensor({ dtype: 'FLOAT', shape: [], values: [k] }) } },
          { name: 'n', op, inputs: ['a', 'k:output:0'], attrs: { T: F } },
        ],
        ret: { r: 'n:z:0' },
      });
    branch('twice', 'Mul', 2);
    branch('plus_one', 'AddV2', 1);
    g.node('if', 'StatelessIf', ['p', 'x'], {
      then_branch: attr.func('twice'),
      else_branch: attr.func('plus_one'),
      Tcond: attr.type('BOOL'),
      Tin: attr.types(['FLOAT']),
      Tout: attr.types(['FLOAT']),
    });
    const m = await load(g.toBuffer(), ['p', 'x'], ['if']);
    expect(values((await m.run(wire('BOOL', [], [1]), wire('FLOAT', [2], [3, 4])))[0]!)).toEqual([6, 8]);
    expect(values((await m.run(wire('BOOL', [], [0]), wire('FLOAT', [2], [3, 4])))[0]!)).toEqual([4, 5]);
  });

  it('StatelessWhile loops through its cond and body functions', async () => {
    const m = await load(whileModel(), ['n', 'x'], ['loop:0', 'loop:2']);
    expect(m.info.outputs.map((o) => o.dtype)).toEqual(['INT32', 'FLOAT']);
    const out = await m.run(wire('INT32', [], [5]), wire('FLOAT', [2], [1, 3]));
    expect(out.map(values)).toEqual([[5], [32, 96]]);
  });

  it('TF1 Switch/Merge', async () => {
    const g = new GraphDefWriter();
    const F = attr.type('FLOAT');
    g.placeholder('p', 'BOOL', []);
    g.placeholder('x', 'FLOAT');
    g.node('sw', 'Switch', ['x', 'p'], { T: F });
    g.node('neg', 'Neg', ['sw:0'], { T: F }); // false branch
    g.node('sq', 'Square', ['sw:1'], { T: F }); // true branch
    g.node('merge', 'Merge', ['neg', 'sq'], { T: F, N: attr.int(2) });
    const m = await load(g.toBuffer(), ['p', 'x'], ['merge']);
    expect(values((await m.run(wire('BOOL', [], [1]), wire('FLOAT', [2], [3, -4])))[0]!)).toEqual([9, 16]);
    expect(values((await m.run(wire('BOOL', [], [0]), wire('FLOAT', [2], [3, -4])))[0]!)).toEqual([-3, 4]);
  });
});

describe('compute backends', () => {
  it('a graph with an op wasm has no kernel for (Einsum) runs on the tfjs cpu backend', async () => {
    const g = new GraphDefWriter();
    g.placeholder('a', 'FLOAT');
    g.placeholder('b', 'FLOAT');
    g.node('e', 'Einsum', ['a', 'b'], { T: attr.type('FLOAT'), N: attr.int(2), equation: attr.str('ij,jk->ik') });
    const m = await load(g.toBuffer(), ['a', 'b'], ['e']);
    expect(m.info.backend).toBe('cpu');
    const [out] = await m.run(wire('FLOAT', [1, 2], [1, 2]), wire('FLOAT', [2, 2], [3, 4, 5, 6]));
    expect(values(out!)).toEqual([13, 16]);
    // ...and a wasm model still runs after it.
    const w = await load(mulModel(), ['a', 'b'], ['mul']);
    expect(w.info.backend).toBe('wasm');
    expect(values((await w.run(wire('FLOAT', [1], [3]), wire('FLOAT', [1], [4])))[0]!)).toEqual([12]);
  });

  it('runs leave no tensors behind; unload frees the weights', async () => {
    const before = liveTensors();
    const cm = convnetModel();
    const m = await load(cm.blob, cm.inputs, cm.outputs);
    const loaded = liveTensors();
    for (let i = 0; i < 5; i++) await m.run(wire('FLOAT', [1, 432], randoms(432, i)));
    await m.run(wire('FLOAT', [1], [1])).catch(() => undefined); // a failing run too
    expect(liveTensors()).toBe(loaded);
    await unloadModel(m.id);
    expect(liveTensors()).toBe(before);
  });
});
