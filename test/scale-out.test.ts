/**
 * respai nodes over an external keyspace (docs/scale-out.md), end to end with real servers: a
 * standalone redis-server, and a Cluster of 3 masters + 3 replicas (test/helpers/redis-cluster.ts).
 * Two built respai nodes share each store: values are stored through node A, run through node B,
 * and read straight from the store with redis-cli (`-c` on the Cluster). Every backend (ONNX,
 * TORCH models and scripts with redis.execute, TF, TFLITE), DAGs, batching, forwarded commands,
 * SCAN/KEYS/DBSIZE/FLUSHALL across masters, CROSSSLOT, MULTI, the model cache (no stale model after
 * a MODELSTORE elsewhere; MODELDEL frees everywhere), and the store going away and coming back.
 * Keys carry hash tags so one test body serves both stores.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { createDump, readDump, type Model } from '@respai/core';
import { OnnxType, binaryModel as onnxBinary } from '@respai/backend-onnx/testing';
import { torchModelBlob } from '@respai/backend-torch/testing';
import { mulModel as tfMul } from '@respai/backend-tf/testing';
import { TensorType, binaryModel as tfliteBinary } from '@respai/backend-tflite/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { hasRedisServer, startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js';

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;
/** Integers as decimal strings (INT64 past 2^53 unrounded). */
const STR = { typeMapping: { [RESP_TYPES.NUMBER]: String } } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);

const ADD = onnxBinary('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);
const MUL = onnxBinary('Mul', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);

async function connect(port: number, resp: 2 | 3 = 2): Promise<Client> {
  const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false }, RESP: resp });
  c.on('error', () => undefined);
  await c.connect();
  return c as Client;
}

function cli(port: number, args: string[], cluster: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('redis-cli', [...(cluster ? ['-c'] : []), '-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 20_000 }, (e, out) =>
      e ? reject(e) : resolve(out),
    );
    child.stdin!.on('error', () => undefined);
    child.stdin!.end();
  });
}

interface Store {
  /** Options for respai to use it. */
  args: string[];
  /** redis-cli against the store itself. */
  cli(args: string[]): Promise<string>;
  cluster: boolean;
  stop(): Promise<void>;
}

async function standalone(): Promise<Store & { server: RedisServer }> {
  const server = await startRedisServer();
  return {
    server,
    args: ['--keyspace-url', `redis://127.0.0.1:${server.port}`],
    cli: (a) => cli(server.port, a, false),
    cluster: false,
    stop: () => server.stop(),
  };
}

async function cluster(): Promise<Store & { c: RedisCluster }> {
  const c = await startRedisCluster();
  return { c, args: ['--keyspace-cluster-nodes', c.seeds], cli: (a) => c.cli(a), cluster: true, stop: () => c.stop() };
}

/** Two respai nodes over `store`, with a fast cache check so MODELDEL's freeing shows quickly. */
async function nodes(store: Store): Promise<{ a: RunningServer; b: RunningServer; A: Client; B: Client }> {
  const opts = [...store.args, '--keyspace-check-interval', '100', '--keyspace-timeout', '3000'];
  const [a, b] = await Promise.all([startServer(opts), startServer(opts)]);
  return { a, b, A: await connect(a.port), B: await connect(b.port) };
}

const errOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    return `no error: ${JSON.stringify(await p)}`;
  } catch (e) {
    return (e as Error).message;
  }
};

/** Polls INFO keyspace_store until `field` satisfies `ok` (bounded). */
async function infoField(c: Client, field: string, ok: (v: string) => boolean, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const info = String(await c.sendCommand(['INFO', 'keyspace_store']));
    const v = new RegExp(`${field}:(.*)\\r`).exec(info)?.[1] ?? '';
    if (ok(v) || Date.now() > end) return v;
    await sleep(50);
  }
}

describe.skipIf(!hasRedisServer).each([
  ['standalone', standalone],
  ['cluster', cluster],
] as const)('respai nodes over a %s store', (mode, makeStore) => {
  let store: Store;
  let a: RunningServer;
  let b: RunningServer;
  let A: Client;
  let B: Client;
  const onCluster = mode === 'cluster';
  const cmd = (c: Client, ...args: Arg[]) => c.sendCommand(args);
  const values = async (c: Client, key: string) => ((await cmd(c, 'AI.TENSORGET', key, 'VALUES')) as string[]).map(Number);

  beforeAll(async () => {
    store = await makeStore();
    ({ a, b, A, B } = await nodes(store));
  }, 120_000);

  afterAll(async () => {
    await A?.close().catch(() => undefined);
    await B?.close().catch(() => undefined);
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await store?.stop();
    expect(codes).toEqual([0, 0]);
    for (const s of [a, b]) expect(s.output()).not.toMatch(/"level":50/);
  });

  it('tensors: set through A, read through B and straight from the store in the documented layout', async () => {
    expect(await cmd(A, 'AI.TENSORSET', 't{1}', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4')).toBe('OK');
    expect(await cmd(B, 'AI.TENSORGET', 't{1}', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'values', ['1', '2', '3', '4']]);
    expect(await B.sendCommand(['AI.TENSORGET', 't{1}', 'BLOB'], RAW)).toEqual(f32(1, 2, 3, 4));
    expect(await cmd(B, 'TYPE', 't{1}')).toBe('AI_TENSOR');
    expect(await store.cli(['HMGET', 't{1}', 'respai:type', 'dtype', 'shape'])).toBe('AI_TENSOR\nFLOAT\n2 2\n');
    expect(await store.cli(['TYPE', 't{1}'])).toBe('hash\n');
    for (const [dtype, vals] of [
      ['DOUBLE', ['1.5', '-2']],
      ['INT8', ['-128', '127']],
      ['INT16', ['-3', '3']],
      ['INT32', ['7', '8']],
      ['INT64', ['-9223372036854775808', '9223372036854775807']],
      ['UINT8', ['0', '255']],
      ['UINT16', ['0', '65535']],
      ['BOOL', ['0', '1']],
      ['STRING', ['ab', 'c']],
    ] as const) {
      expect(await cmd(A, 'AI.TENSORSET', `d{1}${dtype}`, dtype, '2', 'VALUES', ...vals)).toBe('OK');
      expect(await B.sendCommand(['AI.TENSORGET', `d{1}${dtype}`, 'VALUES'], STR)).toEqual([...vals]);
    }
    // A scalar (no dimension) has an empty shape field.
    expect(await cmd(A, 'AI.TENSORSET', 's{1}', 'FLOAT', 'VALUES', '7')).toBe('OK');
    expect(await store.cli(['HGET', 's{1}', 'shape'])).toBe('\n');
    expect(await cmd(B, 'AI.TENSORGET', 's{1}', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [], 'values', ['7']]);
  });

  it('tensor errors: empty key, WRONGTYPE both ways, bad arguments, a hand-edited hash', async () => {
    expect(await errOf(cmd(B, 'AI.TENSORGET', 'missing{1}'))).toBe('ERR tensor key is empty or in a different shard');
    await cmd(A, 'SET', 'str{1}', 'x');
    await cmd(A, 'HSET', 'hash{1}', 'f', 'v');
    for (const k of ['str{1}', 'hash{1}']) {
      expect(await errOf(cmd(B, 'AI.TENSORGET', k))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
      expect(await errOf(cmd(B, 'AI.TENSORSET', k, 'FLOAT', '1', 'VALUES', '1'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
      // The key's type is checked before the arguments, as the original does.
      expect(await errOf(cmd(B, 'AI.TENSORSET', k, 'FLOAT', '2', 'VALUES', '1'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    }
    expect(await cmd(A, 'GET', 'str{1}')).toBe('x');
    expect(await errOf(cmd(B, 'GET', 't{1}'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await errOf(cmd(B, 'AI.TENSORSET', 'n{1}', 'FLOAT', '2', 'VALUES', '1'))).toBe("ERR wrong number of values was given in 'AI.TENSORSET' command");
    expect(await cmd(B, 'EXISTS', 'n{1}')).toBe(0);
    await store.cli(['HSET', 'bad{1}', 'respai:type', 'AI_TENSOR', 'dtype', 'FLOAT', 'shape', '3', 'blob', 'xy']);
    expect(await errOf(cmd(B, 'AI.TENSORGET', 'bad{1}'))).toMatch(/^ERR keyspace value at key 'bad\{1\}' is not a valid AI_TENSOR: /);
  });

  it('non-AI commands are forwarded: strings, lists, hashes, TTLs, big integers, RESP3 maps', async () => {
    expect(await cmd(A, 'SET', 'x{2}', '9223372036854775806')).toBe('OK');
    expect(await cmd(B, 'INCR', 'x{2}')).toBe(9223372036854775807);
    expect(await A.sendCommand(['INCR', 'x{2}'], RAW).catch((e: Error) => e.message)).toBe('ERR increment or decrement would overflow');
    expect(await cmd(A, 'RPUSH', 'l{2}', 'a', 'b', 'c')).toBe(3);
    expect(await cmd(B, 'LRANGE', 'l{2}', '0', '-1')).toEqual(['a', 'b', 'c']);
    expect(await cmd(B, 'LPOP', 'nolist{2}', '2')).toBe(null);
    expect(await cmd(A, 'HSET', 'h{2}', 'f', 'v', 'g', 'w')).toBe(2);
    expect(await cmd(B, 'HGETALL', 'h{2}')).toEqual(['f', 'v', 'g', 'w']);
    const B3 = await connect(b.port, 3);
    expect(await B3.sendCommand(['HGETALL', 'h{2}'])).toEqual({ f: 'v', g: 'w' });
    await B3.close();
    expect(await cmd(A, 'EXPIRE', 'h{2}', '100')).toBe(1);
    expect(Number(await cmd(B, 'TTL', 'h{2}'))).toBeGreaterThan(90);
    expect(await cmd(B, 'MSET', 'm1{2}', '1', 'm2{2}', '2')).toBe('OK');
    expect(await cmd(A, 'MGET', 'm1{2}', 'm2{2}', 'none{2}')).toEqual(['1', '2', null]);
    expect(await cmd(A, 'TYPE', 'l{2}')).toBe('list');
    expect(await cmd(A, 'TYPE', 'none{2}')).toBe('none');
    expect(await errOf(cmd(A, 'NOSUCHCOMMAND'))).toMatch(/^ERR unknown command 'NOSUCHCOMMAND'/);
    if (onCluster) {
      expect(await errOf(cmd(A, 'MSET', 'p', '1', 'q', '2'))).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    }
  });

  it('ONNX: MODELSTORE through A runs through B; MODELGET, AI.INFO per node; no stale model after a re-store', async () => {
    expect(await cmd(A, 'AI.MODELSTORE', 'm{3}', 'ONNX', 'CPU', 'TAG', 'v1', 'BLOB', ADD)).toBe('OK');
    await cmd(A, 'AI.TENSORSET', 'a{3}', 'FLOAT', '1', '2', 'VALUES', '2', '3');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'm{3}', 'INPUTS', '2', 'a{3}', 'a{3}', 'OUTPUTS', '1', 'c{3}')).toBe('OK');
    expect(await values(A, 'c{3}')).toEqual([4, 6]);
    expect(await cmd(B, 'AI.MODELGET', 'm{3}', 'META')).toEqual([
      'backend', 'ONNX', 'device', 'CPU', 'tag', 'v1', 'batchsize', 0, 'minbatchsize', 0, 'inputs', ['a', 'b'], 'outputs', ['c'], 'minbatchtimeout', 0,
    ]);
    expect(Buffer.compare((await B.sendCommand(['AI.MODELGET', 'm{3}', 'BLOB'], RAW)) as Buffer, ADD)).toBe(0);
    expect(await store.cli(['HMGET', 'm{3}', 'respai:type', 'backend', 'inputs'])).toBe('AI__MODEL\nONNX\n["a","b"]\n');
    const info = (await cmd(B, 'AI.INFO', 'm{3}')) as unknown[];
    expect(info.slice(0, 4)).toEqual(['key', 'm{3}', 'type', 'MODEL']);
    expect(info.slice(14, 16)).toEqual(['calls', 1]);
    // Node A never ran it: its statistics are its own.
    expect(((await cmd(A, 'AI.INFO', 'm{3}')) as unknown[]).slice(14, 16)).toEqual(['calls', 0]);
    // Re-store a different model through A: B's very next run is the new one (it read the new digest).
    expect(await cmd(A, 'AI.MODELSTORE', 'm{3}', 'ONNX', 'CPU', 'BLOB', MUL)).toBe('OK');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'm{3}', 'INPUTS', '2', 'a{3}', 'a{3}', 'OUTPUTS', '1', 'c{3}')).toBe('OK');
    expect(await values(B, 'c{3}')).toEqual([4, 9]);
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'nom{3}', 'INPUTS', '1', 'a{3}', 'OUTPUTS', '1', 'c{3}'))).toBe('ERR model key is empty');
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'a{3}', 'INPUTS', '1', 'a{3}', 'OUTPUTS', '1', 'c{3}'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'm{3}', 'INPUTS', '2', 'a{3}', 'none{3}', 'OUTPUTS', '1', 'c{3}'))).toBe('ERR tensor key is empty or in a different shard');
    // An output key of another type: WRONGTYPE, and nothing written.
    await cmd(A, 'SET', 'busy{3}', 'x');
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'm{3}', 'INPUTS', '2', 'a{3}', 'a{3}', 'OUTPUTS', '1', 'busy{3}'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await cmd(A, 'GET', 'busy{3}')).toBe('x');
  });

  it('MODELDEL through A frees the model on B within the check interval; DEL by any client too', async () => {
    expect(await cmd(A, 'AI.MODELSTORE', 'gone{4}', 'ONNX', 'CPU', 'BLOB', ADD)).toBe('OK');
    await cmd(A, 'AI.TENSORSET', 'a{4}', 'FLOAT', '1', '2', 'VALUES', '1', '1');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'gone{4}', 'INPUTS', '2', 'a{4}', 'a{4}', 'OUTPUTS', '1', 'c{4}')).toBe('OK');
    const before = Number(await infoField(B, 'keyspace_cache_models', () => true));
    expect(before).toBeGreaterThan(0);
    expect(await cmd(A, 'AI.MODELDEL', 'gone{4}')).toBe('OK');
    expect(await errOf(cmd(A, 'AI.MODELDEL', 'gone{4}'))).toBe('ERR model key is empty');
    expect(await errOf(cmd(A, 'AI.MODELDEL', 'a{4}'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(Number(await infoField(B, 'keyspace_cache_models', (v) => Number(v) < before))).toBe(before - 1);
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'gone{4}', 'INPUTS', '2', 'a{4}', 'a{4}', 'OUTPUTS', '1', 'c{4}'))).toBe('ERR model key is empty');
    // Deleted behind respai's back: the check frees it as well.
    expect(await cmd(A, 'AI.MODELSTORE', 'gone{4}', 'ONNX', 'CPU', 'BLOB', ADD)).toBe('OK');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'gone{4}', 'INPUTS', '2', 'a{4}', 'a{4}', 'OUTPUTS', '1', 'c{4}')).toBe('OK');
    const cached = Number(await infoField(B, 'keyspace_cache_models', () => true));
    await store.cli(['DEL', 'gone{4}']);
    expect(Number(await infoField(B, 'keyspace_cache_models', (v) => Number(v) < cached))).toBe(cached - 1);
  });

  it('TORCH models, and scripts whose redis.execute reaches the store', async () => {
    const blob = torchModelBlob('def forward(self, x, y):\n    return x * y\n');
    expect(await cmd(A, 'AI.MODELSTORE', 'pt{5}', 'TORCH', 'CPU', 'BLOB', blob)).toBe('OK');
    await cmd(A, 'AI.TENSORSET', 'x{5}', 'INT32', '3', 'VALUES', '1', '2', '3');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'pt{5}', 'INPUTS', '2', 'x{5}', 'x{5}', 'OUTPUTS', '1', 'y{5}')).toBe('OK');
    expect(await values(A, 'y{5}')).toEqual([1, 4, 9]);
    const src = [
      'def bump(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    redis.execute("INCRBY", keys[0], args[0])',
      '    return tensors[0] + int(args[0])',
      '',
    ].join('\n');
    expect(await cmd(A, 'AI.SCRIPTSTORE', 'sc{5}', 'CPU', 'TAG', 't', 'ENTRY_POINTS', '1', 'bump', 'SOURCE', src)).toBe('OK');
    expect(await cmd(B, 'AI.SCRIPTGET', 'sc{5}', 'META')).toEqual(['device', 'CPU', 'tag', 't', 'Entry Points', ['bump']]);
    expect(await cmd(B, 'AI.SCRIPTGET', 'sc{5}', 'SOURCE')).toBe(src);
    expect(await cmd(B, 'AI.SCRIPTEXECUTE', 'sc{5}', 'bump', 'KEYS', '1', 'n{5}', 'INPUTS', '1', 'x{5}', 'ARGS', '1', '5', 'OUTPUTS', '1', 'z{5}')).toBe('OK');
    expect(await values(A, 'z{5}')).toEqual([6, 7, 8]);
    expect(await store.cli(['GET', 'n{5}'])).toBe('5\n');
    expect(await cmd(A, 'AI.SCRIPTDEL', 'sc{5}')).toBe('OK');
    expect(await errOf(cmd(B, 'AI.SCRIPTEXECUTE', 'sc{5}', 'bump', 'INPUTS', '1', 'x{5}', 'OUTPUTS', '1', 'z{5}'))).toBe('ERR script key is empty');
  });

  it('TF and TFLITE models', async () => {
    expect(await cmd(A, 'AI.MODELSTORE', 'tf{6}', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', tfMul())).toBe('OK');
    await cmd(A, 'AI.TENSORSET', 'a{6}', 'FLOAT', '2', 'VALUES', '2', '3');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'tf{6}', 'INPUTS', '2', 'a{6}', 'a{6}', 'OUTPUTS', '1', 'c{6}')).toBe('OK');
    expect(await values(A, 'c{6}')).toEqual([4, 9]);
    expect(await cmd(A, 'AI.MODELSTORE', 'tfl{6}', 'TFLITE', 'CPU', 'BLOB', tfliteBinary('ADD', TensorType.FLOAT32, [2]))).toBe('OK');
    expect(await cmd(B, 'AI.MODELEXECUTE', 'tfl{6}', 'INPUTS', '2', 'a{6}', 'a{6}', 'OUTPUTS', '1', 'd{6}')).toBe('OK');
    expect(await values(A, 'd{6}')).toEqual([4, 6]);
  });

  it('DAGs: LOAD and PERSIST through the store, PERSIST written together, errors before anything runs', async () => {
    expect(await cmd(A, 'AI.MODELSTORE', 'dm{7}', 'ONNX', 'CPU', 'BLOB', ADD)).toBe('OK');
    await cmd(A, 'AI.TENSORSET', 'in{7}', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    const r = await cmd(B, 'AI.DAGEXECUTE', 'LOAD', '1', 'in{7}', 'PERSIST', '2', 'o1{7}', 'o2{7}', '|>',
      'AI.MODELEXECUTE', 'dm{7}', 'INPUTS', '2', 'in{7}', 'in{7}', 'OUTPUTS', '1', 'o1{7}', '|>',
      'AI.MODELEXECUTE', 'dm{7}', 'INPUTS', '2', 'o1{7}', 'o1{7}', 'OUTPUTS', '1', 'o2{7}', '|>',
      'AI.TENSORGET', 'o2{7}', 'VALUES');
    expect(r).toEqual(['OK', 'OK', ['4', '8']]);
    expect(await values(A, 'o1{7}')).toEqual([2, 4]);
    expect(await values(A, 'o2{7}')).toEqual([4, 8]);
    // One PERSIST key of another type: nothing is written, the other key keeps its value.
    await cmd(A, 'DEL', 'o2{7}');
    await cmd(A, 'RPUSH', 'o2{7}', 'x');
    expect(await errOf(cmd(B, 'AI.DAGEXECUTE', 'LOAD', '1', 'in{7}', 'PERSIST', '2', 'o1{7}', 'o2{7}', '|>',
      'AI.MODELEXECUTE', 'dm{7}', 'INPUTS', '2', 'in{7}', 'in{7}', 'OUTPUTS', '1', 'o1{7}', '|>',
      'AI.TENSORSET', 'o2{7}', 'FLOAT', '1', 'VALUES', '0'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await values(A, 'o1{7}')).toEqual([2, 4]);
    expect(await errOf(cmd(B, 'AI.DAGEXECUTE', 'LOAD', '1', 'none{7}', '|>', 'AI.TENSORGET', 'none{7}'))).toBe('ERR tensor key is empty or in a different shard');
    expect(await cmd(B, 'AI.DAGEXECUTE_RO', 'LOAD', '1', 'in{7}', '|>', 'AI.TENSORGET', 'in{7}', 'VALUES')).toEqual([['1', '2']]);
  });

  it.runIf(onCluster)('CROSSSLOT: an AI command over several slots fails before anything runs', async () => {
    const cross = "CROSSSLOT Keys in request don't hash to the same slot";
    await cmd(A, 'AI.MODELSTORE', 'xm{8}', 'ONNX', 'CPU', 'BLOB', ADD);
    await cmd(A, 'AI.TENSORSET', 'xa{8}', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    await cmd(A, 'AI.TENSORSET', 'xb{9}', 'FLOAT', '1', '2', 'VALUES', '1', '2');
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'xm{8}', 'INPUTS', '2', 'xa{8}', 'xb{9}', 'OUTPUTS', '1', 'xo{8}'))).toBe(cross);
    expect(await errOf(cmd(B, 'AI.MODELEXECUTE', 'xm{8}', 'INPUTS', '2', 'xa{8}', 'xa{8}', 'OUTPUTS', '1', 'xo{9}'))).toBe(cross);
    expect(await errOf(cmd(B, 'AI.DAGEXECUTE', 'LOAD', '1', 'xa{8}', 'PERSIST', '1', 'xo{9}', '|>', 'AI.TENSORSET', 'xo{9}', 'FLOAT', '1', 'VALUES', '1'))).toBe(cross);
    expect(await cmd(A, 'EXISTS', 'xo{9}')).toBe(0);
    expect(Number(((await cmd(B, 'AI.INFO', 'xm{8}')) as unknown[])[15])).toBe(0);
  });

  it('batching: concurrent runs through both nodes', async () => {
    expect(await cmd(A, 'AI.MODELSTORE', 'bm{10}', 'ONNX', 'CPU', 'BATCHSIZE', '8', 'BLOB', ADD)).toBe('OK');
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 16; i++) {
      const c = i % 2 === 0 ? A : B;
      runs.push(
        cmd(c, 'AI.TENSORSET', `bi{10}${i}`, 'FLOAT', '1', '2', 'VALUES', String(i), '1').then(() =>
          cmd(c, 'AI.MODELEXECUTE', 'bm{10}', 'INPUTS', '2', `bi{10}${i}`, `bi{10}${i}`, 'OUTPUTS', '1', `bo{10}${i}`),
        ),
      );
    }
    expect(await Promise.all(runs)).toEqual(new Array(16).fill('OK'));
    for (let i = 0; i < 16; i++) expect(await values(i % 2 ? A : B, `bo{10}${i}`)).toEqual([2 * i, 2]);
  });

  it('MULTI/EXEC goes to the store as one transaction; AI commands cannot be queued', async () => {
    await cmd(A, 'MULTI');
    expect(await cmd(A, 'SET', 'tx{11}', '1')).toBe('QUEUED');
    expect(await cmd(A, 'INCR', 'tx{11}')).toBe('QUEUED');
    expect(await cmd(A, 'PING')).toBe('QUEUED');
    expect(await cmd(A, 'EXEC')).toEqual(['OK', 2, 'PONG']);
    await cmd(A, 'MULTI');
    await cmd(A, 'AI.TENSORSET', 'tx{11}t', 'FLOAT', '1', 'VALUES', '1');
    expect(await errOf(cmd(A, 'EXEC'))).toBe('ERR AI commands cannot be queued in MULTI with an external keyspace');
    expect(await cmd(A, 'EXISTS', 'tx{11}t')).toBe(0);
  });

  it('SCAN, KEYS, DBSIZE and FLUSHALL span every master; SCAN TYPE knows the AI types', async () => {
    await cmd(A, 'FLUSHALL');
    expect(await cmd(B, 'DBSIZE')).toBe(0);
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    for (const k of keys) await cmd(A, 'SET', k, 'v');
    for (let i = 0; i < 5; i++) await cmd(A, 'AI.TENSORSET', `t${i}`, 'FLOAT', '1', 'VALUES', '1');
    await cmd(A, 'HSET', 'plain', 'f', 'v');
    expect(await cmd(B, 'DBSIZE')).toBe(66);
    expect(((await cmd(B, 'KEYS', 'k*')) as string[]).sort()).toEqual([...keys].sort());
    const seen = new Set<string>();
    let cursor = '0';
    let pages = 0;
    do {
      const [next, page] = (await cmd(B, 'SCAN', cursor, 'COUNT', '7')) as [string, string[]];
      for (const k of page) seen.add(k);
      cursor = next;
      pages++;
    } while (cursor !== '0' && pages < 1000);
    expect(seen.size).toBe(66);
    const typed = async (type: string) => {
      const out: string[] = [];
      let c = '0';
      do {
        const [next, page] = (await cmd(B, 'SCAN', c, 'TYPE', type, 'COUNT', '100')) as [string, string[]];
        out.push(...page);
        c = next;
      } while (c !== '0');
      return out.sort();
    };
    expect(await typed('AI_TENSOR')).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(await typed('hash')).toEqual(['plain']);
    expect(await errOf(cmd(B, 'SCAN', 'x'))).toBe('ERR invalid cursor');
    expect(await cmd(A, 'FLUSHALL')).toBe('OK');
    expect(await cmd(B, 'DBSIZE')).toBe(0);
  });

  it("DUMP and RESTORE: RedisAI payloads, byte for byte as the embedded keyspace's; other payloads are the store's", async () => {
    const embedded = await startServer([]);
    const Em = await connect(embedded.port);
    try {
      const src = 'def twice(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] * 2\n';
      for (const c of [A, Em]) {
        expect(await cmd(c, 'AI.TENSORSET', 'dt{13}', 'INT64', '2', 'VALUES', '-9223372036854775808', '7')).toBe('OK');
        expect(await cmd(c, 'AI.MODELSTORE', 'dm{13}', 'ONNX', 'CPU', 'TAG', 'v1', 'BLOB', ADD)).toBe('OK');
        expect(await cmd(c, 'AI.SCRIPTSTORE', 'ds{13}', 'CPU', 'ENTRY_POINTS', '1', 'twice', 'SOURCE', src)).toBe('OK');
      }
      const dump = async (c: Client, k: string) => (await c.sendCommand(['DUMP', k], RAW)) as Buffer;
      const payload: Record<string, Buffer> = {};
      for (const k of ['dt{13}', 'dm{13}', 'ds{13}']) {
        payload[k] = await dump(B, k);
        expect(payload[k], k).toEqual(await dump(Em, k));
      }
      // RESTORE through a node: BUSYKEY, then REPLACE; the copies work on every node.
      expect(await errOf(cmd(B, 'RESTORE', 'dt{13}', '0', payload['dt{13}']!))).toBe('BUSYKEY Target key name already exists.');
      await cmd(A, 'SET', 'dt2{13}', 'a string');
      expect(await cmd(B, 'RESTORE', 'dt2{13}', '0', payload['dt{13}']!, 'REPLACE')).toBe('OK');
      expect(await A.sendCommand(['AI.TENSORGET', 'dt2{13}', 'VALUES'], STR)).toEqual(['-9223372036854775808', '7']);
      expect(await cmd(B, 'RESTORE', 'dm2{13}', '60000', payload['dm{13}']!)).toBe('OK');
      const pttl = Number(await store.cli(['PTTL', 'dm2{13}']));
      expect(pttl).toBeGreaterThan(50_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(await cmd(A, 'AI.MODELGET', 'dm2{13}', 'META')).toEqual(await cmd(A, 'AI.MODELGET', 'dm{13}', 'META'));
      await cmd(A, 'AI.TENSORSET', 'da{13}', 'FLOAT', '1', '2', 'VALUES', '1', '2');
      expect(await cmd(A, 'AI.MODELEXECUTE', 'dm2{13}', 'INPUTS', '2', 'da{13}', 'da{13}', 'OUTPUTS', '1', 'db{13}')).toBe('OK');
      expect(await values(B, 'db{13}')).toEqual([2, 4]);
      expect(await cmd(B, 'RESTORE', 'ds2{13}', '0', payload['ds{13}']!)).toBe('OK');
      expect(await cmd(A, 'AI.SCRIPTEXECUTE', 'ds2{13}', 'twice', 'INPUTS', '1', 'da{13}', 'OUTPUTS', '1', 'dc{13}')).toBe('OK');
      expect(await values(B, 'dc{13}')).toEqual([2, 4]);
      expect(await store.cli(['HGET', 'ds2{13}', 'respai:type'])).toBe('AI_SCRIPT\n');
      // A damaged payload: Redis's text, and nothing written.
      const bad = Buffer.from(payload['dm{13}']!);
      expect(await errOf(cmd(B, 'RESTORE', 'dm3{13}', '0', bad.subarray(0, bad.length - 1)))).toBe('ERR DUMP payload version or checksum are wrong');
      expect(await cmd(A, 'EXISTS', 'dm3{13}')).toBe(0);
      // A payload whose model the backend refuses: the embedded keyspace's error, and nothing written.
      const spec = readDump(payload['dm{13}']!);
      if (spec.kind !== 'model') throw new Error('not a model payload');
      const garbage = createDump({ type: 'model', value: { meta: spec.value, blob: Buffer.alloc(64, 7) } as unknown as Model }, { modelChunkSize: 1 << 29 });
      const refused = await errOf(cmd(Em, 'RESTORE', 'junk', '0', garbage));
      expect(refused).toMatch(/^ERR /);
      expect(await errOf(cmd(B, 'RESTORE', 'dm3{13}', '0', garbage))).toBe(refused);
      expect(await cmd(A, 'EXISTS', 'dm3{13}')).toBe(0);
      // Already expired (ABSTTL in the past): OK, and REPLACE only deletes.
      expect(await cmd(B, 'RESTORE', 'dt2{13}', '1', payload['dt{13}']!, 'REPLACE', 'ABSTTL')).toBe('OK');
      expect(await cmd(A, 'EXISTS', 'dt2{13}')).toBe(0);
      expect(await errOf(cmd(B, 'RESTORE', 'dt2{13}', '-1', payload['dt{13}']!))).toBe('ERR Invalid TTL value, must be >= 0');
      expect(await errOf(cmd(B, 'RESTORE', 'dt2{13}', 'x', payload['dt{13}']!))).toBe('ERR value is not an integer or out of range');
      // Redis's own types: DUMP and RESTORE are the store's.
      await cmd(A, 'RPUSH', 'dl{13}', 'a', 'b');
      const list = await dump(B, 'dl{13}');
      expect(list).toEqual(await dump(A, 'dl{13}'));
      expect(await cmd(B, 'RESTORE', 'dl2{13}', '0', list)).toBe('OK');
      expect(await store.cli(['LRANGE', 'dl2{13}', '0', '-1'])).toBe('a\nb\n');
      expect(await cmd(A, 'DUMP', 'nothing{13}')).toBe(null);
    } finally {
      await Em.close();
      expect(await embedded.stop()).toBe(0);
    }
  });

  it("ACL and SLOWLOG are the node's own, not the store's", async () => {
    expect(await cmd(A, 'ACL', 'SETUSER', 'nodeuser', 'on', '>pw', '~*', '+@all')).toBe('OK');
    expect(await cmd(A, 'ACL', 'USERS')).toContain('nodeuser');
    expect(await store.cli(['ACL', 'USERS'])).not.toContain('nodeuser');
    const user = await connect(a.port);
    expect(await cmd(user, 'AUTH', 'nodeuser', 'pw')).toBe('OK');
    expect(await cmd(user, 'SET', 'acl{12}', 'v')).toBe('OK');
    await user.close();
    expect(await cmd(B, 'ACL', 'USERS')).not.toContain('nodeuser');
    expect(await cmd(A, 'ACL', 'DELUSER', 'nodeuser')).toBe(1);
    expect(await cmd(A, 'SLOWLOG', 'RESET')).toBe('OK');
    expect(await cmd(A, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0')).toBe('OK');
    await cmd(A, 'GET', 'acl{12}');
    const log = (await cmd(A, 'SLOWLOG', 'GET', '10')) as [number, number, number, string[]][];
    expect(log.map((e) => e[3])).toContainEqual(['GET', 'acl{12}']);
    expect(await cmd(A, 'CONFIG', 'SET', 'slowlog-log-slower-than', '10000')).toBe('OK');
  });

  it('INFO shows the store', async () => {
    const info = String(await cmd(B, 'INFO'));
    expect(info).toContain(`keyspace_mode:${mode}`);
    expect(info).toContain('keyspace_store_status:ok');
    expect(info).toMatch(new RegExp(`keyspace_store_masters:${onCluster ? 3 : 1}\\r`));
    expect(await cmd(B, 'CONFIG', 'GET', 'keyspace-timeout')).toEqual(['keyspace-timeout', '3000']);
  });
});

describe.skipIf(!hasRedisServer)('faults', () => {
  it('a standalone store going away: ERR keyspace unavailable, then everything works again without a restart', async () => {
    const store = await startRedisServer();
    const node = await startServer(['--keyspace-url', `redis://127.0.0.1:${store.port}`, '--keyspace-timeout', '1000']);
    const c = await connect(node.port);
    try {
      expect(await c.sendCommand(['AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', ADD])).toBe('OK');
      expect(await c.sendCommand(['AI.TENSORSET', 'a', 'FLOAT', '1', '2', 'VALUES', '1', '2'])).toBe('OK');
      await store.stop();
      for (const args of [['GET', 'x'], ['AI.TENSORGET', 'a'], ['AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'b'], ['DBSIZE']]) {
        expect(await errOf(c.sendCommand(args))).toMatch(/^ERR keyspace unavailable: /);
      }
      expect(await c.sendCommand(['PING'])).toBe('PONG');
      expect(String(await c.sendCommand(['INFO', 'keyspace_store']))).toContain('keyspace_store_status:down');
      // The same port again (an empty store: the data was not persisted).
      const again = await startRedisServer({ port: store.port });
      try {
        const end = Date.now() + 10_000;
        let r: unknown;
        do {
          r = await c.sendCommand(['SET', 'x', '1']).catch((e: Error) => e.message);
          if (r !== 'OK') await sleep(50);
        } while (r !== 'OK' && Date.now() < end);
        expect(r).toBe('OK');
        expect(await c.sendCommand(['AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', ADD])).toBe('OK');
        expect(await c.sendCommand(['AI.TENSORSET', 'a', 'FLOAT', '1', '2', 'VALUES', '1', '2'])).toBe('OK');
        expect(await c.sendCommand(['AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'b'])).toBe('OK');
      } finally {
        await again.stop();
      }
    } finally {
      await c.close().catch(() => undefined);
      expect(await node.stop()).toBe(0);
      expect(node.output()).not.toMatch(/"level":50/);
    }
  }, 60_000);
});
