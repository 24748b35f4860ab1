/**
 * Auto-batching end to end, through node-redis against the built server (THREADS_PER_QUEUE 1):
 * requests from several clients (and from DAGs) merged into one run, results split back per
 * request; fixed-batch models (mnist.onnx) and mismatched shapes never merged; MINBATCHSIZE with
 * and without MINBATCHTIMEOUT; TIMEOUT while a request waits; a model that returns the wrong batch.
 *
 * To make a batch form deterministically, a heavy model first occupies the device's one slot; the
 * requests queue behind it (INFO's ai_queue_CPU_queued says when they all have), then run together.
 * No assertion depends on speed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { OnnxType, encodeModel, identityModel, matmulChainModel } from '@respai/backend-onnx/testing';
import { mulModel } from '@respai/backend-tf/testing';
import { TensorType, binaryModel } from '@respai/backend-tflite/testing';
import { torchModelBlob } from '@respai/backend-torch/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { describeShared, itShared, sharedPath } from '@respai/core/testing';

const SHARED_MODELS = sharedPath('models');

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.NUMBER]: String } } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f32 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Seeded uniform values in [-scale, scale). */
function randoms(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

// mnist-sized dense classifier with a dynamic batch: x [N,784] -> Relu(x W1 + b1) W2 + b2 -> [N,10].
const W1 = randoms(784 * 32, 1, 0.05);
const B1 = randoms(32, 2, 0.1);
const W2 = randoms(32 * 10, 3, 0.3);
const B2 = randoms(10, 4, 0.1);
const raw32 = (a: Float32Array) => new Uint8Array(a.buffer.slice(0));
function mnistLike(batch: number | string): Buffer {
  return encodeModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'B1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['h'] },
      { op: 'MatMul', inputs: ['h', 'W2'], outputs: ['y0'] },
      { op: 'Add', inputs: ['y0', 'B2'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [batch, 784] } }],
    outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [batch, 10] } }],
    initializers: [
      { name: 'W1', type: OnnxType.FLOAT, dims: [784, 32], raw: raw32(W1) },
      { name: 'B1', type: OnnxType.FLOAT, dims: [32], raw: raw32(B1) },
      { name: 'W2', type: OnnxType.FLOAT, dims: [32, 10], raw: raw32(W2) },
      { name: 'B2', type: OnnxType.FLOAT, dims: [10], raw: raw32(B2) },
    ],
  });
}

/** The same network in plain JS (float64), row by row. */
function reference(x: Float32Array, rows: number): Float64Array {
  const out = new Float64Array(rows * 10);
  for (let r = 0; r < rows; r++) {
    const h = new Float64Array(32);
    for (let j = 0; j < 32; j++) {
      let s = B1[j]!;
      for (let i = 0; i < 784; i++) s += x[r * 784 + i]! * W1[i * 32 + j]!;
      h[j] = Math.max(0, s);
    }
    for (let k = 0; k < 10; k++) {
      let s = B2[k]!;
      for (let j = 0; j < 32; j++) s += h[j]! * W2[j * 10 + k]!;
      out[r * 10 + k] = s;
    }
  }
  return out;
}

/** y = ReduceSum(x, axis 0, keepdims): dimension 0 of the output is 1 whatever the batch. */
const WRONG_BATCH = encodeModel({
  nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims: 1 } }],
  inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } }],
  outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [1, 2] } }],
  initializers: [{ name: 'axes', type: OnnxType.INT64, dims: [1], int64s: [0] }],
});

const HEAVY = matmulChainModel(512, 20);

let server: RunningServer;
let clients: Client[];
let c0: Client;

async function connect(port: number): Promise<Client> {
  const c = createClient({ socket: { port, host: '127.0.0.1' } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

beforeAll(async () => {
  server = await startServer(['--threads-per-queue', '1']);
  clients = await Promise.all(Array.from({ length: 8 }, () => connect(server.port)));
  c0 = clients[0]!;
  expect(await c0.sendCommand(['AI.MODELSTORE', 'heavy', 'ONNX', 'CPU', 'BLOB', HEAVY])).toBe('OK');
});

afterAll(async () => {
  for (const c of clients ?? []) await c.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

const cmd = (c: Client, ...args: Arg[]): Promise<unknown> => c.sendCommand(args);
const reply = (p: Promise<unknown>) => p.then((r) => r, (e: Error) => `error: ${e.message}`);

/** INFO MODULES as key -> value. */
async function info(): Promise<Record<string, string>> {
  const text = (await cmd(c0, 'INFO', 'MODULES')) as string;
  return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** AI.INFO key as an object. */
async function aiInfo(key: string): Promise<Record<string, unknown>> {
  const r = (await cmd(c0, 'AI.INFO', key)) as unknown[];
  const o: Record<string, unknown> = {};
  for (let i = 0; i < r.length; i += 2) o[r[i] as string] = r[i + 1];
  return o;
}

/**
 * The batches CPU's queue formed while `run` ran (INFO's ai_queue_CPU_batch_runs and
 * _batch_requests: runs of BATCHSIZE models and the requests they served). The heavy model has no
 * BATCHSIZE, so only the requests under test count.
 */
async function batches<T>(run: () => Promise<T>): Promise<{ out: T; runs: number; requests: number }> {
  const read = async () => {
    const i = await info();
    return [Number(i['ai_queue_CPU_batch_runs'] ?? 0), Number(i['ai_queue_CPU_batch_requests'] ?? 0)] as const;
  };
  const [r0, q0] = await read();
  const out = await run();
  const [r1, q1] = await read();
  return { out, runs: r1 - r0, requests: q1 - q0 };
}

/**
 * Occupies CPU's slot with the heavy model, sends `requests` (each on its own client), waits until
 * they are all queued behind it, and resolves with their replies. Tries again (up to 3 times) if
 * the heavy run ended before every request was queued, which only a very slow machine would see.
 */
async function behindHeavy(requests: ((c: Client) => Promise<unknown>)[], rows = 1024): Promise<unknown[]> {
  expect(requests.length).toBeLessThan(clients.length - 1);
  const hc = clients[clients.length - 1]!;
  await cmd(c0, 'AI.TENSORSET', 'hx', 'FLOAT', String(rows), '512', 'BLOB', Buffer.alloc(rows * 512 * 4));
  for (let attempt = 0; ; attempt++) {
    const heavy = cmd(hc, 'AI.MODELEXECUTE', 'heavy', 'INPUTS', '1', 'hx', 'OUTPUTS', '1', 'hy');
    await waitFor('the heavy run to start', async () => (await info())['ai_queue_CPU_running'] === '1');
    const pending = requests.map((r, i) => reply(r(clients[i + 1]!)));
    let queuedAll = false;
    await waitFor('the requests to queue', async () => {
      const i = await info();
      queuedAll ||= i['ai_queue_CPU_queued'] === String(requests.length) && i['ai_queue_CPU_running'] === '1';
      return queuedAll || i['ai_queue_CPU_running'] === '0';
    });
    expect(await heavy).toBe('OK');
    const out = await Promise.all(pending);
    if (queuedAll || attempt === 2) {
      expect(queuedAll).toBe(true);
      return out;
    }
    await cmd(c0, 'AI.INFO', 'heavy', 'RESETSTAT');
  }
}

const execute = (model: string, input: string, output: string, ...extra: string[]) => (c: Client) =>
  cmd(c, 'AI.MODELEXECUTE', model, 'INPUTS', '1', input, 'OUTPUTS', '1', output, ...extra);

async function floats(key: string): Promise<Float32Array> {
  const b = (await c0.sendCommand(['AI.TENSORGET', key, 'BLOB'], RAW)) as Buffer;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
}

describe('batches form across clients', () => {
  it('four clients with 1, 2, 1 and 3 rows: one run of 7, each gets its own rows', async () => {
    expect(await cmd(c0, 'AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BATCHSIZE', '8', 'BLOB', mnistLike('N'))).toBe('OK');
    const rows = [1, 2, 1, 3];
    const xs = rows.map((n, i) => randoms(n * 784, 10 + i));
    for (let i = 0; i < rows.length; i++) await cmd(c0, 'AI.TENSORSET', `x${i}`, 'FLOAT', String(rows[i]), '784', 'BLOB', f32(xs[i]!));
    const { out, runs, requests } = await batches(() => behindHeavy(rows.map((_, i) => execute('mnist', `x${i}`, `y${i}`))));
    expect(out).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect({ runs, requests }).toEqual({ runs: 1, requests: 4 });
    for (let i = 0; i < rows.length; i++) {
      expect(await cmd(c0, 'AI.TENSORGET', `y${i}`, 'META')).toEqual(['dtype', 'FLOAT', 'shape', [rows[i], 10]]);
      expectClose(await floats(`y${i}`), reference(xs[i]!, rows[i]!));
    }
    expect(await aiInfo('mnist')).toMatchObject({ calls: 4, samples: 7, errors: 0 });
    const i = await info();
    expect(i['ai_queue_CPU_batch_runs']).toBe('1');
    expect(i['ai_queue_CPU_batch_requests']).toBe('4');
  });

  it('BATCHSIZE caps a batch: five one-row requests with BATCHSIZE 2 run as 2 + 2 + 1', async () => {
    expect(await cmd(c0, 'AI.MODELSTORE', 'mnist2', 'ONNX', 'CPU', 'BATCHSIZE', '2', 'BLOB', mnistLike('N'))).toBe('OK');
    const x = randoms(784, 20);
    await cmd(c0, 'AI.TENSORSET', 'one', 'FLOAT', '1', '784', 'BLOB', f32(x));
    const { out, runs, requests } = await batches(() => behindHeavy([0, 1, 2, 3, 4].map((i) => execute('mnist2', 'one', `o${i}`))));
    expect(out).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
    // Three runs of at most 2 for 5 requests: 2 + 2 + 1.
    expect({ runs, requests }).toEqual({ runs: 3, requests: 5 });
    expect(await aiInfo('mnist2')).toMatchObject({ calls: 5, samples: 5 });
    for (let i = 0; i < 5; i++) expectClose(await floats(`o${i}`), reference(x, 1));
  });

  it('TORCH, TF and TFLITE models batch too, each model its own batch', async () => {
    const store = (key: string, ...args: Arg[]) => cmd(c0, 'AI.MODELSTORE', key, ...args);
    expect(await store('bt', 'TORCH', 'CPU', 'BATCHSIZE', '4', 'BLOB', torchModelBlob('def forward(self, a, b):\n    return a + b\n'))).toBe('OK');
    expect(await store('bf', 'TF', 'CPU', 'BATCHSIZE', '4', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', mulModel())).toBe('OK');
    expect(await store('bl', 'TFLITE', 'CPU', 'BATCHSIZE', '4', 'BLOB', binaryModel('ADD', TensorType.FLOAT32, [1, 2]))).toBe('OK');
    await cmd(c0, 'AI.TENSORSET', 'ba', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    await cmd(c0, 'AI.TENSORSET', 'bb', 'FLOAT', '1', '2', 'VALUES', '3', '4');
    const run = (model: string, out: string) => (c: Client) => cmd(c, 'AI.MODELEXECUTE', model, 'INPUTS', '2', 'ba', 'bb', 'OUTPUTS', '1', out);
    const { out, runs, requests } = await batches(() =>
      behindHeavy([run('bt', 't0'), run('bf', 'f0'), run('bl', 'l0'), run('bt', 't1'), run('bf', 'f1'), run('bl', 'l1')]),
    );
    expect(out).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
    // Three runs for three models (never merged across models): each model's two requests ran as one.
    expect({ runs, requests }).toEqual({ runs: 3, requests: 6 });
    for (const k of ['t0', 't1', 'l0', 'l1']) expect([...(await floats(k))]).toEqual([4, 6]);
    for (const k of ['f0', 'f1']) expect([...(await floats(k))]).toEqual([3, 8]);
    for (const m of ['bt', 'bf', 'bl']) expect(await aiInfo(m)).toMatchObject({ calls: 2, samples: 2 });
  });

  it('a DAG and plain MODELEXECUTEs batch together', async () => {
    const x = randoms(784, 30);
    await cmd(c0, 'AI.TENSORSET', 'dx', 'FLOAT', '1', '784', 'BLOB', f32(x));
    await cmd(c0, 'AI.INFO', 'mnist', 'RESETSTAT');
    const dag = (c: Client) =>
      cmd(c, 'AI.DAGEXECUTE', 'LOAD', '1', 'dx', '|>', 'AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'dx', 'OUTPUTS', '1', 'dy', '|>', 'AI.TENSORGET', 'dy', 'META');
    const { out, runs, requests } = await batches(() => behindHeavy([dag, execute('mnist', 'dx', 'p1'), dag]));
    expect(out).toEqual([['OK', ['dtype', 'FLOAT', 'shape', [1, 10]]], 'OK', ['OK', ['dtype', 'FLOAT', 'shape', [1, 10]]]]);
    expect({ runs, requests }).toEqual({ runs: 1, requests: 3 });
    expect(await aiInfo('mnist')).toMatchObject({ calls: 3 });
  });
});

describe('what is never merged', () => {
  itShared('mnist.onnx (fixed batch of 1) with BATCHSIZE 4: every request runs alone, all succeed', ['models/mnist.onnx', 'models/one.raw'], async () => {
    const blob = readFileSync(join(SHARED_MODELS, 'mnist.onnx'));
    expect(await cmd(c0, 'AI.MODELSTORE', 'fixed', 'ONNX', 'CPU', 'BATCHSIZE', '4', 'BLOB', blob)).toBe('OK');
    await cmd(c0, 'AI.TENSORSET', 'img', 'FLOAT', '1', '1', '28', '28', 'BLOB', readFileSync(join(SHARED_MODELS, 'one.raw')));
    const { out, runs, requests } = await batches(() => behindHeavy([0, 1, 2].map((i) => execute('fixed', 'img', `f${i}`))));
    expect(out).toEqual(['OK', 'OK', 'OK']);
    expect({ runs, requests }).toEqual({ runs: 3, requests: 3 });
    expect(await aiInfo('fixed')).toMatchObject({ calls: 3, errors: 0 });
    const scores = await floats('f2');
    expect(scores.indexOf(Math.max(...scores))).toBe(1);
  });

  it("the project's own fixed-batch model ([1,784]) with BATCHSIZE 4: never merged", async () => {
    expect(await cmd(c0, 'AI.MODELSTORE', 'fixed1', 'ONNX', 'CPU', 'BATCHSIZE', '4', 'BLOB', mnistLike(1))).toBe('OK');
    await cmd(c0, 'AI.TENSORSET', 'one', 'FLOAT', '1', '784', 'BLOB', f32(randoms(784, 40)));
    const { out, runs, requests } = await batches(() => behindHeavy([0, 1].map((i) => execute('fixed1', 'one', `g${i}`))));
    expect(out).toEqual(['OK', 'OK']);
    expect({ runs, requests }).toEqual({ runs: 2, requests: 2 });
    expect(await aiInfo('fixed1')).toMatchObject({ calls: 2, errors: 0 });
  });

  it('inputs that differ after dimension 0 (or in dtype) run apart; those that agree merge', async () => {
    expect(await cmd(c0, 'AI.MODELSTORE', 'id', 'ONNX', 'CPU', 'BATCHSIZE', '16', 'BLOB', identityModel(OnnxType.FLOAT, ['N', 'M']))).toBe('OK');
    await cmd(c0, 'AI.TENSORSET', 'w2', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    await cmd(c0, 'AI.TENSORSET', 'w3', 'FLOAT', '1', '3', 'VALUES', '1', '2', '3');
    await cmd(c0, 'AI.TENSORSET', 'w22', 'FLOAT', '2', '2', 'VALUES', '5', '6', '7', '8');
    const { out, runs, requests } = await batches(() => behindHeavy([execute('id', 'w2', 'v0'), execute('id', 'w3', 'v1'), execute('id', 'w22', 'v2')]));
    expect(out).toEqual(['OK', 'OK', 'OK']);
    // [1,2] and [2,2] merged; [1,3] alone.
    expect({ runs, requests }).toEqual({ runs: 2, requests: 3 });
    expect(await aiInfo('id')).toMatchObject({ calls: 3, samples: 4 });
    expect(await cmd(c0, 'AI.TENSORGET', 'v0', 'VALUES')).toEqual(['1', '2']);
    expect(await cmd(c0, 'AI.TENSORGET', 'v1', 'VALUES')).toEqual(['1', '2', '3']);
    expect(await cmd(c0, 'AI.TENSORGET', 'v2', 'VALUES')).toEqual(['5', '6', '7', '8']);
  });
});

describe('MINBATCHSIZE, MINBATCHTIMEOUT and TIMEOUT', () => {
  it('MINBATCHSIZE 2 without a timeout: one request waits until a second arrives', async () => {
    expect(await cmd(c0, 'AI.MODELSTORE', 'min2', 'ONNX', 'CPU', 'BATCHSIZE', '4', 'MINBATCHSIZE', '2', 'BLOB', mnistLike('N'))).toBe('OK');
    await cmd(c0, 'AI.TENSORSET', 'one', 'FLOAT', '1', '784', 'BLOB', f32(randoms(784, 50)));
    const [runs0, requests0] = await info().then((i) => [Number(i['ai_queue_CPU_batch_runs']), Number(i['ai_queue_CPU_batch_requests'])]);
    let firstDone = false;
    const first = execute('min2', 'one', 'm0')(clients[1]!).then((r) => ((firstDone = true), r));
    await waitFor('the request to queue', async () => (await info())['ai_queue_CPU_queued'] === '1');
    // The queue stays free for everything else meanwhile.
    expect(await cmd(c0, 'AI.MODELEXECUTE', 'id', 'INPUTS', '1', 'w2', 'OUTPUTS', '1', 'z')).toBe('OK');
    await sleep(300);
    expect(firstDone).toBe(false);
    const second = await execute('min2', 'one', 'm1')(clients[2]!);
    expect([await first, second]).toEqual(['OK', 'OK']);
    expect(await aiInfo('min2')).toMatchObject({ calls: 2 });
    // The 'id' run in between, and min2's two requests in one run.
    const i = await info();
    expect([Number(i['ai_queue_CPU_batch_runs']) - runs0!, Number(i['ai_queue_CPU_batch_requests']) - requests0!]).toEqual([2, 3]);
  });

  it('MINBATCHTIMEOUT: a lone request waits in the queue, then runs alone', async () => {
    expect(
      await cmd(c0, 'AI.MODELSTORE', 'mint', 'ONNX', 'CPU', 'BATCHSIZE', '4', 'MINBATCHSIZE', '3', 'MINBATCHTIMEOUT', '1500', 'BLOB', mnistLike('N')),
    ).toBe('OK');
    let done = false;
    const { out, runs } = await batches(async () => {
      const r = execute('mint', 'one', 'mt')(clients[1]!).then((x) => ((done = true), x));
      // Seen waiting for its batch (how long exactly is core's queue test, under fake timers).
      await waitFor('the request to wait for its batch', async () => done || (await info())['ai_queue_CPU_queued'] === '1');
      expect(done).toBe(false);
      return r;
    });
    expect(out).toBe('OK');
    expect(runs).toBe(1);
    expect(await aiInfo('mint')).toMatchObject({ calls: 1 });
  });

  it('TIMEOUT applies while a request waits for its batch: TIMEDOUT, nothing written, nothing counted', async () => {
    const { out: t, runs } = await batches(() => execute('min2', 'one', 'never', 'TIMEOUT', '150')(clients[1]!));
    expect(t).toBe('TIMEDOUT');
    expect(await cmd(c0, 'EXISTS', 'never')).toBe(0);
    expect(runs).toBe(0);
    expect(await aiInfo('min2')).toMatchObject({ calls: 2 });
    expect((await info())['ai_queue_CPU_queued']).toBe('0');
  });
});

describe('a model that does not return the batch', () => {
  it('every request of the batch gets the catalog text; the model keeps serving', async () => {
    expect(await cmd(c0, 'AI.MODELSTORE', 'bad', 'ONNX', 'CPU', 'BATCHSIZE', '8', 'BLOB', WRONG_BATCH)).toBe('OK');
    await cmd(c0, 'AI.TENSORSET', 'b1', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    await cmd(c0, 'AI.TENSORSET', 'b2', 'FLOAT', '2', '2', 'VALUES', '3', '4', '5', '6');
    const { out, runs, requests } = await batches(() => behindHeavy([execute('bad', 'b1', 'r1'), execute('bad', 'b2', 'r2')]));
    expect(out).toEqual(['error: ERR Model did not generate the expected batch size', 'error: ERR Model did not generate the expected batch size']);
    expect(await cmd(c0, 'EXISTS', 'r1', 'r2')).toBe(0);
    expect({ runs, requests }).toEqual({ runs: 1, requests: 2 });
    expect(await aiInfo('bad')).toMatchObject({ calls: 2, errors: 2 });
    // Alone, the request is its own batch and nothing needs splitting.
    expect(await cmd(c0, 'AI.MODELEXECUTE', 'bad', 'INPUTS', '1', 'b2', 'OUTPUTS', '1', 'r3')).toBe('OK');
    expect(await cmd(c0, 'AI.TENSORGET', 'r3', 'VALUES')).toEqual(['8', '10']);
  });
});
