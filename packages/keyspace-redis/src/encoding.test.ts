import { describe, expect, it } from 'vitest';
import { E, RespaiError, Tensor, parseDevice, type ModelMeta } from '@respai/core';
import {
  MODEL_META_FIELDS,
  SCRIPT_META_FIELDS,
  aiTypeOf,
  decodeModelMeta,
  decodeScriptMeta,
  decodeTensor,
  digestOf,
  encodeModel,
  encodeScript,
  encodeTensor,
  modelSpecOf,
} from './encoding.js';

/** Field/value pairs as HMGET would return `names` of a hash holding them (after the marker). */
function hmget(marker: string, pairs: (string | Buffer)[], names: readonly string[]): (Buffer | null)[] {
  const m = new Map<string, Buffer>([['respai:type', Buffer.from(marker)]]);
  for (let i = 0; i < pairs.length; i += 2) m.set(String(pairs[i]), Buffer.from(pairs[i + 1]!));
  return names.map((n) => m.get(n) ?? null);
}

const TENSOR = ['respai:type', 'dtype', 'shape', 'blob'];

describe('tensor encoding', () => {
  it('is dtype, the shape as spaced decimals, and the TENSORGET BLOB bytes', () => {
    const t = Tensor.fromValues('FLOAT', [2, 2], ['1', '2', '3', '4'].map((s) => Buffer.from(s)));
    const pairs = encodeTensor(t);
    expect(pairs.slice(0, 4)).toEqual(['dtype', 'FLOAT', 'shape', '2 2']);
    expect(pairs[5]).toEqual(Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
    const back = decodeTensor('k', hmget('AI_TENSOR', pairs, TENSOR));
    expect(back.dtype).toBe('FLOAT');
    expect(back.shape).toEqual([2, 2]);
    expect(back.data).toEqual(t.data);
  });

  it('round-trips every dtype, a scalar, and STRING', () => {
    for (const [dtype, vals] of [['INT64', ['-9223372036854775808', '1']], ['BOOL', ['0', '1']], ['STRING', ['ab', '']], ['UINT16', ['65535', '0']]] as const) {
      const t = Tensor.fromValues(dtype, [2], vals.map((s) => Buffer.from(s)));
      expect(decodeTensor('k', hmget('AI_TENSOR', encodeTensor(t), TENSOR)).data).toEqual(t.data);
    }
    const s = Tensor.fromValues('DOUBLE', [], [Buffer.from('7')]);
    const pairs = encodeTensor(s);
    expect(pairs[3]).toBe('');
    expect(decodeTensor('k', hmget('AI_TENSOR', pairs, TENSOR)).shape).toEqual([]);
  });

  it('refuses a hash edited by hand, naming the key and the reason', () => {
    const bad = (pairs: string[], why: string) =>
      expect(() => decodeTensor('k', hmget('AI_TENSOR', pairs, TENSOR))).toThrow(new RespaiError(E.keyspaceBadValue('k', 'AI_TENSOR', why)));
    bad(['dtype', 'FLOAT', 'shape', '1'], 'a field is missing');
    bad(['dtype', 'FLOAT32', 'shape', '1', 'blob', 'abcd'], 'unknown dtype');
    bad(['dtype', 'FLOAT', 'shape', '01', 'blob', 'abcd'], 'bad shape');
    bad(['dtype', 'FLOAT', 'shape', '1  2', 'blob', 'abcd'], 'bad shape');
    expect(() => decodeTensor('k', hmget('AI_TENSOR', ['dtype', 'FLOAT', 'shape', '2', 'blob', 'abcd'], TENSOR))).toThrow(/not a valid AI_TENSOR: /);
  });

  it('knows the three markers, and nothing else', () => {
    expect([aiTypeOf(Buffer.from('AI_TENSOR')), aiTypeOf('AI__MODEL'), aiTypeOf('AI_SCRIPT')]).toEqual(['tensor', 'model', 'script']);
    expect([aiTypeOf(null), aiTypeOf('ai_tensor'), aiTypeOf('')]).toEqual([undefined, undefined, undefined]);
  });
});

describe('model and script encoding', () => {
  const meta: ModelMeta = {
    backend: 'TF',
    device: parseDevice('gpu:1'),
    tag: Buffer.from('v\x001'),
    batchSize: 8,
    minBatchSize: 2,
    minBatchTimeout: 5,
    inputs: ['a', 'b,"c"'],
    outputs: ['out'],
  };
  const blob = Buffer.from([0, 1, 2, 255]);

  it('stores every MODELGET META field, a digest over them and the blob, and reads it back without the blob', () => {
    const { fields, digest } = encodeModel(meta, blob);
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual(['backend', 'device', 'tag', 'batchsize', 'minbatchsize', 'minbatchtimeout', 'inputs', 'outputs', 'digest', 'blob']);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toBe(digestOf(['TF', 'gpu:1', meta.tag, '8', '2', '5', '["a","b,\\"c\\""]', '["out"]', blob]));
    const back = decodeModelMeta('m', hmget('AI__MODEL', fields, MODEL_META_FIELDS));
    expect(back.digest).toBe(digest);
    expect(back.meta).toEqual(meta);
    expect(modelSpecOf(back.meta, blob)).toMatchObject({ backend: 'TF', inputs: meta.inputs, outputs: meta.outputs, blob });
    // The other backends name their inputs from the model: it is loaded without names.
    expect(modelSpecOf({ ...meta, backend: 'ONNX' }, blob)).toMatchObject({ inputs: [], outputs: [] });
  });

  it('changes the digest with anything that changes what is loaded', () => {
    const d = encodeModel(meta, blob).digest;
    expect(encodeModel({ ...meta, batchSize: 9 }, blob).digest).not.toBe(d);
    expect(encodeModel(meta, Buffer.from([0, 1, 2])).digest).not.toBe(d);
    expect(encodeModel({ ...meta, device: parseDevice('CPU') }, blob).digest).not.toBe(d);
    // Netstrings: moving a byte from one field to the next is another digest.
    expect(digestOf(['ab', 'c'])).not.toBe(digestOf(['a', 'bc']));
  });

  it('refuses bad model metadata', () => {
    const { fields } = encodeModel(meta, blob);
    const edit = (name: string, value: string) => {
      const f = [...fields];
      f[f.indexOf(name) + 1] = value;
      return hmget('AI__MODEL', f, MODEL_META_FIELDS);
    };
    expect(() => decodeModelMeta('m', edit('backend', 'XLA'))).toThrow(/not a valid AI__MODEL: unknown backend/);
    expect(() => decodeModelMeta('m', edit('inputs', '[1]'))).toThrow(/not a valid AI__MODEL: a name list/);
    expect(() => decodeModelMeta('m', edit('batchsize', '-1'))).toThrow(/not a valid AI__MODEL: a count/);
    expect(() => decodeModelMeta('m', edit('digest', 'xyz'))).toThrow(/not a valid AI__MODEL: bad digest/);
    expect(() => decodeModelMeta('m', edit('device', 'TPU'))).toThrow(/not a valid AI__MODEL: bad device/);
  });

  it('scripts: device, tag, entry points, digest and source', () => {
    const spec = { device: parseDevice('CPU'), tag: Buffer.from('t'), entryPoints: ['f', 'g'], source: 'def f(x):\n    return x\n' };
    const { fields, digest } = encodeScript(spec);
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual(['device', 'tag', 'entrypoints', 'digest', 'source']);
    const back = decodeScriptMeta('s', hmget('AI_SCRIPT', fields, SCRIPT_META_FIELDS));
    expect(back).toEqual({ device: spec.device, tag: spec.tag, entryPoints: ['f', 'g'], digest });
    expect(encodeScript({ ...spec, source: spec.source + ' ' }).digest).not.toBe(digest);
  });
});
