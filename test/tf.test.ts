/**
 * TF end to end through node-redis against the built server: frozen GraphDefs (the project's own
 * MLP and MobileNet-style convnet, compared with an independent reference forward pass; a TF2 while
 * loop; ../shared/models/graph.pb when present), node names, dtype conversion and the error texts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { attr, convnetModel, GraphDefWriter, mlpModel, mulModel, whileModel, type TfType } from '@respai/backend-tf/testing';
import { randoms } from '../packages/backend-tf/src/testing/reference.js'; // seeded data, as the models' weights
import { startServer, type RunningServer } from './helpers/server.js';
import { itShared, sharedPath } from '@respai/core/testing';

const SHARED_MODELS = sharedPath('models');

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.NUMBER]: String } } as const;

/** Waits (up to 20 s, a safety net) until the server's log holds `text`. */
async function logged(text: string): Promise<void> {
  for (let t = Date.now(); !server.output().includes(text); ) {
    if (Date.now() - t > 20_000) expect(server.output()).toContain(text);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
  client.on('error', () => undefined);
  await client.connect();
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(args);
const raw = (...args: Arg[]): Promise<unknown> => client.sendCommand(args, RAW);
const err = async (...args: Arg[]): Promise<string> => {
  try {
    return `no error: ${JSON.stringify(await cmd(...args))}`;
  } catch (e) {
    return (e as Error).message;
  }
};
const values = async (key: string) => ((await cmd('AI.TENSORGET', key, 'VALUES')) as string[]).map(Number);
const f32 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const floats = async (key: string) => {
  const b = (await raw('AI.TENSORGET', key, 'BLOB')) as Buffer;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const closeTo = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(tol);
};

describe('frozen graphs', () => {
  itShared('graph.pb: a * b = 4 9 4 9, output named mul or mul:0', ['models/graph.pb'], async () => {
    const blob = readFileSync(join(SHARED_MODELS, 'graph.pb'));
    expect(await cmd('AI.MODELSTORE', 'g', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB', blob)).toBe('OK');
    expect(await cmd('AI.MODELSTORE', 'g0', 'TF', 'CPU', 'INPUTS', '2', 'a:0', 'b:0', 'OUTPUTS', '1', 'mul:0', 'BLOB', blob)).toBe('OK');
    await cmd('AI.TENSORSET', 'a', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3');
    for (const m of ['g', 'g0']) {
      expect(await cmd('AI.MODELEXECUTE', m, 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'c')).toBe('OK');
      expect(await values('c')).toEqual([4, 9, 4, 9]);
    }
    const meta = (await cmd('AI.MODELGET', 'g', 'META')) as unknown[];
    expect(meta[meta.indexOf('inputs') + 1]).toEqual(['a', 'b']);
    expect(meta[meta.indexOf('outputs') + 1]).toEqual(['mul']);
    expect(Buffer.compare((await raw('AI.MODELGET', 'g', 'BLOB')) as Buffer, blob)).toBe(0);
  });

  it('a Keras-style MLP on a batch of 3 images, against the reference', async () => {
    const m = mlpModel();
    expect(await cmd('AI.MODELSTORE', 'mlp', 'TF', 'CPU', 'INPUTS', '1', 'input', 'OUTPUTS', '1', 'output', 'BLOB', m.blob)).toBe('OK');
    const x = randoms(3 * 784, 11, 1);
    await cmd('AI.TENSORSET', 'img', 'FLOAT', '3', '28', '28', 'BLOB', f32(x));
    expect(await cmd('AI.MODELEXECUTE', 'mlp', 'INPUTS', '1', 'img', 'OUTPUTS', '1', 'probs')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'probs', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [3, 10]]);
    closeTo(await floats('probs'), m.reference(x, [3, 28, 28]).data);
    // The placeholder's shape is not checked (TF's C API does not): FLOAT 3 1 28 28 runs too.
    await cmd('AI.TENSORSET', 'img4', 'FLOAT', '3', '1', '28', '28', 'BLOB', f32(x));
    expect(await cmd('AI.MODELEXECUTE', 'mlp', 'INPUTS', '1', 'img4', 'OUTPUTS', '1', 'probs4')).toBe('OK');
    closeTo(await floats('probs4'), m.reference(x, [3, 28, 28]).data);
    expect(((await cmd('AI.INFO', 'mlp')) as unknown[]).slice(12, 18)).toEqual(['samples', 6, 'calls', 2, 'errors', 0]);
  });

  it('a MobileNet-style convnet (Conv2D, DepthwiseConv2dNative, FusedBatchNormV3, Relu6, AvgPool, Squeeze, Softmax)', async () => {
    const m = convnetModel();
    expect(await cmd('AI.MODELSTORE', 'conv', 'TF', 'CPU', 'INPUTS', '1', 'image', 'OUTPUTS', '1', 'probs', 'BLOB', m.blob)).toBe('OK');
    const x = randoms(2 * 432, 5, 1);
    await cmd('AI.TENSORSET', 'cimg', 'FLOAT', '2', '432', 'BLOB', f32(x));
    expect(await cmd('AI.MODELEXECUTE', 'conv', 'INPUTS', '1', 'cimg', 'OUTPUTS', '1', 'cprobs')).toBe('OK');
    closeTo(await floats('cprobs'), m.reference(x, [2, 432]).data);
  });

  it('a TF2 while loop (functions) runs; INT32 in, INT32 and FLOAT out', async () => {
    expect(await cmd('AI.MODELSTORE', 'loop', 'TF', 'CPU', 'INPUTS', '2', 'n', 'x', 'OUTPUTS', '2', 'loop:0', 'loop:2', 'BLOB', whileModel())).toBe('OK');
    await cmd('AI.TENSORSET', 'n', 'INT32', 'VALUES', '5');
    await cmd('AI.TENSORSET', 'x', 'FLOAT', '2', 'VALUES', '1', '-0.5');
    expect(await cmd('AI.MODELEXECUTE', 'loop', 'INPUTS', '2', 'n', 'x', 'OUTPUTS', '2', 'count', 'acc')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'count', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [], 'values', [5]]);
    expect(await values('acc')).toEqual([32, -16]);
  });

  it('DOUBLE and INT64 are narrowed with a range check: a value that does not fit is an error', async () => {
    const typed = (t: TfType) => {
      const g = new GraphDefWriter();
      g.placeholder('a', t);
      g.placeholder('b', t);
      g.node('c', 'Mul', ['a', 'b'], { T: attr.type(t) });
      return g.toBuffer();
    };
    expect(await cmd('AI.MODELSTORE', 'mul', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', typed('DOUBLE'))).toBe('OK');
    expect(await cmd('AI.MODELSTORE', 'imul', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', typed('INT64'))).toBe('OK');
    await cmd('AI.TENSORSET', 'd', 'DOUBLE', '2', 'VALUES', '1.5', '-2');
    const r = await cmd('AI.MODELEXECUTE', 'mul', 'INPUTS', '2', 'd', 'd', 'OUTPUTS', '1', 'dd').catch((e: Error) => e.message);
    expect(r).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'dd', 'META', 'VALUES')).toEqual(['dtype', 'DOUBLE', 'shape', [2], 'values', ['2.25', '4']]);
    await cmd('AI.TENSORSET', 'i', 'INT64', '2', 'VALUES', '-3', '40000');
    expect(await cmd('AI.MODELEXECUTE', 'imul', 'INPUTS', '2', 'i', 'i', 'OUTPUTS', '1', 'ii')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'ii', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [2], 'values', [9, 1600000000]]);
    await cmd('AI.TENSORSET', 'huge', 'DOUBLE', '1', 'VALUES', '1e300');
    expect(await err('AI.MODELEXECUTE', 'mul', 'INPUTS', '2', 'huge', 'huge', 'OUTPUTS', '1', 'hh')).toMatch(
      /^ERR .*DOUBLE value 1e\+300 at index 0 does not fit in float32/,
    );
    await cmd('AI.TENSORSET', 'big', 'INT64', '1', 'VALUES', '4294967296');
    expect(await err('AI.MODELEXECUTE', 'imul', 'INPUTS', '2', 'big', 'big', 'OUTPUTS', '1', 'bb')).toMatch(
      /^ERR .*INT64 value 4294967296 at index 0 does not fit in int32/,
    );
    expect(await cmd('EXISTS', 'hh', 'bb')).toBe(0);
  });
});

describe('errors at MODELSTORE, each leaving the key as it was', () => {
  const MUL = mulModel();
  const store = (...args: Arg[]) => err('AI.MODELSTORE', 'keep', 'TF', 'CPU', ...args);

  beforeAll(async () => {
    expect(await cmd('AI.MODELSTORE', 'keep', 'TF', 'CPU', 'TAG', 'v1', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', MUL)).toBe('OK');
  });

  it('node names: the catalog texts', async () => {
    expect(await store('INPUTS', '2', 'a', 'x', 'OUTPUTS', '1', 'c', 'BLOB', MUL)).toBe('ERR Input node named "x" not found in TF graph.');
    expect(await store('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'nope', 'BLOB', MUL)).toBe('ERR Output node named "nope" not found in TF graph');
    expect(await store('BLOB', MUL)).toBe('ERR INPUTS not specified for TF');
    expect(await store('INPUTS', '2', 'a', 'b', 'BLOB', MUL)).toBe('ERR OUTPUTS not specified for TF');
    expect(await store('INPUTS', '1', 'a', 'OUTPUTS', '1', 'c', 'BLOB', MUL)).toBe('ERR Placeholder "b" must be fed to compute the OUTPUTS, but is not among the INPUTS');
  });

  it('unsupported ops are listed at store time', async () => {
    const blob = Buffer.from(MUL.toString('latin1').replace('Identity', 'Identiti'), 'latin1');
    expect(await store('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', blob)).toMatch(
      /^ERR TF graph uses ops the TF backend \(tfjs-converter [\d.]+\) cannot run: Identiti \(node "c"\)$/,
    );
  });

  it("what is no GraphDef gets exactly TensorFlow's 'ERR Invalid GraphDef'; what it seems to be goes to the log (debug)", async () => {
    expect(await cmd('CONFIG', 'SET', 'loglevel', 'debug')).toBe('OK');
    try {
      expect(await store('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', Buffer.from('garbage\n'))).toBe('ERR Invalid GraphDef');
      // A zip (what a zipped SavedModel directory is).
      const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(60)]);
      expect(await store('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', zip)).toBe('ERR Invalid GraphDef');
      // Cut to 99%: the last node's bytes are cut short.
      expect(await store('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', MUL.subarray(0, Math.floor(MUL.length * 0.99)))).toBe('ERR Invalid GraphDef');
      // Log lines reach the test through the server's stdout pipe, after the replies.
      await logged('Invalid GraphDef: this is a ZIP archive');
      await logged('Invalid GraphDef: not a protocol buffer (malformed or truncated)');
    } finally {
      await cmd('CONFIG', 'SET', 'loglevel', 'notice');
    }
  });

  itShared("an ONNX model gets exactly 'ERR Invalid GraphDef'; the log says what it is", ['models/mnist.onnx'], async () => {
    expect(await cmd('CONFIG', 'SET', 'loglevel', 'debug')).toBe('OK');
    try {
      expect(await store('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', readFileSync(join(SHARED_MODELS, 'mnist.onnx')))).toBe('ERR Invalid GraphDef');
      await logged('this is an ONNX model (use the ONNX backend)');
    } finally {
      await cmd('CONFIG', 'SET', 'loglevel', 'notice');
    }
  });

  it('the model stored first still serves', async () => {
    expect(((await cmd('AI.MODELGET', 'keep', 'META')) as unknown[]).slice(4, 6)).toEqual(['tag', 'v1']);
    await cmd('AI.TENSORSET', 'k', 'FLOAT', '2', 'VALUES', '3', '4');
    expect(await cmd('AI.MODELEXECUTE', 'keep', 'INPUTS', '2', 'k', 'k', 'OUTPUTS', '1', 'k2')).toBe('OK');
    expect(await values('k2')).toEqual([9, 16]);
  });

  it('run-time errors: input count, a shape the graph cannot take', async () => {
    expect(await err('AI.MODELEXECUTE', 'keep', 'INPUTS', '1', 'k', 'OUTPUTS', '1', 'k3')).toBe(
      'Number of keys given as INPUTS here does not match model definition',
    );
    await cmd('AI.TENSORSET', 'k5', 'FLOAT', '5', 'VALUES', '1', '2', '3', '4', '5');
    expect(await err('AI.MODELEXECUTE', 'keep', 'INPUTS', '2', 'k', 'k5', 'OUTPUTS', '1', 'k3')).toMatch(/^ERR /);
    expect(await cmd('EXISTS', 'k3')).toBe(0);
    expect(await cmd('PING')).toBe('PONG');
  });
});
