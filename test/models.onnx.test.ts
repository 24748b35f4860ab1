/**
 * ONNX models end to end through node-redis against the built server: AI.MODELSTORE / MODELSET /
 * MODELGET / MODELDEL / MODELEXECUTE / MODELRUN / _MODELSCAN, AI.INFO and AI.CONFIG, with every
 * error text of the catalog (spec/behaviour.md and the original's tests_commands.py /
 * tests_onnx.py), the run queue (TIMEOUT, disconnecting clients, other clients served meanwhile)
 * and MULTI. Fixtures are built with the project's own ONNX writer; the real models of
 * ../shared/models are used when that folder exists.
 */
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { OnnxType, binaryModel, encodeModel, identityModel, matmulChainModel, zipMapClassifierModel } from '@respai/backend-onnx/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { itShared, sharedPath } from '@respai/core/testing';

const SHARED_MODELS = sharedPath('models');

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;

/** Bulk strings as Buffers, integers as decimal strings: nothing is lost or reinterpreted. */
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.NUMBER]: String } } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = (view: ArrayBufferView): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
const f32 = (...v: number[]) => bytes(new Float32Array(v));

// ---- fixtures, built with the project's ONNX writer -------------------------------------------

/** c = a + b, FLOAT [N, 2]. */
const ADD = binaryModel('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);
/** c = a * b, FLOAT fixed [2, 2]: wrong shapes are refused by onnxruntime, naming the input. */
const MUL = binaryModel('Mul', OnnxType.FLOAT, [2, 2], [2, 2], [2, 2]);
/** c = a @ b, FLOAT [2, 3] x [3, 2]. */
const MATMUL = binaryModel('MatMul', OnnxType.FLOAT, [2, 3], [3, 2], [2, 2]);
const ID_INT64 = identityModel(OnnxType.INT64, ['N', 2]);
const ID_STRING = identityModel(OnnxType.STRING, ['N']);
/** y = a + b + c + d + e: five inputs, so a short key list still passes the arity check. */
const SUM5 = encodeModel({
  nodes: [{ op: 'Sum', inputs: ['a', 'b', 'c', 'd', 'e'], outputs: ['y'] }],
  inputs: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, type: { tensor: OnnxType.FLOAT, shape: [1] } })),
  outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [1] } }],
});
/** 20 x (MatMul 512x512 + Relu): the run time grows with the rows of the input. */
const HEAVY = matmulChainModel(512, 20);
/** Rows of the heavy input: several hundred ms of work here, well under MODEL_EXECUTION_TIMEOUT. */
const HEAVY_ROWS = 1024;

const shared = (name: string) => readFileSync(join(SHARED_MODELS, name));

// ---- the server and clients -------------------------------------------------------------------

let server: RunningServer;
let client: Client;
/** A second connection, for what must happen while the first one waits. */
let other: Client;

async function connect(port: number): Promise<Client> {
  const c = createClient({ socket: { port, host: '127.0.0.1' } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

beforeAll(async () => {
  server = await startServer();
  client = await connect(server.port);
  other = await connect(server.port);
  await storeGuards();
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await other?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

/** A command with the default mapping: bulk strings as strings, integers as numbers. */
const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(args);
/** A command whose bulk strings come back as Buffers and integers as decimal strings. */
const raw = (...args: Arg[]): Promise<unknown> => client.sendCommand(args, RAW);

/** The error text of a command expected to fail (node-redis puts the whole RESP text in `message`). */
async function errorOf(c: Client, ...args: Arg[]): Promise<string> {
  try {
    const r = await c.sendCommand(args);
    throw new Error(`expected an error from ${args.map((a) => (a.length > 60 ? `<${a.length} bytes>` : String(a))).join(' ')}, got ${JSON.stringify(r)}`);
  } catch (e) {
    const err = e as Error;
    if (err.constructor.name !== 'SimpleError') throw err;
    return err.message;
  }
}
const err = (...args: Arg[]) => errorOf(client, ...args);

const values = async (key: string): Promise<number[]> => ((await cmd('AI.TENSORGET', key, 'VALUES')) as (string | number)[]).map(Number);

// ---- guards: every bad input must leave them exactly as they were ------------------------------

const GUARD = 'guard';
const GUARD_BLOB = f32(1.25, -2, 3.5, 0.1);
const GUARD_MODEL = 'guard-model';
const GUARD_META = [
  'backend', 'ONNX', 'device', 'CPU', 'tag', 'g:1', 'batchsize', 2, 'minbatchsize', 0,
  'inputs', ['a', 'b'], 'outputs', ['c'], 'minbatchtimeout', 0,
];

async function storeGuards(): Promise<void> {
  expect(await cmd('AI.TENSORSET', GUARD, 'FLOAT', '2', '2', 'BLOB', GUARD_BLOB)).toBe('OK');
  expect(await cmd('AI.MODELSTORE', GUARD_MODEL, 'ONNX', 'CPU', 'TAG', 'g:1', 'BATCHSIZE', '2', 'BLOB', ADD)).toBe('OK');
  expect(await cmd('SET', 'a-string', 'v')).toBe('OK');
}

/** The server answers; the guard tensor, model and string are unchanged; the guard model still runs. */
async function expectHealthy(): Promise<void> {
  expect(await client.ping()).toBe('PONG');
  const t = (await raw('AI.TENSORGET', GUARD, 'META', 'BLOB')) as unknown[];
  expect(t.slice(0, 4).map(String)).toEqual(['dtype', 'FLOAT', 'shape', '2,2']);
  expect(Buffer.compare(t[5] as Buffer, GUARD_BLOB)).toBe(0);
  expect(await cmd('AI.MODELGET', GUARD_MODEL, 'META')).toEqual(GUARD_META);
  expect(Buffer.compare((await raw('AI.MODELGET', GUARD_MODEL, 'BLOB')) as Buffer, ADD)).toBe(0);
  expect(await cmd('GET', 'a-string')).toBe('v');
}

// ---- MODELSTORE / MODELSET / MODELGET / MODELDEL ------------------------------------------------

describe('storing and reading models', () => {
  it('MODELSTORE with TAG, BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT: MODELGET META returns them', async () => {
    expect(
      await cmd('AI.MODELSTORE', 'm1', 'ONNX', 'CPU', 'TAG', 'v:1.0', 'BATCHSIZE', '4', 'MINBATCHSIZE', '2', 'MINBATCHTIMEOUT', '150', 'BLOB', ADD),
    ).toBe('OK');
    expect(await cmd('AI.MODELGET', 'm1', 'META')).toEqual([
      'backend', 'ONNX', 'device', 'CPU', 'tag', 'v:1.0', 'batchsize', 4, 'minbatchsize', 2,
      'inputs', ['a', 'b'], 'outputs', ['c'], 'minbatchtimeout', 150,
    ]);
    // Backend and device are case-insensitive; the backend comes back upper-case, the device as the
    // client wrote it (as the original: clients compare it); no options: zeros, empty tag.
    expect(await cmd('AI.MODELSTORE', 'm2', 'onnx', 'cpu:1', 'BLOB', MATMUL)).toBe('OK');
    expect(await cmd('AI.MODELGET', 'm2', 'META')).toEqual([
      'backend', 'ONNX', 'device', 'cpu:1', 'tag', '', 'batchsize', 0, 'minbatchsize', 0,
      'inputs', ['a', 'b'], 'outputs', ['c'], 'minbatchtimeout', 0,
    ]);
    // BATCHSIZE alone.
    expect(await cmd('AI.MODELSTORE', 'm3', 'ONNX', 'CPU', 'BATCHSIZE', '8', 'BLOB', ADD)).toBe('OK');
    expect(((await cmd('AI.MODELGET', 'm3', 'META')) as unknown[]).slice(6, 10)).toEqual(['batchsize', 8, 'minbatchsize', 0]);
  });

  it('MODELSTORE replaces a model; the key keeps one value', async () => {
    expect(await cmd('AI.MODELSTORE', 'm1', 'ONNX', 'CPU', 'TAG', 'v:2.0', 'BLOB', MATMUL)).toBe('OK');
    const meta = (await cmd('AI.MODELGET', 'm1', 'META')) as unknown[];
    expect(meta.slice(4, 10)).toEqual(['tag', 'v:2.0', 'batchsize', 0, 'minbatchsize', 0]);
    expect(Buffer.compare((await raw('AI.MODELGET', 'm1', 'BLOB')) as Buffer, MATMUL)).toBe(0);
  });

  it('BLOB in several chunks: they are concatenated', async () => {
    const cut = [0, 17, 60, 61, ADD.length];
    const chunks = cut.slice(1).map((end, i) => ADD.subarray(cut[i], end));
    expect(chunks.length).toBe(4);
    expect(await cmd('AI.MODELSTORE', 'chunked', 'ONNX', 'CPU', 'TAG', 'c', 'BLOB', ...chunks)).toBe('OK');
    expect(Buffer.compare((await raw('AI.MODELGET', 'chunked', 'BLOB')) as Buffer, ADD)).toBe(0);
    await cmd('AI.TENSORSET', 'ca', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    expect(await cmd('AI.MODELEXECUTE', 'chunked', 'INPUTS', '2', 'ca', 'ca', 'OUTPUTS', '1', 'cout')).toBe('OK');
    expect(await values('cout')).toEqual([2, 4]);
  });

  it('MODELSET (deprecated) stores like MODELSTORE', async () => {
    expect(await cmd('AI.MODELSET', 'old', 'ONNX', 'CPU', 'TAG', 'legacy', 'BATCHSIZE', '2', 'MINBATCHSIZE', '1', 'BLOB', ADD)).toBe('OK');
    expect(await cmd('AI.MODELGET', 'old', 'META')).toEqual([
      'backend', 'ONNX', 'device', 'CPU', 'tag', 'legacy', 'batchsize', 2, 'minbatchsize', 1,
      'inputs', ['a', 'b'], 'outputs', ['c'], 'minbatchtimeout', 0,
    ]);
    await cmd('AI.TENSORSET', 'oa', 'FLOAT', '1', '2', 'VALUES', '3', '4');
    expect(await cmd('AI.MODELEXECUTE', 'old', 'INPUTS', '2', 'oa', 'oa', 'OUTPUTS', '1', 'oc')).toBe('OK');
    expect(await values('oc')).toEqual([6, 8]);
  });

  it('MODELGET: META, BLOB, both by default (META first, whatever the order); extra arguments ignored', async () => {
    const meta = (await cmd('AI.MODELGET', GUARD_MODEL, 'META')) as unknown[];
    expect(meta).toEqual(GUARD_META);
    const blob = (await raw('AI.MODELGET', GUARD_MODEL, 'BLOB')) as Buffer;
    expect(Buffer.isBuffer(blob)).toBe(true);
    expect(Buffer.compare(blob, ADD)).toBe(0);
    for (const args of [[], ['META', 'BLOB'], ['blob', 'meta']]) {
      const all = (await raw('AI.MODELGET', GUARD_MODEL, ...args)) as unknown[];
      expect(all.length).toBe(18);
      expect(String(all[16])).toBe('blob');
      expect(Buffer.compare(all[17] as Buffer, ADD)).toBe(0);
      expect(all.slice(0, 6).map(String)).toEqual(['backend', 'ONNX', 'device', 'CPU', 'tag', 'g:1']);
    }
    expect(await cmd('AI.MODELGET', GUARD_MODEL, 'META', 'NOT_AN_OPTION')).toEqual(GUARD_META);
  });

  it('MODELGET replies chunks when the blob is at least MODEL_CHUNK_SIZE; they concatenate to the model', async () => {
    expect(await cmd('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe(535822336);
    try {
      expect(await cmd('AI.CONFIG', 'MODEL_CHUNK_SIZE', '64')).toBe('OK');
      expect(await cmd('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe(64);
      const chunks = (await raw('AI.MODELGET', GUARD_MODEL, 'BLOB')) as Buffer[];
      expect(Array.isArray(chunks)).toBe(true);
      expect(chunks.length).toBe(Math.ceil(ADD.length / 64));
      expect(chunks.slice(0, -1).every((c) => c.length === 64)).toBe(true);
      expect(Buffer.compare(Buffer.concat(chunks), ADD)).toBe(0);
      // In the default reply too.
      const all = (await raw('AI.MODELGET', GUARD_MODEL)) as unknown[];
      expect(Buffer.compare(Buffer.concat(all[17] as Buffer[]), ADD)).toBe(0);

      // Exactly the blob's size: one chunk in an array; one byte more: a plain bulk string.
      await cmd('AI.CONFIG', 'MODEL_CHUNK_SIZE', String(ADD.length));
      const one = (await raw('AI.MODELGET', GUARD_MODEL, 'BLOB')) as Buffer[];
      expect(Array.isArray(one) && one.length === 1 && one[0]!.equals(ADD)).toBe(true);
      await cmd('AI.CONFIG', 'MODEL_CHUNK_SIZE', String(ADD.length + 1));
      expect(Buffer.isBuffer(await raw('AI.MODELGET', GUARD_MODEL, 'BLOB'))).toBe(true);
    } finally {
      expect(await cmd('AI.CONFIG', 'MODEL_CHUNK_SIZE', '535822336')).toBe('OK');
    }
  });

  it('MODELDEL deletes; a second MODELDEL says the key is empty', async () => {
    expect(await cmd('AI.MODELSTORE', 'todel', 'ONNX', 'CPU', 'BLOB', ADD)).toBe('OK');
    expect(await cmd('AI.MODELDEL', 'todel')).toBe('OK');
    expect(await cmd('EXISTS', 'todel')).toBe(0);
    expect(await err('AI.MODELGET', 'todel')).toBe('ERR model key is empty');
    expect(await err('AI.MODELDEL', 'todel')).toBe('ERR model key is empty');
    expect(await err('AI.MODELDEL', GUARD)).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expectHealthy();
  });

  it('TYPE says AI__MODEL; DEL deletes a model', async () => {
    expect(await cmd('AI.MODELSTORE', 'typed', 'ONNX', 'CPU', 'BLOB', ADD)).toBe('OK');
    expect(await cmd('TYPE', 'typed')).toBe('AI__MODEL');
    expect(await cmd('DEL', 'typed')).toBe(1);
    expect(await cmd('EXISTS', 'typed')).toBe(0);
    expect(await err('AI.MODELEXECUTE', 'typed', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c')).toBe('ERR model key is empty');
  });

  it('AI._MODELSCAN lists [key, tag] of every model', async () => {
    await cmd('AI.MODELSTORE', 'scan:a', 'ONNX', 'CPU', 'TAG', 'ta', 'BLOB', ADD);
    await cmd('AI.MODELSTORE', 'scan:b', 'ONNX', 'CPU', 'BLOB', ADD);
    const scan = () => cmd('AI._MODELSCAN') as Promise<[string, string][]>;
    const all = await scan();
    expect(all).toContainEqual(['scan:a', 'ta']);
    expect(all).toContainEqual(['scan:b', '']);
    expect(all).toContainEqual([GUARD_MODEL, 'g:1']);
    // Only models: tensors and strings are not listed.
    expect(all.map((e) => e[0])).not.toContain(GUARD);
    expect(all.map((e) => e[0])).not.toContain('a-string');
    await cmd('DEL', 'scan:a');
    expect((await scan()).map((e) => e[0])).not.toContain('scan:a');
  });
});

// ---- MODELEXECUTE -------------------------------------------------------------------------------

describe('running models', () => {
  beforeAll(async () => {
    await cmd('AI.MODELSTORE', 'add', 'ONNX', 'CPU', 'BLOB', ADD);
    await cmd('AI.MODELSTORE', 'mul', 'ONNX', 'CPU', 'BLOB', MUL);
    await cmd('AI.MODELSTORE', 'matmul', 'ONNX', 'CPU', 'BLOB', MATMUL);
    await cmd('AI.TENSORSET', 'a', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3');
    await cmd('AI.TENSORSET', 'b', 'FLOAT', '2', '2', 'VALUES', '1', '-1', '0.5', '10');
  });

  it('Add, Mul, MatMul', async () => {
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'sum')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'sum', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'values', ['3', '2', '2.5', '13']]);
    expect(await cmd('AI.MODELEXECUTE', 'mul', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'prod')).toBe('OK');
    expect(await values('prod')).toEqual([2, -3, 1, 30]);
    await cmd('AI.TENSORSET', 'm23', 'FLOAT', '2', '3', 'VALUES', '1', '2', '3', '4', '5', '6');
    await cmd('AI.TENSORSET', 'm32', 'FLOAT', '3', '2', 'VALUES', '1', '0', '0', '1', '1', '1');
    expect(await cmd('AI.MODELEXECUTE', 'matmul', 'INPUTS', '2', 'm23', 'm32', 'OUTPUTS', '1', 'mm')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'mm', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'values', ['4', '5', '10', '11']]);
    // An output may overwrite an input key; the model read the old value.
    await cmd('AI.TENSORSET', 'acc', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'acc', 'acc', 'OUTPUTS', '1', 'acc')).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'acc', 'acc', 'OUTPUTS', '1', 'acc')).toBe('OK');
    expect(await values('acc')).toEqual([4, 8]);
  });

  it('INT64 in and out, through Identity, at the limits of the type', async () => {
    expect(await cmd('AI.MODELSTORE', 'id64', 'ONNX', 'CPU', 'BLOB', ID_INT64)).toBe('OK');
    const vals = ['-9223372036854775808', '9223372036854775807', '-42', '9007199254740993'];
    expect(await cmd('AI.TENSORSET', 'i64', 'INT64', '2', '2', 'VALUES', ...vals)).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'id64', 'INPUTS', '1', 'i64', 'OUTPUTS', '1', 'o64')).toBe('OK');
    expect(await raw('AI.TENSORGET', 'o64', 'VALUES')).toEqual(vals);
    expect(await cmd('AI.TENSORGET', 'o64', 'META')).toEqual(['dtype', 'INT64', 'shape', [2, 2]]);
    expect(((await raw('AI.TENSORGET', 'o64', 'BLOB')) as Buffer).equals((await raw('AI.TENSORGET', 'i64', 'BLOB')) as Buffer)).toBe(true);
  });

  it('STRING in and out, through Identity', async () => {
    expect(await cmd('AI.MODELSTORE', 'idstr', 'ONNX', 'CPU', 'BLOB', ID_STRING)).toBe('OK');
    const meta = (await cmd('AI.MODELGET', 'idstr', 'META')) as unknown[];
    expect([meta[11], meta[13]]).toEqual([['x'], ['y']]);
    const blob = Buffer.from('ab\0\0h\xc3\xa9llo w\xc3\xb6rld\0', 'latin1');
    expect(await cmd('AI.TENSORSET', 'str', 'STRING', '3', 'BLOB', blob)).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'idstr', 'INPUTS', '1', 'str', 'OUTPUTS', '1', 'ostr')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'ostr', 'META')).toEqual(['dtype', 'STRING', 'shape', [3]]);
    expect(((await raw('AI.TENSORGET', 'ostr', 'BLOB')) as Buffer).equals(blob)).toBe(true);
    expect(await cmd('AI.TENSORGET', 'ostr', 'VALUES')).toEqual(['ab', '', 'héllo wörld']);
  });

  it('MODELRUN (deprecated): INPUTS and OUTPUTS without counts, TIMEOUT first', async () => {
    expect(await cmd('AI.MODELRUN', 'add', 'INPUTS', 'a', 'a', 'OUTPUTS', 'run1')).toBe('OK');
    expect(await values('run1')).toEqual([4, 6, 4, 6]);
    expect(await cmd('AI.MODELRUN', 'add', 'TIMEOUT', '10000', 'INPUTS', 'a', 'b', 'OUTPUTS', 'run2')).toBe('OK');
    expect(await values('run2')).toEqual([3, 2, 2.5, 13]);
  });

  itShared('mnist.onnx on one.raw: the argmax is 1', ['models/mnist.onnx', 'models/one.raw'], async () => {
    expect(await cmd('AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BLOB', shared('mnist.onnx'))).toBe('OK');
    const meta = (await cmd('AI.MODELGET', 'mnist', 'META')) as unknown[];
    expect(meta.length).toBe(16);
    expect(meta[5]).toBe('');
    expect(meta[11]).toEqual(['Input3']);
    expect((meta[13] as unknown[]).length).toBe(1);
    expect(await cmd('AI.TENSORSET', 'one', 'FLOAT', '1', '1', '28', '28', 'BLOB', shared('one.raw'))).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'one', 'OUTPUTS', '1', 'scores')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'scores', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 10]]);
    const v = await values('scores');
    expect(v.indexOf(Math.max(...v))).toBe(1);
  });

  itShared('linear_iris.onnx: -0.090524077415466309', ['models/linear_iris.onnx'], async () => {
    expect(await cmd('AI.MODELSTORE', 'linear', 'ONNX', 'CPU', 'BLOB', shared('linear_iris.onnx'))).toBe('OK');
    expect(await cmd('AI.TENSORSET', 'features', 'FLOAT', '1', '4', 'VALUES', '5.1', '3.5', '1.4', '0.2')).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'linear', 'INPUTS', '1', 'features', 'OUTPUTS', '1', 'linear_out')).toBe('OK');
    const [y] = await values('linear_out');
    expect(y).toBeCloseTo(-0.090524077415466309, 6);
  });

  it('MULTI: MODELEXECUTE and MODELRUN are refused inside a transaction, TENSORSET is not', async () => {
    expect(await cmd('MULTI')).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'multi-out')).toBe('QUEUED');
    expect(await cmd('AI.MODELRUN', 'add', 'INPUTS', 'a', 'b', 'OUTPUTS', 'multi-out')).toBe('QUEUED');
    expect(await cmd('AI.TENSORSET', 'multi-t', 'FLOAT', '1', 'VALUES', '1')).toBe('QUEUED');
    const replies = (await cmd('EXEC')) as unknown[];
    expect(replies.length).toBe(3);
    for (const r of replies.slice(0, 2)) {
      expect(r).toBeInstanceOf(Error);
      expect((r as Error).message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
    }
    expect(replies[2]).toBe('OK');
    expect(await cmd('EXISTS', 'multi-out')).toBe(0);
    await expectHealthy();
  });
});

// ---- classifiers with a ZipMap (skl2onnx) --------------------------------------------------------

describe('a classifier whose probabilities are a ZipMap (a sequence of maps)', () => {
  // Class k scores x·coef[k]; labels 7, 3, 5 as the model lists them.
  const COEF = [
    [1, 0],
    [0, 1],
    [-1, -1],
  ];
  const softmax = (xs: number[]) => {
    const e = xs.map((x) => Math.exp(x - Math.max(...xs)));
    return e.map((v) => v / e.reduce((a, b) => a + b, 0));
  };

  it('stores; the label is the label; the probabilities are FLOAT [N, classes] in class-label order; META names both', async () => {
    expect(await cmd('AI.MODELSTORE', 'clf', 'ONNX', 'CPU', 'BLOB', zipMapClassifierModel({ labels: [7, 3, 5], coefficients: COEF }))).toBe('OK');
    const meta = (await cmd('AI.MODELGET', 'clf', 'META')) as unknown[];
    expect(meta.slice(10, 14)).toEqual(['inputs', ['float_input'], 'outputs', ['output_label', 'output_probability']]);
    const rows = [
      [3, 1],
      [0, 2],
      [-2, -1],
    ];
    expect(await cmd('AI.TENSORSET', 'flowers', 'FLOAT', '3', '2', 'VALUES', ...rows.flat().map(String))).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'clf', 'INPUTS', '1', 'flowers', 'OUTPUTS', '2', 'label', 'probs')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'label', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [3], 'values', [7, 3, 5]]);
    expect(((await cmd('AI.TENSORGET', 'probs', 'META')) as unknown[])).toEqual(['dtype', 'FLOAT', 'shape', [3, 3]]);
    const p = await values('probs');
    rows.forEach(([a, b], r) => {
      const s = softmax(COEF.map(([c, d]) => a! * c! + b! * d!));
      // Columns: label 3 (the model's second class), 5 (third), 7 (first).
      [1, 2, 0].forEach((k, j) => expect(p[r * 3 + j]).toBeCloseTo(s[k]!, 6));
    });
    // MODELGET BLOB returns the model as stored, ZipMap and all.
    expect(((await raw('AI.MODELGET', 'clf', 'BLOB')) as Buffer).includes('ZipMap')).toBe(true);
    await expectHealthy();
  });

  it('string labels: the label is a STRING tensor', async () => {
    expect(await cmd('AI.MODELSTORE', 'clf-s', 'ONNX', 'CPU', 'BLOB', zipMapClassifierModel({ labels: ['setosa', 'versicolor', 'virginica'], coefficients: COEF }))).toBe('OK');
    await cmd('AI.TENSORSET', 'one-flower', 'FLOAT', '1', '2', 'VALUES', '0', '2');
    expect(await cmd('AI.MODELEXECUTE', 'clf-s', 'INPUTS', '1', 'one-flower', 'OUTPUTS', '2', 'slabel', 'sprobs')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'slabel', 'VALUES')).toEqual(['versicolor']);
    expect((await cmd('AI.TENSORGET', 'sprobs', 'META')) as unknown[]).toEqual(['dtype', 'FLOAT', 'shape', [1, 3]]);
  });
});

// ---- AI.INFO ------------------------------------------------------------------------------------

/** AI.INFO's reply as an object: exactly the original's 9 pairs, in its order (clients compare it whole). */
async function info(key: string): Promise<Record<string, unknown>> {
  const r = (await cmd('AI.INFO', key)) as unknown[];
  expect(r.filter((_, i) => i % 2 === 0)).toEqual(['key', 'type', 'backend', 'device', 'tag', 'duration', 'samples', 'calls', 'errors']);
  return Object.fromEntries(Array.from({ length: 9 }, (_, i) => [r[2 * i], r[2 * i + 1]]));
}

describe('AI.INFO', () => {
  it('counts duration, samples, calls and errors; RESETSTAT zeroes them', async () => {
    expect(await cmd('AI.MODELSTORE', 'stats', 'ONNX', 'CPU:3', 'TAG', 'st', 'BLOB', ADD)).toBe('OK');
    expect(await info('stats')).toEqual({
      key: 'stats', type: 'MODEL', backend: 'ONNX', device: 'CPU:3', tag: 'st', duration: 0, samples: 0, calls: 0, errors: 0,
    });
    await cmd('AI.TENSORSET', 's3', 'FLOAT', '3', '2', 'VALUES', '1', '2', '3', '4', '5', '6');
    let previous = 0;
    for (let call = 1; call <= 3; call++) {
      expect(await cmd('AI.MODELEXECUTE', 'stats', 'INPUTS', '2', 's3', 's3', 'OUTPUTS', '1', 'sout')).toBe('OK');
      const i = await info('stats');
      expect(i.duration as number).toBeGreaterThan(previous);
      expect(i).toMatchObject({ samples: 3 * call, calls: call, errors: 0 });
      previous = i.duration as number;
    }
    // A run the backend refuses counts as a call and an error; a parse error counts nothing.
    await cmd('AI.TENSORSET', 'sd', 'DOUBLE', '3', '2');
    expect(await err('AI.MODELEXECUTE', 'stats', 'INPUTS', '2', 'sd', 's3', 'OUTPUTS', '1', 'sout')).toBe("ERR ONNX model input 'a' expects FLOAT, got DOUBLE");
    expect(await err('AI.MODELEXECUTE', 'stats', 'INPUTS', '1', 's3', 'OUTPUTS', '1', 'sout')).toBe(
      'Number of keys given as INPUTS here does not match model definition',
    );
    expect(await info('stats')).toMatchObject({ samples: 9, calls: 4, errors: 1 });

    expect(await cmd('AI.INFO', 'stats', 'RESETSTAT')).toBe('OK');
    expect(await info('stats')).toMatchObject({ duration: 0, samples: 0, calls: 0, errors: 0 });
  });

  it('the device as the client wrote it', async () => {
    expect(await cmd('AI.MODELSTORE', 'lower', 'ONNX', 'cpu', 'BLOB', ADD)).toBe('OK');
    expect((await info('lower')).device).toBe('cpu');
  });

  it("junk arguments: the original's arity error past 3, the key checked first, a third argument other than RESETSTAT ignored", async () => {
    expect(await err('AI.INFO', 'stats', 'RESETSTAT', 'x')).toBe("ERR wrong number of arguments for 'ai.info' command");
    expect(await err('AI.INFO', 'no-such-model', 'x', 'y', 'z')).toBe("ERR wrong number of arguments for 'ai.info' command");
    expect(await err('AI.INFO', 'no-such-model', 'junk')).toBe('ERR cannot find run info for key');
    await cmd('AI.MODELEXECUTE', 'stats', 'INPUTS', '2', 's3', 's3', 'OUTPUTS', '1', 'sout');
    const before = await info('stats');
    expect(before.calls).toBe(1);
    const r = (await cmd('AI.INFO', 'stats', 'junk')) as unknown[];
    expect(r).toHaveLength(18);
    expect(r[r.indexOf('calls') + 1]).toBe(1);
    await expectHealthy();
  });

  it('ERR cannot find run info for key: missing keys, tensors, strings', async () => {
    expect(await err('AI.INFO', 'no-such-model')).toBe('ERR cannot find run info for key');
    expect(await err('AI.INFO', 'no-such-model', 'RESETSTAT')).toBe('ERR cannot find run info for key');
    expect(await err('AI.INFO', GUARD)).toBe('ERR cannot find run info for key');
    expect(await err('AI.INFO', 'a-string')).toBe('ERR cannot find run info for key');
    await expectHealthy();
  });
});

// ---- AI.CONFIG ----------------------------------------------------------------------------------

describe('AI.CONFIG', () => {
  it('GET MODEL_CHUNK_SIZE is an integer reply; GET of an unknown name is nil', async () => {
    expect(await raw('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe('535822336'); // RESP integer (NUMBER mapped to String)
    expect(await cmd('AI.CONFIG', 'get', 'model_chunk_size')).toBe(535822336);
    expect(await cmd('AI.CONFIG', 'GET', 'NO_SUCH_OPTION')).toBeNull();
  });

  it.each([['0'], ['-1'], ['abc'], ['1.5'], ['']])('MODEL_CHUNK_SIZE %j is refused', async (v) => {
    expect(await err('AI.CONFIG', 'MODEL_CHUNK_SIZE', v)).toBe('ERR MODEL_CHUNK_SIZE: invalid chunk size');
    expect(await cmd('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe(535822336);
  });

  it('LOADBACKEND: twice is an error, an unknown backend is unsupported; unknown subcommands', async () => {
    // ONNX was loaded lazily by the first MODELSTORE of this server.
    expect(await err('AI.CONFIG', 'LOADBACKEND', 'ONNX', '@respai/backend-onnx')).toBe('ERR error loading backend');
    expect(await err('AI.CONFIG', 'LOADBACKEND', 'FOO', '@respai/backend-onnx')).toBe('ERR unsupported backend');
    expect(await err('AI.CONFIG', 'NO_SUCH_SUBCOMMAND')).toBe('ERR unsupported subcommand');
    expect(await err('AI.CONFIG', 'NO_SUCH_SUBCOMMAND', 'x')).toBe('ERR unsupported subcommand');
    expect(await err('AI.CONFIG')).toBe("ERR wrong number of arguments for 'ai.config' command");
    // ONNX still serves.
    expect(await cmd('AI.MODELEXECUTE', GUARD_MODEL, 'INPUTS', '2', GUARD, GUARD, 'OUTPUTS', '1', 'cfg-out')).toBe('OK');
    expect(await values('cfg-out')).toEqual([2.5, -4, 7, 0.2].map((x) => Math.fround(x)));
    await expectHealthy();
  });
});

describe('fresh servers: AI.INFO versions and LOADBACKEND', () => {
  let fresh: RunningServer[] = [];
  const clients: Client[] = [];
  beforeAll(async () => {
    fresh = await Promise.all([startServer(), startServer()]);
    clients.push(...(await Promise.all(fresh.map((s) => connect(s.port)))));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    for (const s of fresh) expect(await s.stop()).toBe(0);
  });

  it('AI.INFO: 6 entries before any backend loads, 8 with the ONNX version after', async () => {
    const c = clients[0]!;
    const before = (await c.sendCommand(['AI.INFO'])) as unknown[];
    expect(before.length).toBe(6);
    expect(before.filter((_, i) => i % 2 === 0)).toEqual(['Version', 'Low level API Version', 'RDB Encoding version']);
    expect(await c.sendCommand(['AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', ADD])).toBe('OK');
    const after = (await c.sendCommand(['AI.INFO'])) as unknown[];
    expect(after.length).toBe(8);
    expect(after.slice(0, 6)).toEqual(before);
    expect(after[6]).toBe('ONNX version');
    expect(String(after[7])).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('BACKENDSPATH set and get; LOADBACKEND ONNX by package name resolves from it, once', async () => {
    const c = clients[1]!;
    const path = (await c.sendCommand(['AI.CONFIG', 'GET', 'BACKENDSPATH'])) as string;
    expect(typeof path).toBe('string');
    expect(path.length).toBeGreaterThan(0);
    // Where no node_modules has the package, loading it fails and registers nothing.
    expect(await c.sendCommand(['AI.CONFIG', 'BACKENDSPATH', '/nonexistent/respai-backends'])).toBe('OK');
    expect(await c.sendCommand(['AI.CONFIG', 'GET', 'BACKENDSPATH'])).toBe('/nonexistent/respai-backends');
    expect(await errorOf(c, 'AI.CONFIG', 'LOADBACKEND', 'ONNX', '@respai/backend-onnx')).toBe('ERR error loading backend');
    expect(((await c.sendCommand(['AI.INFO'])) as unknown[]).length).toBe(6);

    expect(await c.sendCommand(['AI.CONFIG', 'BACKENDSPATH', path])).toBe('OK');
    expect(await c.sendCommand(['AI.CONFIG', 'LOADBACKEND', 'ONNX', '@respai/backend-onnx'])).toBe('OK');
    const infoReply = (await c.sendCommand(['AI.INFO'])) as unknown[];
    expect(infoReply.length).toBe(8);
    expect(infoReply[6]).toBe('ONNX version');
    expect(await errorOf(c, 'AI.CONFIG', 'LOADBACKEND', 'ONNX', '@respai/backend-onnx')).toBe('ERR error loading backend');
    // The loaded backend serves models.
    expect(await c.sendCommand(['AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', ADD])).toBe('OK');
    await c.sendCommand(['AI.TENSORSET', 'x', 'FLOAT', '1', '2', 'VALUES', '1', '2']);
    expect(await c.sendCommand(['AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'x', 'x', 'OUTPUTS', '1', 'y'])).toBe('OK');
    expect(await c.sendCommand(['AI.TENSORGET', 'y', 'VALUES'])).toEqual(['2', '4']);
  });
});

// ---- bad inputs ---------------------------------------------------------------------------------

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const GM = GUARD_MODEL;
const half = (b: Buffer) => b.subarray(0, b.length >> 1);

/** [description, command, exact error text]. Every MODELSTORE targets the guard model itself. */
const STORE_ERRORS: [string, Arg[], string][] = [
  ['arity (no device)', ['AI.MODELSTORE', GM, 'ONNX', 'BLOB', ADD], "ERR wrong number of arguments for 'ai.modelstore' command"],
  ['arity (typed Ai.ModelStore)', ['Ai.ModelStore', GM, 'ONNX', 'CPU'], "ERR wrong number of arguments for 'ai.modelstore' command"],
  ['unknown backend', ['AI.MODELSTORE', GM, 'PORCH', 'CPU', 'BLOB', ADD], 'ERR unsupported backend'],
  ['bad device', ['AI.MODELSTORE', GM, 'ONNX', 'bad_device', 'BLOB', ADD], 'ERR Invalid DEVICE'],
  ['bad device index', ['AI.MODELSTORE', GM, 'ONNX', 'CPU:x', 'BLOB', ADD], 'ERR Invalid DEVICE'],
  ['BATCHSIZE not a number', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', 'bad_size', 'BLOB', ADD], 'ERR Invalid argument for BATCHSIZE'],
  ['BATCHSIZE negative', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '-1', 'BLOB', ADD], 'ERR Invalid argument for BATCHSIZE'],
  ['MINBATCHSIZE without BATCHSIZE', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'MINBATCHSIZE', '2', 'BLOB', ADD], 'ERR MINBATCHSIZE specified without BATCHSIZE'],
  ['MINBATCHSIZE not a number', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2', 'MINBATCHSIZE', 'bad_size', 'BLOB', ADD], 'ERR Invalid argument for MINBATCHSIZE'],
  ['MINBATCHTIMEOUT without MINBATCHSIZE', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2', 'MINBATCHTIMEOUT', '1000', 'BLOB', ADD], 'ERR MINBATCHTIMEOUT specified without MINBATCHSIZE'],
  [
    'MINBATCHTIMEOUT not a number',
    ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2', 'MINBATCHSIZE', '2', 'MINBATCHTIMEOUT', 'bad_timeout', 'BLOB', ADD],
    'ERR Invalid argument for MINBATCHTIMEOUT',
  ],
  ['INPUTS for ONNX', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', ADD], 'ERR INPUTS argument should not be specified for this backend'],
  // The original compares the word after the options with INPUTS (not for this backend), then with BLOB.
  ['OUTPUTS for ONNX', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'OUTPUTS', '1', 'c', 'BLOB', ADD], 'ERR Invalid argument, expected BLOB'],
  ['device index of 6 digits', ['AI.MODELSTORE', GM, 'ONNX', 'CPU:123456', 'BLOB', ADD], 'ERR Invalid DEVICE'],
  ['TF input count past the arguments', ['AI.MODELSTORE', GM, 'TF', 'CPU', 'INPUTS', '2', 'a'], 'ERR number of model inputs does not match the number of given arguments'],
  ['TF output count past the arguments', ['AI.MODELSTORE', GM, 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1'], 'ERR number of model outputs does not match the number of given arguments'],
  ['TF input count 0', ['AI.MODELSTORE', GM, 'TF', 'CPU', 'INPUTS', '0', 'OUTPUTS', '1', 'c', 'BLOB', ADD], 'ERR Invalid argument for input_count'],
  ['TF nothing after the output names', ['AI.MODELSTORE', GM, 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul'], 'ERR Invalid argument, expected BLOB'],
  ['no BLOB', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2'], 'ERR Insufficient arguments, missing model BLOB'],
  ['NOT_BLOB', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2', 'NOT_BLOB'], 'ERR Invalid argument, expected BLOB'],
  ['BLOB without data', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2', 'BLOB'], 'ERR Insufficient arguments, missing model BLOB'],
  ['TF without INPUTS', ['AI.MODELSTORE', GM, 'TF', 'CPU', 'BLOB', ADD], 'ERR INPUTS not specified for TF'],
  ['TF without OUTPUTS', ['AI.MODELSTORE', GM, 'TF', 'CPU', 'INPUTS', '1', 'a', 'BLOB', ADD], 'ERR OUTPUTS not specified for TF'],
  ['GPU', ['AI.MODELSTORE', GM, 'ONNX', 'GPU', 'BLOB', ADD], 'ERR GPU requested but ONNX has no GPU support here'],
  ['gpu:1', ['AI.MODELSTORE', GM, 'ONNX', 'gpu:1', 'BLOB', ADD], 'ERR GPU requested but ONNX has no GPU support here'],
  ['garbage bytes', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BLOB', Buffer.from('this is not a model, just some bytes')], 'ERR Failed to load model because protobuf parsing failed.'],
  ['truncated ONNX', ['AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BLOB', half(HEAVY)], 'ERR Failed to load model because protobuf parsing failed.'],
  ['MODELSTORE on a string', ['AI.MODELSTORE', 'a-string', 'ONNX', 'CPU', 'BLOB', ADD], WRONGTYPE],
  ['MODELSTORE on a tensor', ['AI.MODELSTORE', GUARD, 'ONNX', 'CPU', 'BLOB', ADD], WRONGTYPE],
  ['MODELSET with INPUTS for ONNX', ['AI.MODELSET', GM, 'ONNX', 'CPU', 'INPUTS', 'a', 'b', 'OUTPUTS', 'c', 'BLOB', ADD], 'ERR INPUTS argument should not be specified for this backend'],
  ['MODELSET arity', ['AI.MODELSET', GM, 'ONNX'], "ERR wrong number of arguments for 'ai.modelset' command"],
  // tests_deprecated_commands.py's test_modelset_errors: the deprecated form's own checks.
  ['MODELSET BLOB without data', ['AI.MODELSET', GM, 'ONNX', 'CPU', 'BLOB'], 'ERR Insufficient arguments, missing model BLOB'],
  ['MODELSET device missing', ['AI.MODELSET', GM, 'ONNX', 'BLOB', ADD], 'ERR Invalid DEVICE'],
  ['MODELSET no BLOB after the options', ['AI.MODELSET', GM, 'ONNX', 'CPU', 'BATCHSIZE', '2', 'NOT_BLOB'], 'ERR Insufficient arguments, missing model BLOB'],
  ['MODELSET MINBATCHTIMEOUT without BATCHSIZE', ['AI.MODELSET', GM, 'ONNX', 'CPU', 'MINBATCHTIMEOUT', '5', 'BLOB', ADD], 'ERR MINBATCHTIMEOUT specified without BATCHSIZE'],
  ['MODELSET TF without names', ['AI.MODELSET', GM, 'TF', 'CPU', 'BLOB', ADD], 'ERR Insufficient arguments, INPUTS and OUTPUTS not specified'],
  ['MODELSET TF not INPUTS', ['AI.MODELSET', GM, 'TF', 'CPU', 'not_inputs', 'BLOB', ADD], 'ERR INPUTS not specified'],
  ['MODELSET TF without OUTPUTS', ['AI.MODELSET', GM, 'TF', 'CPU', 'INPUTS', 'a', 'b'], 'ERR OUTPUTS not specified'],
  ['MODELSET TF without BLOB', ['AI.MODELSET', GM, 'TF', 'CPU', 'INPUTS', 'a', 'b', 'OUTPUTS', 'mul'], 'ERR Insufficient arguments, missing model BLOB'],
  ['MODELGET missing key', ['AI.MODELGET', 'no-such-model'], 'ERR model key is empty'],
  ['MODELGET on a string', ['AI.MODELGET', 'a-string'], WRONGTYPE],
  ['MODELGET on a tensor', ['AI.MODELGET', GUARD, 'META'], WRONGTYPE],
  ['MODELGET arity', ['AI.MODELGET'], "ERR wrong number of arguments for 'ai.modelget' command"],
  ['MODELDEL arity', ['AI.MODELDEL', GM, 'x'], "ERR wrong number of arguments for 'ai.modeldel' command"],
];

/**
 * MODELEXECUTE errors (tests_commands.py's test_modelexecute_errors and more). The model `add` has
 * inputs a, b and output c; failing runs write to the guard tensor, which must stay unchanged.
 */
const X = (...rest: Arg[]): Arg[] => ['AI.MODELEXECUTE', 'add', ...rest];
const IO = ['INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', GUARD];
const RUN_ERRORS: [string, Arg[], string][] = [
  // The original's own arity text (upper case), before the model is looked up.
  ['arity', X('INPUTS', '2', 'a', 'b', 'OUTPUTS'), "ERR wrong number of arguments for 'AI.MODELEXECUTE' command"],
  ['arity of a missing model', ['AI.MODELEXECUTE', 'no-such-model'], "ERR wrong number of arguments for 'AI.MODELEXECUTE' command"],
  ['missing model', ['AI.MODELEXECUTE', 'no-such-model', ...IO], 'ERR model key is empty'],
  ['model key holds a tensor', ['AI.MODELEXECUTE', GUARD, ...IO], WRONGTYPE],
  ['model key holds a string', ['AI.MODELEXECUTE', 'a-string', ...IO], WRONGTYPE],
  ['TIMEOUT before INPUTS', X('timeout', '1000', ...IO), 'ERR INPUTS not specified'],
  ['input count not a number', X('INPUTS', 'not_a_number', 'a', 'b', 'OUTPUTS', '1', GUARD), 'ERR Invalid argument for input_count'],
  ['input count 0', X('INPUTS', '0', 'a', 'b', 'OUTPUTS', '1', GUARD), 'ERR Input count must be a positive integer'],
  ['input count -1', X('INPUTS', '-1', 'a', 'b', 'OUTPUTS', '1', GUARD), 'ERR Input count must be a positive integer'],
  ['1 input for 2', X('INPUTS', '1', 'a', 'OUTPUTS', '1', GUARD), 'Number of keys given as INPUTS here does not match model definition'],
  ['3 inputs and OTUPUTS (tests_onnx.py)', X('INPUTS', '3', 'a', 'b', 'c', 'OTUPUTS', 'c'), 'Number of keys given as INPUTS here does not match model definition'],
  ['NOT_OUTPUTS', X('INPUTS', '2', 'a', 'b', 'NOT_OUTPUTS', '1', GUARD), 'ERR OUTPUTS not specified'],
  ['output count not a number', X('INPUTS', '2', 'a', 'b', 'OUTPUTS', 'not_a_number', GUARD), 'ERR Invalid argument for output_count'],
  ['output count 0', X('INPUTS', '2', 'a', 'b', 'OUTPUTS', '0', GUARD), 'ERR Output count must be a positive integer'],
  ['2 outputs for 1', X('INPUTS', '2', 'a', 'b', 'OUTPUTS', '2', GUARD, 'd'), 'Number of keys given as OUTPUTS here does not match model definition'],
  ['no output key', X('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1'), 'ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments'],
  ['fewer input keys than the count', ['AI.MODELEXECUTE', 'sum5', 'INPUTS', '5', 'a', 'a', 'a', 'a'], 'ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments'],
  ['trailing argument', X(...IO, 'bad_arg'), 'Invalid argument: bad_arg'],
  ['TIMEOUT without value', X(...IO, 'TIMEOUT'), 'ERR No value provided for TIMEOUT'],
  ['TIMEOUT -43', X(...IO, 'TIMEOUT', '-43'), 'ERR Invalid value for TIMEOUT'],
  ['TIMEOUT not a number', X(...IO, 'TIMEOUT', 'soon'), 'ERR Invalid value for TIMEOUT'],
  ['argument after TIMEOUT', X(...IO, 'TIMEOUT', '1000', 'bad_arg'), 'Invalid argument: bad_arg'],
  ['missing input tensor', X('INPUTS', '2', 'a', 'no-such-tensor', 'OUTPUTS', '1', GUARD), 'ERR tensor key is empty or in a different shard'],
  ['input holds a string', X('INPUTS', '2', 'a-string', 'b', 'OUTPUTS', '1', GUARD), WRONGTYPE],
  ['input holds a model', X('INPUTS', '2', 'a', GM, 'OUTPUTS', '1', GUARD), WRONGTYPE],
  ['output holds a string', X('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'a-string'), WRONGTYPE],
  ['output holds a model', X('INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', GM), WRONGTYPE],
  ['wrong dtype for a', X('INPUTS', '2', 'd22', 'b', 'OUTPUTS', '1', GUARD), "ERR ONNX model input 'a' expects FLOAT, got DOUBLE"],
  ['wrong dtype for b', X('INPUTS', '2', 'a', 'i22', 'OUTPUTS', '1', GUARD), "ERR ONNX model input 'b' expects FLOAT, got INT32"],
  [
    'wrong shape for a',
    ['AI.MODELEXECUTE', 'mul', 'INPUTS', '2', 'f32', 'b', 'OUTPUTS', '1', GUARD],
    'ERR Got invalid dimensions for input: a for the following indices  index: 0 Got: 3 Expected: 2  Please fix either the inputs/outputs or the model.',
  ],
  [
    'wrong rank for b',
    ['AI.MODELEXECUTE', 'mul', 'INPUTS', '2', 'a', 'f222', 'OUTPUTS', '1', GUARD],
    'ERR Invalid rank for input: b Got: 3 Expected: 2 Please fix either the inputs/outputs or the model.',
  ],
  ['MODELRUN arity', ['AI.MODELRUN', 'add', 'INPUTS', 'a', 'OUTPUTS'], "ERR wrong number of arguments for 'AI.MODELRUN' command"],
  ['MODELRUN without OUTPUTS', ['AI.MODELRUN', 'add', 'TIMEOUT', '1000', 'INPUTS', 'a', 'b'], 'Number of keys given as OUTPUTS here does not match model definition'],
  ['MODELRUN without INPUTS', ['AI.MODELRUN', 'add', 'a', 'b', 'OUTPUTS', GUARD], 'ERR INPUTS not specified'],
  ['MODELRUN 1 input for 2', ['AI.MODELRUN', 'add', 'INPUTS', 'a', 'OUTPUTS', GUARD], 'Number of keys given as INPUTS here does not match model definition'],
  ['MODELRUN 2 outputs for 1', ['AI.MODELRUN', 'add', 'INPUTS', 'a', 'b', 'OUTPUTS', GUARD, 'x'], 'Number of keys given as OUTPUTS here does not match model definition'],
  ['MODELRUN missing model', ['AI.MODELRUN', 'no-such-model', 'INPUTS', 'a', 'b', 'OUTPUTS', GUARD], 'ERR model key is empty'],
  ['MODELRUN wrong dtype', ['AI.MODELRUN', 'add', 'INPUTS', 'a', 'd22', 'OUTPUTS', GUARD], "ERR ONNX model input 'b' expects FLOAT, got DOUBLE"],
];

describe('bad inputs: exact error texts, the server unharmed', () => {
  beforeAll(async () => {
    await cmd('AI.MODELSTORE', 'add', 'ONNX', 'CPU', 'BLOB', ADD);
    await cmd('AI.MODELSTORE', 'mul', 'ONNX', 'CPU', 'BLOB', MUL);
    await cmd('AI.MODELSTORE', 'sum5', 'ONNX', 'CPU', 'BLOB', SUM5);
    await cmd('AI.TENSORSET', 'a', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3');
    await cmd('AI.TENSORSET', 'b', 'FLOAT', '2', '2', 'VALUES', '1', '-1', '0.5', '10');
    await cmd('AI.TENSORSET', 'd22', 'DOUBLE', '2', '2');
    await cmd('AI.TENSORSET', 'i22', 'INT32', '2', '2');
    await cmd('AI.TENSORSET', 'f32', 'FLOAT', '3', '2');
    await cmd('AI.TENSORSET', 'f222', 'FLOAT', '2', '2', '2');
  });

  it.each(STORE_ERRORS)('store/get: %s', async (_what, args, text) => {
    expect(await err(...args)).toBe(text);
    await expectHealthy();
  });

  itShared('store: a TF graph (graph.pb) as ONNX', ['models/graph.pb'], async () => {
    expect(await err('AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BLOB', shared('graph.pb'))).toBe('ERR No graph was found in the protobuf.');
    await expectHealthy();
    const iris = shared('linear_iris.onnx');
    expect(await err('AI.MODELSTORE', GM, 'ONNX', 'CPU', 'BLOB', half(iris))).toBe('ERR Failed to load model because protobuf parsing failed.');
    await expectHealthy();
  });

  it.each(RUN_ERRORS)('run: %s', async (_what, args, text) => {
    expect(await err(...args)).toBe(text);
    await expectHealthy();
  });

  it('a failed run writes none of its outputs; the model still runs afterwards', async () => {
    expect(await cmd('EXISTS', 'c', 'd', 'x')).toBe(0);
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'after-errors')).toBe('OK');
    expect(await values('after-errors')).toEqual([3, 2, 2.5, 13]);
    expect(await err('AI.MODELEXECUTE', 'sum5', 'INPUTS', '5', 'one1', 'one1', 'one1', 'one1', 'one1', 'OUTPUTS', '1', 'y5')).toBe(
      'ERR tensor key is empty or in a different shard',
    );
    await cmd('AI.TENSORSET', 'one1', 'FLOAT', '1', 'VALUES', '1.5');
    expect(await cmd('AI.MODELEXECUTE', 'sum5', 'INPUTS', '5', 'one1', 'one1', 'one1', 'one1', 'one1', 'OUTPUTS', '1', 'y5')).toBe('OK');
    expect(await values('y5')).toEqual([7.5]);
    await expectHealthy();
  });
});

// ---- the run queue: TIMEOUT, other clients, disconnects -----------------------------------------

/** A RESP multibulk request, as clients send them. */
function resp(...args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', reject);
  });
}

/** CPU's queue as INFO MODULES reports it (asked on `client`, so after what it sent before). */
async function cpuQueue(): Promise<{ running: number; queued: number }> {
  const text = String(await cmd('INFO', 'MODULES'));
  const field = (name: string) => Number(new RegExp(`^ai_queue_CPU_${name}:(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { running: field('running'), queued: field('queued') };
}

/** Polls CPU's queue until `cond` holds (the server's own view, not a guess at timing). */
async function untilQueue(what: string, cond: (q: { running: number; queued: number }) => boolean): Promise<void> {
  for (let i = 0; !cond(await cpuQueue()); i++) {
    if (i > 10_000) throw new Error(`CPU's queue never showed: ${what}`);
    await sleep(2);
  }
}

describe('the run queue', () => {
  // 100 matmul layers on 4 x HEAVY_ROWS rows: seconds of work, so "still running" is the server's
  // state when it answers the other clients, not a race the test has to win.
  const heavierRun = (c: Client, out: string) => c.sendCommand(['AI.MODELEXECUTE', 'heavier', 'INPUTS', '1', 'x-heavier', 'OUTPUTS', '1', out]);

  beforeAll(async () => {
    expect(await cmd('AI.MODELSTORE', 'heavy', 'ONNX', 'CPU', 'BLOB', HEAVY)).toBe('OK');
    expect(await cmd('AI.MODELSTORE', 'heavier', 'ONNX', 'CPU', 'BLOB', matmulChainModel(512, 100))).toBe('OK');
    await cmd('AI.MODELSTORE', 'add', 'ONNX', 'CPU', 'BLOB', ADD);
    await cmd('AI.TENSORSET', 'a', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3');
    await cmd('AI.TENSORSET', 'x-heavier', 'FLOAT', String(4 * HEAVY_ROWS), '512');
    await cmd('AI.TENSORSET', 'x-light', 'FLOAT', '2', '512', 'BLOB', f32(...new Array(1024).fill(1)));
    // Warm the worker's sessions up.
    expect(await cmd('AI.MODELEXECUTE', 'heavy', 'INPUTS', '1', 'x-light', 'OUTPUTS', '1', 'y-light')).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'heavier', 'INPUTS', '1', 'x-light', 'OUTPUTS', '1', 'y-light')).toBe('OK');
    expect(new Set(await values('y-light'))).toEqual(new Set([1]));
  });

  it('another client is answered while a heavy model runs: its replies come first', async () => {
    const order: string[] = [];
    const run = heavierRun(other, 'y-heavy').then((r) => {
      order.push('model');
      return r;
    });
    await untilQueue('the heavy run started', (q) => q.running === 1);
    expect(await client.ping()).toBe('PONG');
    order.push('ping');
    expect(await cmd('SET', 'meanwhile', '1')).toBe('OK');
    expect(await cmd('AI.TENSORGET', GUARD, 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2]]);
    order.push('commands');
    // Answered after those: the model was computing all along.
    expect(await cpuQueue()).toEqual({ running: 1, queued: 0 });
    expect(await run).toBe('OK');
    expect(order).toEqual(['ping', 'commands', 'model']);
    expect(await cmd('AI.TENSORGET', 'y-heavy', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [4 * HEAVY_ROWS, 512]]);
  });

  it('TIMEOUT: a request queued behind a slow model replies TIMEDOUT and writes nothing', async () => {
    const order: string[] = [];
    const run = heavierRun(other, 'y-heavy2').then((r) => {
      order.push('model');
      return r;
    });
    await untilQueue('the heavy run started', (q) => q.running === 1);
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'timed-out', 'TIMEOUT', '50')).toBe('TIMEDOUT');
    order.push('timedout');
    // The deprecated form too.
    expect(await cmd('AI.MODELRUN', 'add', 'TIMEOUT', '20', 'INPUTS', 'a', 'a', 'OUTPUTS', 'timed-out')).toBe('TIMEDOUT');
    order.push('timedout');
    // Replied at their deadlines, while the slot was still busy.
    expect((await cpuQueue()).running).toBe(1);
    expect(await run).toBe('OK');
    expect(order).toEqual(['timedout', 'timedout', 'model']);
    expect(await cmd('EXISTS', 'timed-out')).toBe(0);
    // A TIMEOUT long enough lets it run.
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'in-time', 'TIMEOUT', '60000')).toBe('OK');
    expect(await values('in-time')).toEqual([4, 6, 4, 6]);
  });

  it('clients that disconnect while their request runs or waits: nothing breaks, others are served', async () => {
    const running = await rawSocket(server.port);
    const queued = await rawSocket(server.port);
    running.write(resp('AI.MODELEXECUTE', 'heavier', 'INPUTS', '1', 'x-heavier', 'OUTPUTS', '1', 'gone1'));
    await untilQueue('the heavy run started', (q) => q.running === 1);
    queued.write(resp('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'gone2'));
    // Queued behind both: served once they are done or dropped.
    const served = other.sendCommand(['AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'served']);
    await untilQueue('both requests queued behind it', (q) => q.queued === 2);
    running.destroy();
    queued.destroy();
    expect(await client.ping()).toBe('PONG');
    expect(await served).toBe('OK');
    expect(await values('served')).toEqual([4, 6, 4, 6]);
    // The heavy model's worker is fine: it runs again.
    expect(await cmd('AI.MODELEXECUTE', 'heavy', 'INPUTS', '1', 'x-light', 'OUTPUTS', '1', 'y-light2')).toBe('OK');
    expect(new Set(await values('y-light2'))).toEqual(new Set([1]));
    // A client that disconnects right after sending, with the queue empty.
    const quick = await rawSocket(server.port);
    quick.end(resp('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'gone3'));
    await sleep(50);
    expect(server.proc.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/"level":(50|60)|uncaught|unhandled/i);
    await expectHealthy();
  });
});
