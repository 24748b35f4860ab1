/**
 * Every AI command inside MULTI / EXEC through node-redis, as the original engine treats them: run
 * commands (MODELEXECUTE, SCRIPTEXECUTE, DAGEXECUTE and their deprecated and read-only forms) are
 * refused at EXEC with RedisAI's text without running; every other AI command runs inside the
 * transaction, stores included (their model or script loads before EXEC's commands run, so the
 * transaction stays atomic).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { OnnxType, binaryModel } from '@respai/backend-onnx/testing';
import { startServer, type RunningServer } from './helpers/server.js';

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;

const REFUSED = 'ERR Cannot run RedisAI command within a transaction or a LUA script';
const ADD = binaryModel('Add', OnnxType.FLOAT, [2], [2], [2]);
const SCRIPT = 'def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + tensors[1]\n';

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
  client.on('error', () => undefined);
  await client.connect();
});

afterAll(async () => {
  await client?.quit().catch(() => undefined);
  await server?.stop();
});

/** Sends MULTI, the commands, EXEC; resolves with EXEC's replies (errors as their text). */
async function transaction(...cmds: Arg[][]): Promise<unknown[]> {
  const m = client.multi();
  for (const c of cmds) m.addCommand(c);
  const replies = await m.exec().catch((e: { replies?: unknown[] }) => {
    if (e.replies === undefined) throw e;
    return e.replies;
  });
  return replies.map((r) => (r instanceof Error ? r.message : r));
}

const send = (...args: Arg[]) => client.sendCommand(args);

describe('AI commands inside MULTI', () => {
  it('run commands are refused at EXEC, each with the original text, and run nothing', async () => {
    await send('AI.TENSORSET', 'm:a', 'FLOAT', '2', 'VALUES', '1', '2');
    await send('AI.MODELSTORE', 'm:add', 'ONNX', 'CPU', 'BLOB', ADD);
    await send('AI.SCRIPTSTORE', 'm:s', 'CPU', 'ENTRY_POINTS', '1', 'bar', 'SOURCE', SCRIPT);
    const replies = await transaction(
      ['AI.MODELEXECUTE', 'm:add', 'INPUTS', '2', 'm:a', 'm:a', 'OUTPUTS', '1', 'm:out1'],
      ['AI.MODELRUN', 'm:add', 'INPUTS', 'm:a', 'm:a', 'OUTPUTS', 'm:out2'],
      ['AI.SCRIPTEXECUTE', 'm:s', 'bar', 'INPUTS', '2', 'm:a', 'm:a', 'OUTPUTS', '1', 'm:out3'],
      ['AI.SCRIPTRUN', 'm:s', 'bar', 'INPUTS', 'm:a', 'm:a', 'OUTPUTS', 'm:out4'],
      ['AI.DAGEXECUTE', 'LOAD', '1', 'm:a', 'PERSIST', '1', 'm:out5', '|>', 'AI.MODELEXECUTE', 'm:add', 'INPUTS', '2', 'm:a', 'm:a', 'OUTPUTS', '1', 'm:out5'],
      ['AI.DAGEXECUTE_RO', 'LOAD', '1', 'm:a', '|>', 'AI.TENSORGET', 'm:a', 'VALUES'],
      ['AI.DAGRUN', 'LOAD', '1', 'm:a', 'PERSIST', '1', 'm:out6', '|>', 'AI.MODELRUN', 'm:add', 'INPUTS', 'm:a', 'm:a', 'OUTPUTS', 'm:out6'],
      ['AI.DAGRUN_RO', 'LOAD', '1', 'm:a', '|>', 'AI.TENSORGET', 'm:a', 'VALUES'],
    );
    expect(replies).toEqual(Array(8).fill(REFUSED));
    for (const k of ['m:out1', 'm:out2', 'm:out3', 'm:out4', 'm:out5', 'm:out6']) expect(await client.exists(k)).toBe(0);
    expect(await send('AI.INFO', 'm:add')).toContain(0); // calls 0: nothing ran
  });

  it('stores run inside the transaction: models, scripts, their deprecated forms, each reply in order', async () => {
    const replies = await transaction(
      ['SET', 'm:before', '1'],
      ['AI.MODELSTORE', 'm:m1', 'ONNX', 'CPU', 'BLOB', ADD],
      ['AI.MODELSET', 'm:m2', 'ONNX', 'CPU', 'BLOB', ADD],
      ['AI.MODELSTORE', 'm:bad', 'ONNX', 'CPU', 'BLOB', 'not a model'],
      ['AI.SCRIPTSTORE', 'm:s1', 'CPU', 'ENTRY_POINTS', '1', 'bar', 'SOURCE', SCRIPT],
      ['AI.SCRIPTSET', 'm:s2', 'CPU', 'SOURCE', SCRIPT],
      ['AI.SCRIPTSTORE', 'm:s3', 'CPU', 'ENTRY_POINTS', '1', 'nope', 'SOURCE', SCRIPT],
      ['SET', 'm:after', '2'],
    );
    expect(replies[0]).toBe('OK');
    expect(replies[1]).toBe('OK');
    expect(replies[2]).toBe('OK');
    expect(replies[3]).toBe('ERR Failed to load model because protobuf parsing failed.');
    expect(replies[4]).toBe('OK');
    expect(replies[5]).toBe('OK');
    expect(replies[6]).toBe('ERR Function nope does not exist in the given script.');
    expect(replies[7]).toBe('OK');
    expect(await send('TYPE', 'm:m1')).toBe('AI__MODEL');
    expect(await send('TYPE', 'm:m2')).toBe('AI__MODEL');
    expect(await client.exists('m:bad')).toBe(0);
    expect(await send('TYPE', 'm:s1')).toBe('AI_SCRIPT');
    expect(await send('TYPE', 'm:s2')).toBe('AI_SCRIPT');
    expect(await client.exists('m:s3')).toBe(0);
    // The stored model works after the transaction.
    await send('AI.TENSORSET', 'm:x', 'FLOAT', '2', 'VALUES', '1', '2');
    await send('AI.MODELEXECUTE', 'm:m1', 'INPUTS', '2', 'm:x', 'm:x', 'OUTPUTS', '1', 'm:y');
    expect(await send('AI.TENSORGET', 'm:y', 'VALUES')).toEqual(['2', '4']);
  });

  it('a store whose key changed type while its model loaded gets WRONGTYPE, and nothing is stored', async () => {
    const replies = await transaction(['AI.MODELSTORE', 'm:clash', 'ONNX', 'CPU', 'BLOB', ADD], ['SET', 'm:clash', 'x']);
    expect(replies).toEqual(['OK', 'OK']);
    expect(await send('TYPE', 'm:clash')).toBe('string');
    const again = await transaction(['SET', 'm:clash2', 'x'], ['AI.MODELSTORE', 'm:clash2', 'ONNX', 'CPU', 'BLOB', ADD]);
    expect(again).toEqual(['OK', 'WRONGTYPE Operation against a key holding the wrong kind of value']);
    expect(await send('GET', 'm:clash2')).toBe('x');
  });

  it('the other AI commands run inside the transaction', async () => {
    await send('AI.MODELSTORE', 'm:g', 'ONNX', 'CPU', 'TAG', 'v1', 'BLOB', ADD);
    await send('AI.SCRIPTSTORE', 'm:gs', 'CPU', 'ENTRY_POINTS', '1', 'bar', 'SOURCE', SCRIPT);
    const replies = await transaction(
      ['AI.TENSORSET', 'm:t', 'FLOAT', '2', 'VALUES', '3', '4'],
      ['AI.TENSORGET', 'm:t', 'VALUES'],
      ['AI.MODELGET', 'm:g', 'META'],
      ['AI.SCRIPTGET', 'm:gs', 'META'],
      ['AI.INFO', 'm:g'],
      ['AI.CONFIG', 'MODEL_CHUNK_SIZE', '4096'],
      ['AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE'],
      ['AI.CONFIG', 'LOADBACKEND', 'TF', '@respai/backend-tf'],
      ['AI._MODELSCAN'],
      ['AI._SCRIPTSCAN'],
      ['AI.MODELDEL', 'm:g'],
      ['AI.SCRIPTDEL', 'm:gs'],
    );
    expect(replies[0]).toBe('OK');
    expect(replies[1]).toEqual(['3', '4']);
    expect(replies[2]).toContain('ONNX');
    expect(replies[3]).toContain('device');
    expect(replies[4]).toContain('m:g');
    expect(replies[5]).toBe('OK');
    expect(replies[6]).toBe(4096);
    expect(replies[7]).toBe('OK');
    expect(String(await send('AI.INFO'))).toContain('TensorFlow version');
    expect(Array.isArray(replies[8])).toBe(true);
    expect(Array.isArray(replies[9])).toBe(true);
    expect(replies[10]).toBe('OK');
    expect(replies[11]).toBe('OK');
    expect(await client.exists(['m:g', 'm:gs'])).toBe(0);
    await send('AI.CONFIG', 'MODEL_CHUNK_SIZE', '535822336');
  });
});
