/**
 * TFLITE end to end against the built server: ../shared/models/mnist_model_quant.tflite with
 * one.raw through node-redis (and redis-cli -x, as users upload files), the project's own
 * flatbuffers (quantized, two outputs, batching), the deprecated forms, DAGs and every store-time
 * and run-time error text.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { TensorType, binaryModel, denseClassifier } from '@respai/backend-tflite/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { describeShared, itShared, sharedPath } from '@respai/core/testing';

const SHARED_MODELS = sharedPath('models');

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

let server: RunningServer;
let client: Client;
const extra: Client[] = [];

const connect = async (): Promise<Client> => {
  const c = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
};

beforeAll(async () => {
  server = await startServer(['--threads-per-queue', '2']);
  client = await connect();
});

afterAll(async () => {
  await Promise.all([client, ...extra].map((c) => c?.close().catch(() => undefined)));
  expect(await server?.stop()).toBe(0);
});

const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(args);
const err = async (...args: Arg[]): Promise<string> => {
  try {
    return `no error: ${JSON.stringify(await cmd(...args))}`;
  } catch (e) {
    return (e as Error).message;
  }
};
const values = async (key: string, c: Client = client) => ((await c.sendCommand(['AI.TENSORGET', key, 'VALUES'])) as unknown[]).map(Number);
const mnist = () => readFileSync(join(SHARED_MODELS, 'mnist_model_quant.tflite'));
const one = () => readFileSync(join(SHARED_MODELS, 'one.raw'));

describeShared('mnist_model_quant.tflite', ['models/mnist_model_quant.tflite', 'models/one.raw'], () => {
  it('reads the "1" of one.raw (FLOAT 1 1 28 28 into its [1,28,28] input): OUTPUTS 2 b c, b = 1', async () => {
    expect(await cmd('AI.MODELSTORE', 'mnist', 'TFLITE', 'CPU', 'TAG', 'v1', 'BLOB', mnist())).toBe('OK');
    expect(await cmd('AI.TENSORSET', 'a', 'FLOAT', '1', '1', '28', '28', 'BLOB', one())).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'a', 'OUTPUTS', '2', 'b', 'c')).toBe('OK');
    expect(await values('b')).toEqual([1]);
    expect(await cmd('AI.TENSORGET', 'b', 'META')).toEqual(['dtype', 'INT64', 'shape', [1]]);
    expect(await cmd('AI.TENSORGET', 'c', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 10]]);
    const scores = await values('c');
    expect(scores.indexOf(Math.max(...scores))).toBe(1);
  });

  it('MODELGET reports the names from the model and gives the blob back unchanged', async () => {
    const meta = (await cmd('AI.MODELGET', 'mnist', 'META')) as unknown[];
    const field = (k: string) => meta[meta.indexOf(k) + 1];
    expect(field('backend')).toBe('TFLITE');
    expect(field('device')).toBe('CPU');
    expect(field('tag')).toBe('v1');
    expect(field('inputs')).toEqual(['Placeholder']);
    expect(field('outputs')).toEqual(['ArgMax', 'Softmax']);
    const blob = (await client.sendCommand(['AI.MODELGET', 'mnist', 'BLOB'], RAW)) as Buffer | Buffer[];
    expect(Buffer.compare(Buffer.isBuffer(blob) ? blob : Buffer.concat(blob), mnist())).toBe(0);
  });

  it('the deprecated AI.MODELSET / AI.MODELRUN forms, and a DAG', async () => {
    expect(await cmd('AI.MODELSET', 'mnist2', 'TFLITE', 'CPU', 'BLOB', mnist())).toBe('OK');
    expect(await cmd('AI.MODELRUN', 'mnist2', 'INPUTS', 'a', 'OUTPUTS', 'b2', 'c2')).toBe('OK');
    expect(await values('b2')).toEqual([1]);
    const reply = (await cmd(
      'AI.DAGEXECUTE', 'ROUTING', 'mnist', '|>',
      'AI.TENSORSET', 'img', 'FLOAT', '1', '28', '28', 'BLOB', one(), '|>',
      'AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'img', 'OUTPUTS', '2', 'cls', 'probs', '|>',
      'AI.TENSORGET', 'cls', 'VALUES',
    )) as unknown[];
    expect(reply[0]).toBe('OK');
    expect(reply[1]).toBe('OK');
    expect((reply[2] as unknown[]).map(Number)).toEqual([1]);
    // DAG-local tensors stay out of the keyspace.
    expect(await cmd('EXISTS', 'img', 'cls')).toBe(0);
  });

  it('redis-cli -x uploads the file as the BLOB', () => {
    const cli = (args: string[], input?: Buffer) =>
      spawnSync('redis-cli', ['-p', String(server.port), ...args], { input, encoding: 'utf8' }).stdout.trim();
    expect(cli(['-x', 'AI.MODELSTORE', 'mnist3', 'TFLITE', 'CPU', 'BLOB'], mnist())).toBe('OK');
    expect(cli(['-x', 'AI.TENSORSET', 'a3', 'FLOAT', '1', '1', '28', '28', 'BLOB'], one())).toBe('OK');
    expect(cli(['AI.MODELEXECUTE', 'mnist3', 'INPUTS', '1', 'a3', 'OUTPUTS', '2', 'b3', 'c3'])).toBe('OK');
    expect(cli(['AI.TENSORGET', 'b3', 'VALUES'])).toBe('1');
  });

  it('AI.INFO counts its runs; INFO names the TFLite version, and which runtime runs each model', async () => {
    const info = (await cmd('AI.INFO', 'mnist')) as unknown[];
    expect(info[info.indexOf('backend') + 1]).toBe('TFLITE');
    expect(Number(info[info.indexOf('calls') + 1])).toBeGreaterThanOrEqual(2);
    expect(String(await cmd('INFO', 'modules'))).toMatch(/ai_TensorFlowLite_version:2\.9\.0/);
    expect(String(await cmd('INFO', 'modules'))).not.toMatch(/ai_model_runtimes/);
    const lines = String(await cmd('INFO', 'ai_model_runtimes')).split('\r\n');
    expect(lines[0]).toBe('# ai_model_runtimes');
    const line = lines.find((l) => l.includes('key=mnist,'))!;
    expect(line).toMatch(/^model_\d+:key=mnist,backend=TFLITE,runtime=tflite-2\.9-xnnpack,label=TFLite 2\.9\.0 \+ XNNPACK,tflite-2\.2=[\d.]+us,/);
  });
});

describe("the project's own models", () => {
  it('a quantized UINT8 ADD', async () => {
    expect(await cmd('AI.MODELSTORE', 'qadd', 'TFLITE', 'CPU', 'BLOB', binaryModel('ADD', TensorType.UINT8, [4], { scale: 0.5, zeroPoint: 0 }))).toBe('OK');
    await cmd('AI.TENSORSET', 'qa', 'UINT8', '4', 'VALUES', '1', '2', '3', '100');
    await cmd('AI.TENSORSET', 'qb', 'UINT8', '4', 'VALUES', '4', '5', '6', '100');
    expect(await cmd('AI.MODELEXECUTE', 'qadd', 'INPUTS', '2', 'qa', 'qb', 'OUTPUTS', '1', 'qc')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'qc', 'META')).toEqual(['dtype', 'UINT8', 'shape', [4]]);
    expect(await values('qc')).toEqual([5, 7, 9, 200]);
    // FLOAT into the quantized input: the dtype it wants, with its quantization.
    await cmd('AI.TENSORSET', 'fa', 'FLOAT', '4', 'VALUES', '1', '2', '3', '4');
    expect(await err('AI.MODELEXECUTE', 'qadd', 'INPUTS', '2', 'fa', 'qb', 'OUTPUTS', '1', 'qc')).toBe(
      "ERR TFLITE model input 'a' expects UINT8, got FLOAT (quantized: scale 0.5, zero point 0; send q = round(x / scale) + zero point)",
    );
    // The failed run left the earlier output as it was.
    expect(await values('qc')).toEqual([5, 7, 9, 200]);
  });

  it('BATCHSIZE: concurrent requests from several clients, each gets its own rows', async () => {
    const w = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    expect(await cmd('AI.MODELSTORE', 'dense', 'TFLITE', 'CPU', 'BATCHSIZE', '8', 'BLOB', denseClassifier(w, [0, 0, -5]))).toBe('OK');
    const meta = (await cmd('AI.MODELGET', 'dense', 'META')) as unknown[];
    expect(meta[meta.indexOf('batchsize') + 1]).toBe(8);
    while (extra.length < 4) extra.push(await connect());
    const runs = Array.from({ length: 16 }, async (_, i) => {
      const c = extra[i % extra.length]!;
      await c.sendCommand(['AI.TENSORSET', `x${i}`, 'FLOAT', '1', '2', 'VALUES', String(i), String(2 * i)]);
      expect(await c.sendCommand(['AI.MODELEXECUTE', 'dense', 'INPUTS', '1', `x${i}`, 'OUTPUTS', '2', `s${i}`, `k${i}`])).toBe('OK');
      expect(await values(`s${i}`, c)).toEqual([i, 2 * i, 3 * i - 5]);
      // argmax of [i, 2i, 3i - 5], ties to the first.
      expect(await values(`k${i}`, c)).toEqual([i === 0 ? 0 : i <= 5 ? 1 : 2]);
    });
    await Promise.all(runs);
  });
});

describe('errors', () => {
  itShared('store-time: an ONNX model is no TFLite flatbuffer', ['models/mnist.onnx'], async () => {
    expect(await err('AI.MODELSTORE', 'bad', 'TFLITE', 'CPU', 'BLOB', readFileSync(join(SHARED_MODELS, 'mnist.onnx')))).toBe(
      'ERR Invalid TFLITE model: the bytes are not a TFLite flatbuffer (no TFL3 file identifier)',
    );
    expect(await cmd('EXISTS', 'bad')).toBe(0);
  });

  it('store-time: garbage, another format, a GPU, wrong arity; nothing stored', async () => {
    expect(await err('AI.MODELSTORE', 'bad', 'TFLITE', 'CPU', 'BLOB', 'not a model')).toBe(
      'ERR Invalid TFLITE model: the bytes are not a TFLite flatbuffer (no TFL3 file identifier)',
    );
    const fake = Buffer.concat([Buffer.from([16, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(100, 0xee)]);
    expect(await err('AI.MODELSTORE', 'bad', 'TFLITE', 'CPU', 'BLOB', fake)).toBe('ERR Invalid TFLITE model: the bytes are not a valid TFLite flatbuffer');
    expect(await err('AI.MODELSTORE', 'bad', 'TFLITE', 'GPU', 'BLOB', binaryModel('ADD', TensorType.FLOAT32, [2]))).toBe(
      'ERR GPU requested but TFLITE has no GPU support here',
    );
    expect(await cmd('EXISTS', 'bad')).toBe(0);
    expect(await cmd('PING')).toBe('PONG');
  });

  it('run-time: input count, dtype, a shape it cannot take; the server keeps serving', async () => {
    expect(await cmd('AI.MODELSTORE', 'add', 'TFLITE', 'CPU', 'BLOB', binaryModel('ADD', TensorType.FLOAT32, [2, 2]))).toBe('OK');
    await cmd('AI.TENSORSET', 'p', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4');
    await cmd('AI.TENSORSET', 'i', 'INT32', '2', '2', 'VALUES', '1', '2', '3', '4');
    await cmd('AI.TENSORSET', 'five', 'FLOAT', '5', 'VALUES', '1', '2', '3', '4', '5');
    // The original's text, without a code.
    expect(await err('AI.MODELEXECUTE', 'add', 'INPUTS', '1', 'p', 'OUTPUTS', '1', 'q')).toBe('Number of keys given as INPUTS here does not match model definition');
    expect(await err('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'p', 'i', 'OUTPUTS', '1', 'q')).toBe("ERR TFLITE model input 'b' expects FLOAT, got INT32");
    expect(await err('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'p', 'five', 'OUTPUTS', '1', 'q')).toBe(
      "ERR TFLITE model input 'b' has shape [2, 2] and cannot take a tensor of shape [5]",
    );
    expect(await cmd('EXISTS', 'q')).toBe(0);
    expect(await cmd('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'p', 'p', 'OUTPUTS', '1', 'q')).toBe('OK');
    expect(await values('q')).toEqual([2, 4, 6, 8]);
  });
});
