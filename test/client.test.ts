/**
 * @respai/client end to end against the built server, through every connection it accepts:
 * node-redis 5 over RESP2 and RESP3, and ioredis 5 (RESP2; ioredis 5 has no RESP3). Every dtype,
 * every backend (ONNX, TF, TFLITE, TORCH with the project's own fixtures; the real models of
 * ../shared/models through itShared), chunked model uploads, scripts, DAGs, INFO/CONFIG and the
 * server's error texts carried by RespaiError.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { RespaiClient, RespaiError, type Tensor } from '@respai/client';
import { itShared, sharedPath } from '@respai/core/testing';
import { OnnxType, binaryModel as onnxBinary } from '@respai/backend-onnx/testing';
import { mulModel } from '@respai/backend-tf/testing';
import { TensorType, binaryModel as tfliteBinary } from '@respai/backend-tflite/testing';
import { torchModelBlob } from '@respai/backend-torch/testing';
import { startServer, type RunningServer } from './helpers/server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

interface Kind {
  name: string;
  connect(port: number): Promise<{ ai: RespaiClient; raw(...args: string[]): Promise<unknown>; close(): Promise<unknown> }>;
}

const kinds: Kind[] = [2, 3].map(
  (RESP): Kind => ({
    name: `node-redis RESP${RESP}`,
    async connect(port) {
      const c = createClient({ socket: { port, host: '127.0.0.1' }, RESP: RESP as 2 | 3 });
      c.on('error', () => undefined);
      await c.connect();
      return { ai: new RespaiClient(c), raw: (...a) => c.sendCommand(a), close: () => c.close() };
    },
  }),
);
kinds.push({
  name: 'ioredis',
  async connect(port) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await c.connect();
    return { ai: new RespaiClient(c), raw: (...a) => c.call(a[0]!, ...a.slice(1)), close: () => c.quit() };
  },
});

/** The error a call rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<RespaiError> {
  try {
    await p;
  } catch (e) {
    if (RespaiError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const ADD_ONNX = onnxBinary('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);
const ADD_TFLITE = tfliteBinary('ADD', TensorType.FLOAT32, [2, 2]);
const ADD_TORCH = torchModelBlob('def forward(self, a, b):\n    return a + b\n');
const SCRIPT = [
  'def addtwo(a, b):',
  '    return a + b',
  '',
  'def addn(a, args: List[Tensor]):',
  '    return a + torch.stack(args).sum()',
  '',
  'def scale(a, k: float):',
  '    return a * k',
  '',
].join('\n');

for (const kind of kinds) {
  describe(kind.name, () => {
    let ai: RespaiClient;
    let raw: (...args: string[]) => Promise<unknown>;
    let close: () => Promise<unknown>;
    // Each kind has its own keys: the three share one server.
    const p = kind.name.replace(/\W+/g, '-') + ':';

    beforeAll(async () => {
      ({ ai, raw, close } = await kind.connect(server.port));
    });
    afterAll(async () => {
      await close?.();
    });

    describe('tensors', () => {
      const cases: [string, Tensor][] = [
        ['FLOAT', { dtype: 'FLOAT', shape: [2, 2], data: new Float32Array([1.5, -2, 3.25, 1e-7]) }],
        ['DOUBLE', { dtype: 'DOUBLE', shape: [3], data: new Float64Array([Math.PI, -0, 1e300]) }],
        ['INT8', { dtype: 'INT8', shape: [3], data: new Int8Array([-128, 0, 127]) }],
        ['INT16', { dtype: 'INT16', shape: [1, 3], data: new Int16Array([-32768, 5, 32767]) }],
        ['INT32', { dtype: 'INT32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) }],
        ['INT64', { dtype: 'INT64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) }],
        ['UINT8', { dtype: 'UINT8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) }],
        ['UINT16', { dtype: 'UINT16', shape: [2], data: new Uint16Array([0, 65535]) }],
        ['BOOL', { dtype: 'BOOL', shape: [3], data: [true, false, true] }],
        ['STRING', { dtype: 'STRING', shape: [3], data: ['hello', '', 'wörld ✓'] }],
      ];
      for (const [dtype, t] of cases) {
        it(`${dtype}: tensorSet then tensorGet gives back dtype, shape and data`, async () => {
          await ai.tensorSet(p + dtype, t.data, { shape: t.shape });
          const back = await ai.tensorGet(p + dtype);
          expect(back.dtype).toBe(dtype);
          expect(back.shape).toEqual(t.shape);
          expect(back.data).toEqual(t.data);
          expect(back.data.constructor).toBe(t.data.constructor);
          // What the server holds, read without the client: the same values.
          expect(await raw('AI.TENSORGET', p + dtype, 'META')).toEqual(['dtype', dtype, 'shape', [...t.shape]]);
        });
      }

      it('a tensor as tensorGet returned it stores again as it is', async () => {
        const t = await ai.tensorGet(p + 'INT64');
        await ai.tensorSet(p + 'copy', t);
        expect(await ai.tensorGet(p + 'copy', 'INT64')).toEqual(t);
      });

      it('plain number arrays take the dtype given; INT64 accepts numbers and bigints', async () => {
        await ai.tensorSet(p + 'n', [1, 2, 3, 4, 5, 6], { dtype: 'INT16', shape: [2, 3] });
        expect(await raw('AI.TENSORGET', p + 'n', 'VALUES')).toEqual([1, 2, 3, 4, 5, 6]);
        await ai.tensorSet(p + 'big', [1, 2n], { dtype: 'INT64' });
        expect((await ai.tensorGet(p + 'big', 'INT64')).data).toEqual(new BigInt64Array([1n, 2n]));
        await ai.tensorSet(p + 'f', [0.5, 2], { dtype: 'FLOAT' });
        expect(await raw('AI.TENSORGET', p + 'f', 'VALUES')).toEqual(kind.name.endsWith('RESP3') ? [0.5, 2] : ['0.5', '2']);
      });

      it('a Buffer is the raw bytes of the dtype given (UINT8 without one); a wrong length is a TypeError', async () => {
        const bytes = Buffer.from(new Float32Array([1.5, 2.5, 3.5, 4.5]).buffer);
        await ai.tensorSet(p + 'buf', bytes, { dtype: 'FLOAT', shape: [2, 2] });
        expect(await ai.tensorGet(p + 'buf', 'FLOAT')).toEqual({ dtype: 'FLOAT', shape: [2, 2], data: new Float32Array([1.5, 2.5, 3.5, 4.5]) });
        await ai.tensorSet(p + 'u8', Buffer.from([1, 2, 3]));
        expect(await ai.tensorGet(p + 'u8')).toEqual({ dtype: 'UINT8', shape: [3], data: new Uint8Array([1, 2, 3]) });
        await ai.tensorSet(p + 'sb', Buffer.from('a\0bc\0'), { dtype: 'STRING' });
        expect((await ai.tensorGet(p + 'sb', 'STRING')).data).toEqual(['a', 'bc']);
        await expect(ai.tensorSet(p + 'bad', bytes, { dtype: 'DOUBLE', shape: [4] })).rejects.toThrow(
          'shape [4] holds 4 elements, the 16 bytes hold 2 DOUBLE elements',
        );
      });

      it('a Float64Array stored as FLOAT is converted; tensorGet with the wrong dtype rejects', async () => {
        await ai.tensorSet(p + 'conv', new Float64Array([1.5, 2.5]), { dtype: 'FLOAT' });
        expect((await ai.tensorGet(p + 'conv', 'FLOAT')).data).toEqual(new Float32Array([1.5, 2.5]));
        await expect(ai.tensorGet(p + 'conv', 'DOUBLE')).rejects.toThrow(`tensor ${p}conv is FLOAT, not DOUBLE`);
      });

      it('1 MiB FLOAT tensor round trip', async () => {
        const data = new Float32Array(262144).map((_, i) => i * 0.5);
        await ai.tensorSet(p + 'big1m', data);
        const back = await ai.tensorGet(p + 'big1m', 'FLOAT');
        expect(back.shape).toEqual([262144]);
        expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(data.buffer))).toBe(true);
      });

      it('client-side mistakes are TypeErrors, before anything is sent', async () => {
        await expect(ai.tensorSet(p + 'bad', new Float32Array(3), { shape: [2, 2] })).rejects.toThrow(
          'shape [2, 2] holds 4 elements, the data has 3',
        );
        await expect(ai.tensorSet(p + 'bad', [1, 2])).rejects.toThrow('pass a dtype for plain arrays');
        await expect(ai.tensorSet(p + 'bad', ['a\0b'])).rejects.toThrow('cannot contain NUL');
        expect(await raw('EXISTS', p + 'bad')).toBe(0);
      });

      it("the server's errors arrive as RespaiError with the exact text", async () => {
        const missing = await rejection(ai.tensorGet(p + 'missing'));
        expect(missing.text).toBe('ERR tensor key is empty or in a different shard');
        expect(missing.code).toBe('ERR');
        expect(missing.command).toBe('AI.TENSORGET');
        await raw('SET', p + 'str', 'x');
        const wrong = await rejection(ai.tensorGet(p + 'str'));
        expect(wrong.text).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
        expect(wrong.code).toBe('WRONGTYPE');
        const bool = await rejection(ai.tensorSet(p + 'b2', new Uint8Array([0, 2]), { dtype: 'BOOL' }));
        expect(bool.text).toBe('ERR BOOL tensor elements must be 0 or 1');
        expect(bool).toBeInstanceOf(RespaiError);
        expect(bool).toBeInstanceOf(Error);
      });
    });

    describe('ONNX', () => {
      it('modelStore in chunks of the server MODEL_CHUNK_SIZE; modelGet joins them', async () => {
        expect(await ai.configGet('MODEL_CHUNK_SIZE')).toBe(535822336);
        await ai.config({ modelChunkSize: 64 });
        try {
          expect(await ai.modelChunkSize()).toBe(64);
          await ai.modelStore(p + 'add', { backend: 'ONNX', blob: ADD_ONNX, tag: 'v1' });
          const m = await ai.modelGet(p + 'add', { blob: true });
          expect(m.blob.equals(ADD_ONNX)).toBe(true);
          // The server got the chunks as separate arguments and replies in chunks too.
          expect(((await raw('AI.MODELGET', p + 'add', 'BLOB')) as unknown[]).length).toBe(Math.ceil(ADD_ONNX.length / 64));
        } finally {
          await ai.config({ modelChunkSize: 535822336 });
        }
        expect(await ai.modelGet(p + 'add')).toEqual({
          backend: 'ONNX',
          device: 'CPU',
          tag: 'v1',
          batchSize: 0,
          minBatchSize: 0,
          minBatchTimeout: 0,
          inputs: ['a', 'b'],
          outputs: ['c'],
        });
      });

      it('modelExecute on stored tensors; info counts the call; resetStat zeroes it', async () => {
        await ai.tensorSet(p + 'x', new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
        await ai.modelExecute(p + 'add', { inputs: [p + 'x', p + 'x'], outputs: [p + 'y'], timeout: 10_000 });
        expect(await ai.tensorGet(p + 'y')).toEqual({ dtype: 'FLOAT', shape: [2, 2], data: new Float32Array([2, 4, 6, 8]) });
        const info = await ai.info(p + 'add');
        expect(info).toMatchObject({ key: p + 'add', type: 'MODEL', backend: 'ONNX', device: 'CPU', tag: 'v1', samples: 2, calls: 1, errors: 0, runs: 1, avgBatchSize: 1 });
        expect(info.batchSizes).toEqual(new Map([[1, 1]])); // one run of one request
        await ai.resetStat(p + 'add');
        expect((await ai.info(p + 'add')).calls).toBe(0);
        expect(await ai.modelScan()).toContainEqual({ key: p + 'add', tag: 'v1' });
      });

      it('run errors carry the texts without ERR as the server sends them', async () => {
        const e = await rejection(ai.modelExecute(p + 'add', { inputs: [p + 'x'], outputs: [p + 'y'] }));
        expect(e.text).toBe('Number of keys given as INPUTS here does not match model definition');
        expect(e.code).toBeUndefined();
        expect((await rejection(ai.modelExecute(p + 'nomodel', { inputs: [p + 'x'], outputs: [p + 'y'] }))).text).toBe(
          'ERR model key is empty',
        );
      });

      it('a request still queued after its TIMEOUT rejects with TIMEDOUT', async () => {
        // MINBATCHSIZE 2 without a MINBATCHTIMEOUT holds a lone request until it times out.
        await ai.modelStore(p + 'held', { backend: 'ONNX', blob: ADD_ONNX, batchSize: 4, minBatchSize: 2 });
        await ai.tensorSet(p + 'row', new Float32Array([1, 2]), { shape: [1, 2] });
        const e = await rejection(ai.modelExecute(p + 'held', { inputs: [p + 'row', p + 'row'], outputs: [p + 'z'], timeout: 20 }));
        expect(e.timedOut).toBe(true);
        expect(e.text).toBe('TIMEDOUT');
        expect((await ai.modelGet(p + 'held')).minBatchSize).toBe(2);
      });

      it('modelDel, then the model is gone', async () => {
        await ai.modelDel(p + 'held');
        expect((await rejection(ai.modelDel(p + 'held'))).text).toBe('ERR model key is empty');
        expect((await rejection(ai.modelGet(p + 'held'))).text).toBe('ERR model key is empty');
      });

      itShared('mnist.onnx on one.raw: digit 1', ['models/mnist.onnx', 'models/one.raw'], async () => {
        await ai.modelStore(p + 'mnist', { backend: 'ONNX', blob: readFileSync(sharedPath('models/mnist.onnx')) });
        const pixels = readFileSync(sharedPath('models/one.raw'));
        await ai.tensorSet(p + 'one', new Float32Array(pixels.buffer, pixels.byteOffset, 784), { shape: [1, 1, 28, 28] });
        await ai.modelExecute(p + 'mnist', { inputs: [p + 'one'], outputs: [p + 'scores'] });
        const scores = await ai.tensorGet(p + 'scores', 'FLOAT');
        expect(scores.shape).toEqual([1, 10]);
        expect(scores.data.indexOf(Math.max(...scores.data))).toBe(1);
      });

      itShared('linear_iris.onnx', ['models/linear_iris.onnx'], async () => {
        await ai.modelStore(p + 'iris', { backend: 'ONNX', blob: readFileSync(sharedPath('models/linear_iris.onnx')) });
        await ai.tensorSet(p + 'flower', new Float32Array([5.1, 3.5, 1.4, 0.2]), { shape: [1, 4] });
        await ai.modelExecute(p + 'iris', { inputs: [p + 'flower'], outputs: [p + 'pred'] });
        expect((await ai.tensorGet(p + 'pred', 'FLOAT')).data[0]).toBeCloseTo(-0.0905240774, 6);
      });
    });

    describe('TF', () => {
      it('a frozen graph with named inputs and outputs', async () => {
        await ai.modelStore(p + 'tf', { backend: 'TF', blob: mulModel(), inputs: ['a', 'b'], outputs: ['c'] });
        expect(await ai.modelGet(p + 'tf')).toMatchObject({ backend: 'TF', inputs: ['a', 'b'], outputs: ['c'] });
        await ai.tensorSet(p + 'ta', new Float32Array([2, 3, 2, 3]), { shape: [2, 2] });
        await ai.modelExecute(p + 'tf', { inputs: [p + 'ta', p + 'ta'], outputs: [p + 'tc'] });
        expect((await ai.tensorGet(p + 'tc', 'FLOAT')).data).toEqual(new Float32Array([4, 9, 4, 9]));
        expect((await rejection(ai.modelStore(p + 'tf2', { backend: 'TF', blob: mulModel() }))).text).toBe('ERR INPUTS not specified for TF');
      });

      itShared('graph.pb', ['models/graph.pb'], async () => {
        await ai.modelStore(p + 'graph', { backend: 'TF', blob: readFileSync(sharedPath('models/graph.pb')), inputs: ['a', 'b'], outputs: ['mul'] });
        await ai.tensorSet(p + 'ga', new Float32Array([2, 3, 2, 3]), { shape: [2, 2] });
        await ai.modelExecute(p + 'graph', { inputs: [p + 'ga', p + 'ga'], outputs: [p + 'gc'] });
        expect((await ai.tensorGet(p + 'gc', 'FLOAT')).data).toEqual(new Float32Array([4, 9, 4, 9]));
      });
    });

    describe('TFLITE', () => {
      it('a flatbuffer written by the project', async () => {
        await ai.modelStore(p + 'lite', { backend: 'TFLITE', blob: ADD_TFLITE, tag: 'lite' });
        await ai.tensorSet(p + 'la', new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
        await ai.modelExecute(p + 'lite', { inputs: [p + 'la', p + 'la'], outputs: [p + 'lc'] });
        expect((await ai.tensorGet(p + 'lc', 'FLOAT')).data).toEqual(new Float32Array([2, 4, 6, 8]));
        expect((await rejection(ai.modelStore(p + 'junk', { backend: 'TFLITE', blob: Buffer.from('not a model') }))).text).toMatch(
          /^ERR Invalid TFLITE model: /,
        );
      });

      itShared('mnist_model_quant.tflite on one.raw: class 1', ['models/mnist_model_quant.tflite', 'models/one.raw'], async () => {
        await ai.modelStore(p + 'qmnist', { backend: 'TFLITE', blob: readFileSync(sharedPath('models/mnist_model_quant.tflite')) });
        const pixels = readFileSync(sharedPath('models/one.raw'));
        await ai.tensorSet(p + 'q1', new Float32Array(pixels.buffer, pixels.byteOffset, 784), { shape: [1, 1, 28, 28] });
        await ai.modelExecute(p + 'qmnist', { inputs: [p + 'q1'], outputs: [p + 'qb', p + 'qc'] });
        const cls = await ai.tensorGet(p + 'qb', 'INT64');
        expect(cls.data[0]).toBe(1n);
      });
    });

    describe('TORCH', () => {
      it('a TorchScript model', async () => {
        await ai.modelStore(p + 'pt', { backend: 'TORCH', blob: ADD_TORCH });
        expect((await ai.modelGet(p + 'pt')).inputs).toEqual(['a', 'b']);
        await ai.tensorSet(p + 'pa', new Int32Array([1, 2]));
        await ai.modelExecute(p + 'pt', { inputs: [p + 'pa', p + 'pa'], outputs: [p + 'pc'] });
        expect((await ai.tensorGet(p + 'pc', 'INT32')).data).toEqual(new Int32Array([2, 4]));
      });

      itShared('pt-minimal.pt', ['models/pt-minimal.pt'], async () => {
        await ai.modelStore(p + 'ptm', { backend: 'TORCH', blob: readFileSync(sharedPath('models/pt-minimal.pt')) });
        await ai.tensorSet(p + 'pm', new Float32Array([2, 3, 2, 3]), { shape: [2, 2] });
        await ai.modelExecute(p + 'ptm', { inputs: [p + 'pm', p + 'pm'], outputs: [p + 'pmc'] });
        expect((await ai.tensorGet(p + 'pmc', 'FLOAT')).data).toEqual(new Float32Array([4, 6, 4, 6]));
      });

      it('scripts: store, get, execute with INPUTS, LIST_INPUTS and a float value, delete', async () => {
        await ai.scriptStore(p + 's', { entryPoints: ['addtwo', 'addn', 'scale'], source: SCRIPT, tag: 's1' });
        expect(await ai.scriptGet(p + 's')).toEqual({ device: 'CPU', tag: 's1', entryPoints: ['addtwo', 'addn', 'scale'], source: SCRIPT });
        await ai.tensorSet(p + 's1', new Float32Array([40]));
        await ai.tensorSet(p + 's2', new Float32Array([1]));
        await ai.scriptExecute(p + 's', 'addtwo', { keys: [p + 's1'], inputs: [p + 's1', p + 's2'], outputs: [p + 'sr'] });
        expect((await ai.tensorGet(p + 'sr', 'FLOAT')).data).toEqual(new Float32Array([41]));
        await ai.scriptExecute(p + 's', 'addn', { inputs: [p + 's1'], listInputs: [[p + 's2', p + 's2']], outputs: [p + 'sn'] });
        expect((await ai.tensorGet(p + 'sn', 'FLOAT')).data).toEqual(new Float32Array([42]));
        await ai.scriptExecute(p + 's', 'scale', { inputs: [p + 's1', 0.5], outputs: [p + 'ss'] });
        expect((await ai.tensorGet(p + 'ss', 'FLOAT')).data).toEqual(new Float32Array([20]));
        expect((await ai.info(p + 's')).samples).toBe(-1);
        const e = await rejection(ai.scriptExecute(p + 's', 'nope', { inputs: [p + 's1'], outputs: [p + 'sx'] }));
        expect(e.text).toMatch(/^ERR Function nope does not exist/);
        await ai.scriptDel(p + 's');
        expect((await rejection(ai.scriptGet(p + 's'))).text).toBe('ERR script key is empty');
      });
    });

    describe('DAGs', () => {
      it('tensorSet, modelExecute, tensorGet: typed results per op; PERSIST writes back', async () => {
        const results = await ai
          .dag({ persist: [p + 'dout'] })
          .tensorSet('in', new Float32Array([1, 1, 2, 2]), { shape: [2, 2] })
          .modelExecute(p + 'add', { inputs: ['in', 'in'], outputs: [p + 'dout'] })
          .tensorGet(p + 'dout')
          .run();
        const [set, exec, out] = results;
        expect([set, exec]).toEqual(['OK', 'OK']);
        expect(out).toEqual({ dtype: 'FLOAT', shape: [2, 2], data: new Float32Array([2, 2, 4, 4]) });
        expect((await ai.tensorGet(p + 'dout', 'FLOAT')).data).toEqual(new Float32Array([2, 2, 4, 4]));
      });

      it('LOAD, a script op, readOnly; routing defaults to the first model key', async () => {
        await ai.scriptStore(p + 'ds', { entryPoints: ['addtwo'], source: SCRIPT });
        const dag = ai
          .dag({ load: [p + 'x'] })
          .scriptExecute(p + 'ds', 'addtwo', { inputs: [p + 'x', p + 'x'], outputs: ['twice'] })
          .tensorGet('twice');
        expect((await dag.run())[1].data).toEqual(new Float32Array([2, 4, 6, 8]));
        const ro = ai.dag({ readOnly: true }).tensorSet('t', [1, 2], { dtype: 'FLOAT' }).modelExecute(p + 'add', { inputs: ['t', 't'], outputs: ['u'] }).tensorGet('u');
        expect(ro.args().slice(0, 3)).toEqual(['AI.DAGEXECUTE_RO', 'ROUTING', p + 'add']);
        await expect(ro.run()).rejects.toThrow(); // [1, 2] is no [N, 2] input: the op's error
        const good = ai.dag({ readOnly: true }).tensorSet('t', [1, 2], { dtype: 'FLOAT', shape: [1, 2] }).modelExecute(p + 'add', { inputs: ['t', 't'], outputs: ['u'] }).tensorGet('u');
        expect((await good.run())[2].data).toEqual(new Float32Array([2, 4]));
      });

      it("a failed op rejects with that op's text and index; the DAG's own errors with theirs", async () => {
        const e = await rejection(
          ai.dag({ routing: p + 'add' }).tensorSet('a', [1], { dtype: 'FLOAT' }).modelExecute(p + 'add', { inputs: ['a'], outputs: ['b'] }).run(),
        );
        expect(e.op).toBeUndefined(); // the input count is checked before anything runs
        expect(e.text).toBe('Number of keys given as INPUTS here does not match model definition');
        const ro = await rejection(ai.dag({ readOnly: true, persist: [p + 'q'] }).tensorSet(p + 'q', [1], { dtype: 'FLOAT' }).run());
        expect(ro.text).toBe('ERR PERSIST cannot be specified in a read-only DAG');
        const failed = await rejection(
          ai
            .dag({ routing: p + 'add' })
            .tensorSet('a', new Float32Array([1, 2, 3]), { shape: [3] })
            .modelExecute(p + 'add', { inputs: ['a', 'a'], outputs: ['b'] })
            .tensorGet('b')
            .run(),
        );
        expect(failed.op).toBe(1);
        expect(failed.command).toBe('AI.DAGEXECUTE');
        expect(failed.text).toMatch(/^ERR /);
      });
    });

    describe('INFO and CONFIG', () => {
      it('versions by their labels; CONFIG GET of unknown names is undefined; LOADBACKEND errors', async () => {
        const v = await ai.info();
        expect(Object.keys(v).slice(0, 3)).toEqual(['Version', 'Low level API Version', 'RDB Encoding version']);
        expect(v['ONNX version']).toMatch(/^\d+\.\d+/);
        expect(await ai.configGet('NOPE')).toBeUndefined();
        expect(typeof (await ai.configGet('BACKENDSPATH'))).toBe('string');
        expect((await rejection(ai.loadBackend('ONNX', '/nonexistent/backend'))).text).toBe('ERR error loading backend');
        expect((await rejection(ai.info(p + 'none'))).text).toBe('ERR cannot find run info for key');
      });
    });
  });
}
