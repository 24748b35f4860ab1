import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, identityModel, OnnxType, zipMapClassifierModel } from './testing/onnx-writer.js';
import { flattenZipMaps } from './zipmap.js';

/** Three classes over two features: class k scores x·coef[k]. */
const COEF = [
  [1, 0],
  [0, 1],
  [-1, -1],
];
const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const ROWS = [
  [3, 1],
  [0, 2],
  [-2, -1],
];

async function run(model: Uint8Array, rows: number[][]) {
  const session = await ort.InferenceSession.create(model);
  try {
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 2]);
    const out = await session.run({ float_input: x });
    return { outputNames: session.outputNames, out, meta: session.outputMetadata };
  } finally {
    await session.release();
  }
}

describe('a ZipMap classifier (as skl2onnx exports it)', () => {
  it('onnxruntime-node cannot return its sequence of maps as it is', async () => {
    const model = zipMapClassifierModel({ labels: [0, 1, 2], coefficients: COEF });
    await expect(run(model, ROWS)).rejects.toThrow(/Non tensor type/i);
  });

  it('flattened: the label as it was, the probabilities FLOAT [N, classes] under the same name', async () => {
    const model = zipMapClassifierModel({ labels: [0, 1, 2], coefficients: COEF });
    const { bytes, flattened } = flattenZipMaps(model);
    expect(flattened).toEqual(['output_probability']);
    const { outputNames, out } = await run(bytes, ROWS);
    expect(outputNames).toEqual(['output_label', 'output_probability']);
    expect([...(out['output_label']!.data as BigInt64Array)]).toEqual([0n, 1n, 2n]);
    const p = out['output_probability']!;
    expect(p.type).toBe('float32');
    expect(p.dims).toEqual([3, 3]);
    const got = [...(p.data as Float32Array)];
    const want = ROWS.flatMap(([a, b]) => softmax(COEF.map(([c, d]) => a! * c! + b! * d!)));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it('columns in class-label order when the model lists its labels otherwise (int64 and string labels)', async () => {
    // Labels 20, 5, 10: the scores' columns are in that order; the probabilities come sorted: 5, 10, 20.
    const ints = flattenZipMaps(zipMapClassifierModel({ labels: [20, 5, 10], coefficients: COEF }));
    const strs = flattenZipMaps(zipMapClassifierModel({ labels: ['setosa', 'bird', 'cat'], coefficients: COEF }));
    for (const [{ bytes }, order] of [
      [ints, [1, 2, 0]],
      [strs, [1, 2, 0]],
    ] as const) {
      const { out } = await run(bytes, ROWS);
      const p = [...(out['output_probability']!.data as Float32Array)];
      ROWS.forEach(([a, b], r) => {
        const s = softmax(COEF.map(([c, d]) => a! * c! + b! * d!));
        order.forEach((col, j) => expect(p[r * 3 + j]).toBeCloseTo(s[col]!, 6));
      });
    }
    expect([...((await run(ints.bytes, ROWS)).out['output_label']!.data as BigInt64Array)]).toEqual([20n, 5n, 10n]);
    expect((await run(strs.bytes, ROWS)).out['output_label']!.data).toEqual(['setosa', 'bird', 'cat']);
  });

  it('models without ZipMap, and bytes that are no model, come back untouched (the same buffer)', () => {
    const plain = identityModel(OnnxType.FLOAT);
    expect(flattenZipMaps(plain).bytes).toBe(plain);
    const junk = Buffer.from('not a model');
    expect(flattenZipMaps(junk).bytes).toBe(junk);
    const truncated = zipMapClassifierModel({ labels: [0, 1, 2], coefficients: COEF }).subarray(0, 100);
    expect(flattenZipMaps(truncated).bytes).toBe(truncated);
  });

  it('a ZipMap whose output feeds another node is left alone', () => {
    const model = encodeModel(
      {
        nodes: [
          { op: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['p'], outputs: ['m'], attrs: { classlabels_int64s: { ints: [0, 1] } } },
          { op: 'SequenceLength', inputs: ['m'], outputs: ['n'] },
        ],
        inputs: [{ name: 'p', type: { tensor: OnnxType.FLOAT, shape: [null, 2] } }],
        outputs: [
          { name: 'm', type: { sequence: { map: { key: OnnxType.INT64, value: { tensor: OnnxType.FLOAT } } } } },
          { name: 'n', type: { tensor: OnnxType.INT64, shape: [] } },
        ],
      },
      { opsets: [{ domain: 'ai.onnx.ml', version: 1 }] },
    );
    expect(flattenZipMaps(model)).toEqual({ bytes: model, flattened: [] });
  });
});
