import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Tensor, parseDevice, type LoadedModel } from '@respai/core';
import { floats, itShared, sharedPath, testBackends } from '@respai/core/testing';
import { FLOAT_TOLERANCE, checkInputs, interfaceDifference, outputDifference, pick } from './choose.js';
import { createTfliteBackend, type TfliteBackend } from './index.js';
import { LiteRtInterpreter } from './litert.js';
import { TfLiteType, type WireModelInfo, type WireOutput } from './protocol.js';
import { RUNTIMES, openInterpreter, type RuntimeId } from './runtimes.js';
import { ensureTfliteBuilt } from './testing/build.js';
import { TensorType, binaryModel, denseClassifier } from './testing/tflite-writer.js';

const MNIST = ['models/mnist_model_quant.tflite', 'models/one.raw'];
const mnist = () => new Uint8Array(readFileSync(sharedPath('models/mnist_model_quant.tflite')));
const oneRaw = () => new Uint8Array(readFileSync(sharedPath('models/one.raw')));

const f32 = (v: number[]) => new Float32Array(v).buffer;
const out = (type: number, dims: number[], data: ArrayBuffer): WireOutput => ({ name: 'y', type, dims, data, scale: 0, zeroPoint: 0 });

describe('choosing a runtime (pure parts)', () => {
  it('integer outputs must agree byte for byte, float32 within 1e-5 relative (NaN with NaN)', () => {
    const ints = (v: bigint[]) => new BigInt64Array(v).buffer;
    expect(outputDifference([out(TfLiteType.Int64, [2], ints([1n, 2n]))], [out(TfLiteType.Int64, [2], ints([1n, 2n]))])).toBeUndefined();
    expect(outputDifference([out(TfLiteType.Int64, [2], ints([1n, 2n]))], [out(TfLiteType.Int64, [2], ints([1n, 3n]))])).toBe("output 0 differs from the reference's at byte 8");
    const a = [1, -2.5, 1e-30, Number.NaN];
    const close = a.map((x) => x * (1 + FLOAT_TOLERANCE / 2));
    expect(outputDifference([out(TfLiteType.Float32, [4], f32(a))], [out(TfLiteType.Float32, [4], f32(close))])).toBeUndefined();
    expect(outputDifference([out(TfLiteType.Float32, [1], f32([1]))], [out(TfLiteType.Float32, [1], f32([1.0001]))])).toMatch(/^output 0\[0\] is 1\.0001/);
    expect(outputDifference([out(TfLiteType.Float32, [1], f32([0]))], [out(TfLiteType.Float32, [1], f32([1e-12]))])).toMatch(/^output 0\[0\]/);
    expect(outputDifference([out(TfLiteType.Float32, [1], f32([1]))], [out(TfLiteType.Float32, [1, 1], f32([1]))])).toMatch(/type 1 \[1,1\] where the reference gives type 1 \[1\]/);
    expect(outputDifference([], [out(TfLiteType.Float32, [1], f32([1]))])).toBe('1 outputs where the reference gives 0');
  });

  it('interfaces must match in names, types and shapes, in order', () => {
    const t = (name: string, type = TfLiteType.Float32, dims = [1, 2]) => ({ name, type, dims, scale: 0, zeroPoint: 0 });
    const ref: WireModelInfo = { inputs: [t('a'), t('b')], outputs: [t('c')] };
    expect(interfaceDifference(ref, { inputs: [t('a'), t('b')], outputs: [t('c')] })).toBeUndefined();
    expect(interfaceDifference(ref, { inputs: [t('b'), t('a')], outputs: [t('c')] })).toMatch(/^inputs 0 is 'b'/);
    expect(interfaceDifference(ref, { inputs: [t('a'), t('b')], outputs: [t('c', TfLiteType.Int32)] })).toMatch(/^outputs 0 is 'c' type 2/);
  });

  it('the fastest runtime wins only when clearly faster than the reference', () => {
    const m = (e: [RuntimeId, number][]) => new Map(e);
    expect(pick('tflite-2.2', m([['tflite-2.2', 100], ['tflite-2.9-xnnpack', 20], ['tflite-2.9', 50]]))).toBe('tflite-2.9-xnnpack');
    expect(pick('tflite-2.2', m([['tflite-2.2', 100], ['tflite-2.9', 95]]))).toBe('tflite-2.2');
    expect(pick('tflite-2.2', m([['tflite-2.2', 100]]))).toBe('tflite-2.2');
    expect(pick('tflite-2.9', m([['tflite-2.9', 100], ['litert', 10]]))).toBe('litert');
  });

  it('check inputs: zeros, then seeded pseudo-random sets at the declared shapes, the same every time', () => {
    const info: WireModelInfo = {
      inputs: [
        { name: 'x', type: TfLiteType.Float32, dims: [1, 3], scale: 0, zeroPoint: 0 },
        { name: 'i', type: TfLiteType.Int64, dims: [2], scale: 0, zeroPoint: 0 },
      ],
      outputs: [],
    };
    const sets = checkInputs(info);
    expect(sets).toHaveLength(3);
    expect(sets[0]!.map((f) => [f.dims, f.data.length, f.data.every((b) => b === 0)])).toEqual([
      [[1, 3], 12, true],
      [[2], 16, true],
    ]);
    const x = new Float32Array(sets[1]![0]!.data.buffer);
    expect([...x].every((v) => v >= 0 && v < 1)).toBe(true);
    expect([...new BigInt64Array(sets[1]![1]!.data.buffer)].every((v) => v >= 0n && v < 4n)).toBe(true);
    expect(checkInputs(info)[2]![0]!.data).toEqual(sets[2]![0]!.data);
  });
});

describe('the runtimes', () => {
  beforeAll(() => ensureTfliteBuilt(), 120_000);

  it('every runtime runs a classifier fixture (FLOAT scores and INT64 class) to the same outputs', async () => {
    const blob = new Uint8Array(denseClassifier([[1, 0], [0, 1], [1, 1]], [0, 0.5, -1]));
    const x = new Uint8Array(f32([0.25, 2]));
    const results = [];
    for (const runtime of RUNTIMES) {
      const it = await openInterpreter(runtime, blob, 1);
      expect(it.describe().outputs.map((o) => [o.name, o.type])).toEqual([
        ['scores', TfLiteType.Float32],
        ['class', TfLiteType.Int64],
      ]);
      results.push(it.run([{ dims: [1, 2], data: x }]));
      it.close();
    }
    for (const r of results) {
      expect([...new Float32Array(r[0]!.data)]).toEqual([0.25, 2.5, 1.25]);
      expect([...new BigInt64Array(r[1]!.data)]).toEqual([1n]);
    }
  });

  itShared('mnist_model_quant.tflite: every runtime gives TFLite 2.2 outputs on one.raw, its INT64 class included (LiteRT too)', MNIST, async () => {
    const feed = [{ dims: [1, 28, 28], data: oneRaw() }];
    const reference = await openInterpreter('tflite-2.2', mnist(), 1);
    const expected = reference.run(feed);
    reference.close();
    expect([...new BigInt64Array(expected[0]!.data)]).toEqual([1n]);
    for (const runtime of RUNTIMES.slice(1)) {
      const it = await openInterpreter(runtime, mnist(), 1);
      const got = it.run(feed);
      expect(outputDifference(expected, got)).toBeUndefined();
      // The integer output bitwise, the scores too here (they are dequantized uint8 steps).
      expect(Buffer.from(got[0]!.data)).toEqual(Buffer.from(expected[0]!.data));
      expect(Buffer.from(got[1]!.data)).toEqual(Buffer.from(expected[1]!.data));
      it.close();
    }
  });

  it('LiteRT takes only the declared shapes, with a clear error', async () => {
    const it = await LiteRtInterpreter.open(new Uint8Array(binaryModel('ADD', TensorType.FLOAT32, [1, 2])), 1);
    const two = { dims: [2, 2], data: new Uint8Array(16) };
    expect(() => it.run([two, two])).toThrow("input 'a' must have shape [1, 2] on LiteRT, which cannot resize inputs; got [2, 2]");
    expect([...new Float32Array(it.run([{ dims: [1, 2], data: new Uint8Array(f32([1, 2])) }, { dims: [1, 2], data: new Uint8Array(f32([3, 4])) }])[0]!.data)]).toEqual([4, 6]);
    it.close();
  });
});

describe('the backend chooses per model', () => {
  const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn() };
  const { newBackend, disposeAll } = testBackends(createTfliteBackend, { log });
  const liteRtOnly = testBackends(() => createTfliteBackend({ exclude: ['tflite-2.2', 'tflite-2.9', 'tflite-2.9-xnnpack'] }), { log });
  beforeAll(() => ensureTfliteBuilt(), 120_000);
  afterAll(async () => {
    await disposeAll();
    await liteRtOnly.disposeAll();
  });
  const load = (b: TfliteBackend, blob: Uint8Array, batchSize = 0): Promise<LoadedModel> =>
    b.loadModel({ blob: Buffer.from(blob), device: parseDevice('CPU'), inputs: [], outputs: [], batchSize });

  itShared('mnist_model_quant.tflite runs on a faster runtime than TFLite 2.2, with its outputs, and says so', MNIST, async () => {
    const m = await load(newBackend(), mnist());
    const r = m.runtime!;
    expect(r.runtime).not.toBe('tflite-2.2');
    expect(r['tflite-2.2']).toMatch(/^\d+(\.\d+)?us$/);
    expect(r[r.runtime as string]).toMatch(/^\d+(\.\d+)?us$/);
    const [cls, scores] = await m.run([Tensor.fromBlob('FLOAT', [1, 1, 28, 28], Buffer.from(oneRaw()))], { slot: 0 });
    expect(cls!.values()).toEqual([1n]);
    const reference = await openInterpreter('tflite-2.2', mnist(), 1);
    const expected = reference.run([{ dims: [1, 28, 28], data: oneRaw() }]);
    reference.close();
    expect(Buffer.from(scores!.data)).toEqual(Buffer.from(expected[1]!.data));
    await m.dispose();
  });

  it('a model left to LiteRT alone runs through the workers (INT64 output), and BATCHSIZE keeps it off LiteRT', { timeout: 60_000 }, async () => {
    const b = liteRtOnly.newBackend();
    const m = await load(b, denseClassifier([[1, 0], [0, 1]], [0, 0]));
    expect(m.runtime).toMatchObject({ runtime: 'litert', 'tflite-2.2': 'skipped' });
    const [scores, cls] = await m.run([floats([1, 2], [3, 4])], { slot: 0 });
    expect(scores!.values()).toEqual([3, 4]);
    expect(cls!.values()).toEqual([1n]);
    await m.dispose();
    expect(await load(b, denseClassifier([[1, 0]], [0]), 4).then(
      () => 'loaded',
      (e: Error) => e.message,
    )).toMatch(/^ERR Invalid TFLITE model: /);
  });

  it('the choice is remembered: the same bytes are not checked again', async () => {
    const b = newBackend();
    const blob = binaryModel('MUL', TensorType.FLOAT32, [1, 4]);
    const m1 = await load(b, blob);
    const checks = b.prober.checks;
    const m2 = await load(b, blob);
    expect(b.prober.checks).toBe(checks);
    expect(m2.runtime).toEqual(m1.runtime);
    await m1.dispose();
    await m2.dispose();
  });
});
