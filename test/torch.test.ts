/**
 * TORCH end to end through node-redis and redis-cli against the built server: TorchScript models
 * (the project's own archives, and ../shared/models/pt-minimal.pt when present) and scripts, with the
 * command reference's examples (addtwo, addn with LIST_INPUTS and `$`, int_set_get with
 * redis.execute), redisAI.model_execute, what scripts may not do, and the error texts.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { torchModelBlob } from '@respai/backend-torch/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { itShared, sharedPath } from '@respai/core/testing';

const SHARED_MODELS = sharedPath('models');

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.NUMBER]: String } } as const;

let server: RunningServer;
let client: Client;
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
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await other?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(args);
const raw = (...args: Arg[]): Promise<unknown> => client.sendCommand(args, RAW);
const err = async (...args: Arg[]): Promise<string> => {
  try {
    const r = await cmd(...args);
    return `no error: ${JSON.stringify(r)}`;
  } catch (e) {
    return (e as Error).message;
  }
};
const values = async (key: string) => ((await cmd('AI.TENSORGET', key, 'VALUES')) as string[]).map(Number);

function cli(args: string[], stdin?: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), '--no-raw', ...args], { timeout: 20_000 }, (e, out, errOut) =>
      e ? reject(new Error(`${e.message}\n${errOut}`)) : resolve(out + errOut),
    );
    child.stdin!.end(stdin ?? '');
  });
}

const ADD = torchModelBlob('def forward(self, a, b):\n    return a + b\n');

describe('TorchScript models', () => {
  itShared('pt-minimal.pt through redis-cli -x: META lists a and b; a + b', ['models/pt-minimal.pt'], async () => {
    const blob = readFileSync(join(SHARED_MODELS, 'pt-minimal.pt'));
    expect(await cli(['-x', 'AI.MODELSTORE', 'ptm', 'TORCH', 'CPU', 'BLOB'], blob)).toBe('OK\n');
    const meta = (await cmd('AI.MODELGET', 'ptm', 'META')) as unknown[];
    expect(meta.slice(0, 2)).toEqual(['backend', 'TORCH']);
    expect(meta[meta.indexOf('inputs') + 1]).toEqual(['a', 'b']);
    await cmd('AI.TENSORSET', 'pa', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3');
    expect(await cmd('AI.MODELEXECUTE', 'ptm', 'INPUTS', '2', 'pa', 'pa', 'OUTPUTS', '1', 'pc')).toBe('OK');
    expect(await values('pc')).toEqual([4, 6, 4, 6]);
  });

  it("the project's own archive: several outputs, every integer dtype, BOOL, MODELGET BLOB round trip", async () => {
    const two = torchModelBlob('def forward(self, x, y):\n    return x * y, x > y\n');
    expect(await cmd('AI.MODELSTORE', 'two', 'TORCH', 'CPU', 'TAG', 'v1', 'BLOB', two)).toBe('OK');
    const meta = (await cmd('AI.MODELGET', 'two', 'META')) as unknown[];
    expect(meta[meta.indexOf('inputs') + 1]).toEqual(['x', 'y']);
    expect(meta[meta.indexOf('tag') + 1]).toBe('v1');
    for (const dtype of ['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'FLOAT', 'DOUBLE']) {
      await cmd('AI.TENSORSET', 'x', dtype, '3', 'VALUES', '1', '5', '3');
      await cmd('AI.TENSORSET', 'y', dtype, '3', 'VALUES', '2', '2', '3');
      expect(await cmd('AI.MODELEXECUTE', 'two', 'INPUTS', '2', 'x', 'y', 'OUTPUTS', '2', 'prod', 'gt')).toBe('OK');
      expect(await cmd('AI.TENSORGET', 'prod', 'META')).toEqual(['dtype', dtype, 'shape', [3]]);
      expect(await values('prod')).toEqual([2, 10, 9]);
      expect(await cmd('AI.TENSORGET', 'gt', 'META', 'VALUES')).toEqual(['dtype', 'BOOL', 'shape', [3], 'values', [0, 1, 0]]);
    }
    const got = (await raw('AI.MODELGET', 'two', 'BLOB')) as Buffer;
    expect(Buffer.compare(got, two)).toBe(0);
    // MODELSTORE of the returned bytes gives the same model back.
    expect(await cmd('AI.MODELSTORE', 'two2', 'TORCH', 'CPU', 'BLOB', got)).toBe('OK');
    expect(await cmd('AI.MODELEXECUTE', 'two2', 'INPUTS', '2', 'x', 'y', 'OUTPUTS', '2', 'prod', 'gt')).toBe('OK');
  });

  it('bad blobs are refused at MODELSTORE and leave an existing model in place', async () => {
    expect(await cmd('AI.MODELSTORE', 'keep', 'TORCH', 'CPU', 'BLOB', ADD)).toBe('OK');
    const garbage = await err('AI.MODELSTORE', 'keep', 'TORCH', 'CPU', 'BLOB', Buffer.from('definitely not a model'));
    expect(garbage).toMatch(/^ERR /);
    expect(garbage).toMatch(/TorchScript/);
    // A Python pickle, what torch.save of a state dict writes in the legacy format.
    const pickle = await err('AI.MODELSTORE', 'keep', 'TORCH', 'CPU', 'BLOB', Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46]));
    expect(pickle).toMatch(/^ERR .*pickle/i);
    expect(await err('AI.MODELSTORE', 'keep', 'TORCH', 'GPU', 'BLOB', ADD)).toBe('ERR GPU requested but TORCH has no GPU support here');
    await cmd('AI.TENSORSET', 'k1', 'FLOAT', '1', 'VALUES', '20');
    expect(await cmd('AI.MODELEXECUTE', 'keep', 'INPUTS', '2', 'k1', 'k1', 'OUTPUTS', '1', 'k2')).toBe('OK');
    expect(await values('k2')).toEqual([40]);
  });

  it('a runtime error in forward is an error reply; the model keeps serving', async () => {
    expect(await cmd('AI.MODELSTORE', 'mm', 'TORCH', 'CPU', 'BLOB', torchModelBlob('def forward(self, a, b):\n    return a @ b\n'))).toBe('OK');
    await cmd('AI.TENSORSET', 'm23', 'FLOAT', '2', '3', 'VALUES', '1', '2', '3', '4', '5', '6');
    const e = await err('AI.MODELEXECUTE', 'mm', 'INPUTS', '2', 'm23', 'm23', 'OUTPUTS', '1', 'mo');
    expect(e).toMatch(/^ERR .*(mat1 and mat2|shapes cannot be multiplied)/);
    expect(await cmd('EXISTS', 'mo')).toBe(0);
    await cmd('AI.TENSORSET', 'm32', 'FLOAT', '3', '2', 'VALUES', '1', '0', '0', '1', '1', '1');
    expect(await cmd('AI.MODELEXECUTE', 'mm', 'INPUTS', '2', 'm23', 'm32', 'OUTPUTS', '1', 'mo')).toBe('OK');
    expect(await values('mo')).toEqual([4, 5, 10, 11]);
    const info = (await cmd('AI.INFO', 'mm')) as unknown[];
    expect(info.slice(12, 18)).toEqual(['samples', 2, 'calls', 2, 'errors', 1]);
  });

  it('while a heavy model runs, other clients are served', async () => {
    const heavy = torchModelBlob('def forward(self, x):\n    y = x\n    for i in range(60):\n        y = torch.tanh(y @ x)\n    return y\n');
    expect(await cmd('AI.MODELSTORE', 'heavy', 'TORCH', 'CPU', 'BLOB', heavy)).toBe('OK');
    await cmd('AI.TENSORSET', 'hx', 'FLOAT', '400', '400', 'BLOB', Buffer.alloc(400 * 400 * 4));
    const running = async () => /^ai_queue_CPU_running:1\r$/m.test(String(await other.sendCommand(['INFO', 'MODULES'])));
    const order: string[] = [];
    const run = cmd('AI.MODELEXECUTE', 'heavy', 'INPUTS', '1', 'hx', 'OUTPUTS', '1', 'hy').then((r) => (order.push('model'), r));
    for (let i = 0; !(await running()); i++) if (i > 10_000) throw new Error('the heavy run never started');
    expect(await other.ping()).toBe('PONG');
    expect(await other.sendCommand(['SET', 'meanwhile', '1'])).toBe('OK');
    order.push('other client');
    // Answered after those: the model was computing all along.
    expect(await running()).toBe(true);
    expect(await run).toBe('OK');
    expect(order).toEqual(['other client', 'model']);
  });
});

const SCRIPT = 'def addtwo(a, b):\n    return a + b\n\ndef addn(a, args : List[Tensor]):\n    return a + torch.stack(args).sum()\n';

describe("scripts: the command reference's examples", () => {
  it('cat addtwo.py | redis-cli -x AI.SCRIPTSET myscript CPU TAG myscript:v0.1 SOURCE', async () => {
    expect(await cli(['-x', 'AI.SCRIPTSET', 'myscript', 'CPU', 'TAG', 'myscript:v0.1', 'SOURCE'], SCRIPT)).toBe('OK\n');
    expect(await cmd('TYPE', 'myscript')).toBe('AI_SCRIPT');
  });

  it('AI.SCRIPTGET myscript: device, tag, entry points, source', async () => {
    expect(await cmd('AI.SCRIPTGET', 'myscript')).toEqual(['device', 'CPU', 'tag', 'myscript:v0.1', 'Entry Points', [], 'source', SCRIPT]);
    expect(await cmd('AI.SCRIPTGET', 'myscript', 'META')).toEqual(['device', 'CPU', 'tag', 'myscript:v0.1', 'Entry Points', []]);
    expect(await cmd('AI.SCRIPTGET', 'myscript', 'SOURCE')).toBe(SCRIPT);
  });

  it('AI.SCRIPTEXECUTE myscript addtwo KEYS 3 ... INPUTS 2 mytensor1 mytensor2 OUTPUTS 1 result -> 42', async () => {
    await cmd('AI.TENSORSET', 'mytensor1', 'FLOAT', '1', 'VALUES', '40');
    await cmd('AI.TENSORSET', 'mytensor2', 'FLOAT', '1', 'VALUES', '2');
    expect(
      await cmd('AI.SCRIPTEXECUTE', 'myscript', 'addtwo', 'KEYS', '3', 'mytensor1', 'mytensor2', 'result', 'INPUTS', '2', 'mytensor1', 'mytensor2', 'OUTPUTS', '1', 'result'),
    ).toBe('OK');
    expect(await cli(['AI.TENSORGET', 'result', 'VALUES'])).toBe('1) "42"\n');
  });

  it('the same with a hash tag: KEYS 1 {tag}', async () => {
    await cli(['-x', 'AI.SCRIPTSET', 'myscript{tag}', 'CPU', 'SOURCE'], SCRIPT);
    await cmd('AI.TENSORSET', 'mytensor1{tag}', 'FLOAT', '1', 'VALUES', '40');
    await cmd('AI.TENSORSET', 'mytensor2{tag}', 'FLOAT', '1', 'VALUES', '1');
    await cmd('AI.TENSORSET', 'mytensor3{tag}', 'FLOAT', '1', 'VALUES', '1');
    expect(
      await cmd('AI.SCRIPTEXECUTE', 'myscript{tag}', 'addtwo', 'KEYS', '1', '{tag}', 'INPUTS', '2', 'mytensor1{tag}', 'mytensor2{tag}', 'OUTPUTS', '1', 'result{tag}'),
    ).toBe('OK');
    expect(await values('result{tag}')).toEqual([41]);
  });

  it('addn with LIST_INPUTS (lower-case keys, as in the reference)', async () => {
    expect(
      await cmd('AI.SCRIPTEXECUTE', 'myscript{tag}', 'addn', 'keys', '1', '{tag}', 'INPUTS', '1', 'mytensor1{tag}', 'LIST_INPUTS', '2', 'mytensor2{tag}', 'mytensor3{tag}', 'OUTPUTS', '1', 'result{tag}'),
    ).toBe('OK');
    expect(await values('result{tag}')).toEqual([42]);
  });

  it('the deprecated AI.SCRIPTRUN: addtwo, and addn with the $ variadic tail', async () => {
    await cmd('AI.TENSORSET', 'mytensor2', 'FLOAT', '1', 'VALUES', '1');
    await cmd('AI.TENSORSET', 'mytensor3', 'FLOAT', '1', 'VALUES', '1');
    expect(await cmd('AI.SCRIPTRUN', 'myscript', 'addtwo', 'INPUTS', 'mytensor1', 'mytensor2', 'OUTPUTS', 'result')).toBe('OK');
    expect(await values('result')).toEqual([41]);
    expect(await cmd('AI.SCRIPTRUN', 'myscript', 'addn', 'INPUTS', 'mytensor1', '$', 'mytensor2', 'mytensor3', 'OUTPUTS', 'result')).toBe('OK');
    expect(await values('result')).toEqual([42]);
  });

  it('int_set_get: redis.execute SET then GET, str and int inputs, an INT64 scalar out', async () => {
    const src = [
      'def redis_string_int_to_tensor(redis_value: Any):',
      '    return torch.tensor(int(str(redis_value)))',
      '',
      'def int_set_get(key:str, value:int):',
      '    redis.execute("SET", key, str(value))',
      '    res = redis.execute("GET", key)',
      '    return redis_string_int_to_tensor(res)',
      '',
    ].join('\n');
    expect(await cmd('AI.SCRIPTSET', 'redis_scripts{1}', 'CPU', 'SOURCE', src)).toBe('OK');
    expect(await cmd('AI.SCRIPTEXECUTE', 'redis_scripts{1}', 'int_set_get', 'KEYS', '1', '{1}', 'INPUTS', '2', 'x{1}', '3', 'OUTPUTS', '1', 'y{1}')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'y{1}', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [], 'values', [3]]);
    expect(await cmd('GET', 'x{1}')).toBe('3');
  });
});

describe('scripts: the rest of the surface', () => {
  it('AI.SCRIPTSTORE with ENTRY_POINTS; entry points of signature (tensors, keys, args)', async () => {
    const src = [
      'def bump(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    redis.execute("INCRBY", keys[0], args[0])',
      '    return tensors[0] + int(args[0])',
      '',
      'def helper(x):',
      '    return x',
      '',
    ].join('\n');
    expect(await cmd('AI.SCRIPTSTORE', 'ep{2}', 'CPU', 'TAG', 't', 'ENTRY_POINTS', '1', 'bump', 'SOURCE', src)).toBe('OK');
    expect(await cmd('AI.SCRIPTGET', 'ep{2}', 'META')).toEqual(['device', 'CPU', 'tag', 't', 'Entry Points', ['bump']]);
    await cmd('AI.TENSORSET', 'a{2}', 'INT32', '2', 'VALUES', '1', '2');
    expect(
      await cmd('AI.SCRIPTEXECUTE', 'ep{2}', 'bump', 'KEYS', '1', 'n{2}', 'INPUTS', '1', 'a{2}', 'ARGS', '1', '5', 'OUTPUTS', '1', 'b{2}'),
    ).toBe('OK');
    expect(await values('b{2}')).toEqual([6, 7]);
    expect(await cmd('GET', 'n{2}')).toBe('5');
    // Inside a DAG too, with the op's own KEYS (what redisai-py's dag.scriptexecute sends), under ROUTING.
    expect(
      await cmd('AI.DAGEXECUTE', 'PERSIST', '1', 'd{2}', 'ROUTING', '{2}', '|>', 'AI.TENSORSET', 'x{2}', 'INT32', '1', 'VALUES', '10',
        '|>', 'AI.SCRIPTEXECUTE', 'ep{2}', 'bump', 'KEYS', '1', 'n{2}', 'INPUTS', '1', 'x{2}', 'ARGS', '1', '3', 'OUTPUTS', '1', 'd{2}'),
    ).toEqual(['OK', 'OK']);
    expect(await values('d{2}')).toEqual([13]);
    expect(await cmd('GET', 'n{2}')).toBe('8');
    expect(await err('AI.SCRIPTSTORE', 'ep2', 'CPU', 'ENTRY_POINTS', '1', 'missing', 'SOURCE', src)).toMatch(/^ERR .*missing/);
    expect(await err('AI.SCRIPTSTORE', 'ep2', 'CPU', 'SOURCE', src)).toBe("ERR wrong number of arguments for 'ai.scriptstore' command");
    // Fewer than 8 arguments is the arity error, as the original; the missing ENTRY_POINTS after that.
    expect(await err('AI.SCRIPTSTORE', 'ep2', 'CPU', 'TAG', 't', 'SOURCE', src)).toBe("ERR wrong number of arguments for 'ai.scriptstore' command");
    expect(await err('AI.SCRIPTSTORE', 'ep2', 'CPU', 'TAG', 't', 'NO_ENTRY_POINTS', '1', 'SOURCE', src)).toBe('ERR Insufficient arguments, missing script entry points');
    expect(await err('AI.SCRIPTSTORE', 'ep2', 'CPU', 'ENTRY_POINTS', 'ENTRY_POINTS', 'bump', 'SOURCE', src)).toBe(
      'ERR Non numeric entry points number provided to AI.SCRIPTSTORE command',
    );
    expect(await err('AI.SCRIPTSTORE', 'ep2', 'CPU', 'ENTRY_POINTS', '1', 'bump', 'SRC', 'x')).toBe('ERR Insufficient arguments, missing script SOURCE');
    expect(await cmd('EXISTS', 'ep2')).toBe(0);
  });

  it("source that does not compile: the compiler's message at store time; an existing script stays", async () => {
    const e = await err('AI.SCRIPTSET', 'myscript', 'CPU', 'SOURCE', 'def f(a):\n    return a +\n');
    expect(e).toMatch(/^ERR expected .* but found/);
    expect(e).not.toContain('\n');
    expect(await cmd('AI.SCRIPTGET', 'myscript', 'SOURCE')).toBe(SCRIPT);
  });

  it('unknown function, wrong argument count, missing input: clear errors at run time', async () => {
    const run = (fn: string, ...inputs: string[]) =>
      err('AI.SCRIPTEXECUTE', 'myscript', fn, 'KEYS', '1', 'mytensor1', 'INPUTS', String(inputs.length), ...inputs, 'OUTPUTS', '1', 'r');
    expect(await run('nope', 'mytensor1')).toBe('ERR Function nope does not exist in the given script.');
    expect(await run('addtwo', 'mytensor1')).toBe('ERR Wrong number of inputs provided to function addtwo: it takes 2, 1 given');
    expect(await run('addtwo', 'mytensor1', 'nosuch')).toBe('ERR tensor key is empty or in a different shard');
    expect(await err('AI.SCRIPTEXECUTE', 'nosuch', 'addtwo', 'KEYS', '1', 'a', 'INPUTS', '1', 'a', 'OUTPUTS', '1', 'r')).toBe('ERR script key is empty');
    expect(await err('AI.SCRIPTEXECUTE', 'myscript', 'addtwo', 'OUTPUTS', '1', 'r')).toBe(
      'ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command',
    );
    expect(await cmd('EXISTS', 'r')).toBe(0);
  });

  it("AI.SCRIPTEXECUTE's argument errors: the original's texts, in its order (the script key first)", async () => {
    const se = (...args: string[]) => err('AI.SCRIPTEXECUTE', ...args);
    expect(await se('myscript')).toBe("ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command");
    expect(await se('nosuch', 'addtwo', 'JUNK')).toBe('ERR script key is empty');
    expect(await se('myscript', 'addtwo', 'KEYS', '1', '{1}', 'ARGS')).toBe('ERR Invalid arguments provided to AI.SCRIPTEXECUTE');
    expect(await se('myscript', 'addtwo', 'INPUTS', 'OUTPUTS')).toBe('ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE');
    expect(await se('myscript', 'addtwo', 'INPUTS', '3', 'a')).toBe('ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'OUTPUTS', 'x')).toBe('ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'ARGS', 'x')).toBe('ERR Invalid argument for keys count in AI.SCRIPTEXECUTE');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'INPUTS', '1', 'a')).toBe('ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command');
    expect(await se('myscript', 'addtwo', 'KEYS', '1', 'k', 'KEYS', '1', 'k')).toBe('ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'OUTPUTS', '1', 'c', 'TIMEOUT')).toBe('ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'OUTPUTS', '1', 'c', 'TIMEOUT', 'TIMEOUT')).toBe('ERR Invalid value for TIMEOUT');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'OUTPUTS', '1', 'c', 'TIMEOUT', '5', 'x')).toBe('ERR Encountered problem parsing AI.SCRIPTEXECUTE');
    expect(await se('myscript', 'addtwo', 'INPUTS', '1', 'a', 'BOGUS')).toBe('ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: BOGUS');
    // The deprecated AI.SCRIPTRUN, walked as the original walks it.
    const sr = (...args: string[]) => err('AI.SCRIPTRUN', 'myscript', 'addn', ...args);
    expect(await sr('INPUTS', '$', 'a', '$', 'b')).toBe('ERR Already encountered a variable size list of tensors');
    expect(await sr('$', 'a')).toBe('ERR Encountered a variable size list of tensors outside of input section');
    expect(await sr('INPUTS', 'a', 'OUTPUTS', 'b', 'INPUTS')).toBe('ERR Already encountered an INPUTS section in SCRIPTRUN');
    expect(await sr('OUTPUTS', 'b', 'OUTPUTS')).toBe('ERR Already encountered an OUTPUTS keyword in SCRIPTRUN');
    expect(await sr('junk')).toBe('ERR Unrecongnized parameter to SCRIPTRUN');
    expect(await cmd('EXISTS', 'c')).toBe(0);
  });

  it('errors that quote the client stay bounded: 128 bytes of a 1 MiB argument or identifier', async () => {
    const huge = 'A'.repeat(1 << 20);
    expect(await err('AI.SCRIPTEXECUTE', 'myscript', 'addtwo', 'INPUTS', '1', 'a', huge)).toBe(
      `ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ${'A'.repeat(128)}`,
    );
    expect(await err('AI.DAGEXECUTE', 'LOAD', '1', 'mytensor1', huge, '|>', 'AI.TENSORGET', 'mytensor1', 'META')).toBe(
      `ERR Invalid DAG command. Unexpected argument:  ${'A'.repeat(128)}`,
    );
    // A script whose 1 MiB identifier the compiler quotes (the name, the source line, the ~~~ marker).
    const e = await err('AI.SCRIPTSET', 'huge', 'CPU', 'SOURCE', `def f(a):\n    return ${huge}\n`);
    expect(e.length).toBeLessThan(1024);
    expect(e).toContain(`undefined value ${'A'.repeat(128)}...`);
    expect(await cmd('EXISTS', 'huge')).toBe(0);
    expect(await cmd('PING')).toBe('PONG');
  });

  it('redis.execute: undeclared keys and commands that do not belong in a script are refused', async () => {
    const src = [
      'def other(key: str):',
      '    redis.execute("SET", "notmine", "1")',
      '    return torch.tensor(1)',
      '',
      'def flush(key: str):',
      '    redis.execute("FLUSHALL", "SYNC")',
      '    return torch.tensor(1)',
      '',
      'def shutdown(key: str):',
      '    redis.execute("SHUTDOWN", "NOSAVE")',
      '    return torch.tensor(1)',
      '',
      'def config(key: str):',
      '    redis.execute("CONFIG", "GET", "port")',
      '    return torch.tensor(1)',
      '',
      'def run(key: str):',
      '    redis.execute("AI.MODELEXECUTE", "keep{3}", "INPUTS", "1", "a{3}", "OUTPUTS", "1", "b{3}")',
      '    return torch.tensor(1)',
      '',
      'def error(key: str):',
      '    redis.execute("INCR", key)',
      '    return torch.tensor(1)',
      '',
      'def readonly(key: str):',
      '    redis.execute("INFO", "server")',
      '    redis.execute("DBSIZE", [])',
      '    redis.execute("TIME", [])',
      '    redis.execute("COMMAND", "COUNT")',
      '    redis.execute("AI.SCRIPTGET", "bad{3}", "META")',
      '    return torch.tensor(1)',
      '',
    ].join('\n');
    expect(await cmd('AI.SCRIPTSET', 'bad{3}', 'CPU', 'SOURCE', src)).toBe('OK');
    const run = (fn: string) => err('AI.SCRIPTEXECUTE', 'bad{3}', fn, 'KEYS', '1', '{3}', 'INPUTS', '1', 's{3}', 'OUTPUTS', '1', 'o{3}');
    expect(await run('other')).toBe("ERR Redis command returned an error: ERR script attempted to access key 'notmine', which is not declared in KEYS");
    expect(await run('flush')).toBe('ERR Redis command returned an error: ERR This Redis command is not allowed from script: flushall');
    expect(await run('shutdown')).toBe('ERR Redis command returned an error: ERR This Redis command is not allowed from script: shutdown');
    expect(await run('config')).toBe('ERR Redis command returned an error: ERR This Redis command is not allowed from script: config');
    expect(await run('run')).toBe('ERR Redis command returned an error: ERR This Redis command is not allowed from script: ai.modelexecute');
    await cmd('SET', 's{3}', 'abc');
    expect(await run('error')).toBe('ERR Redis command returned an error: ERR value is not an integer or out of range');
    // Nothing was touched: the server is up, the keys are there, notmine was never written.
    expect(await cmd('EXISTS', 'notmine', 'o{3}', 'keep', 'myscript')).toBe(2);
    expect(await cmd('GET', 's{3}')).toBe('abc');
    // Read-only commands that take no key, and AI.SCRIPTGET of a declared key, are allowed.
    expect(await cmd('AI.SCRIPTEXECUTE', 'bad{3}', 'readonly', 'KEYS', '1', '{3}', 'INPUTS', '1', 's{3}', 'OUTPUTS', '1', 'o{3}')).toBe('OK');
  });

  it('redisAI.model_execute runs a stored model from a script', async () => {
    const src = [
      'def run_model(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    return redisAI.model_execute(keys[0], [tensors[0], tensors[0]], 1)',
      '',
    ].join('\n');
    expect(await cmd('AI.MODELSTORE', 'add{4}', 'TORCH', 'CPU', 'BLOB', ADD)).toBe('OK');
    expect(await cmd('AI.SCRIPTSTORE', 'me{4}', 'CPU', 'ENTRY_POINTS', '1', 'run_model', 'SOURCE', src)).toBe('OK');
    await cmd('AI.TENSORSET', 'in{4}', 'FLOAT', '2', 'VALUES', '1.5', '2');
    expect(await cmd('AI.SCRIPTEXECUTE', 'me{4}', 'run_model', 'KEYS', '1', 'add{4}', 'INPUTS', '1', 'in{4}', 'OUTPUTS', '1', 'out{4}')).toBe('OK');
    expect(await values('out{4}')).toEqual([3, 4]);
    expect(await err('AI.SCRIPTEXECUTE', 'me{4}', 'run_model', 'KEYS', '1', 'none{4}', 'INPUTS', '1', 'in{4}', 'OUTPUTS', '1', 'out2{4}')).toBe(
      'ERR model key is empty',
    );
  });

  it('int, float and str values as inputs', async () => {
    const src = 'def f(x: Tensor, i: int, s: float, name: str):\n    return x * i + s + len(name)\n';
    expect(await cmd('AI.SCRIPTSET', 'vals', 'CPU', 'SOURCE', src)).toBe('OK');
    await cmd('AI.TENSORSET', 'vx', 'FLOAT', '2', 'VALUES', '1', '2');
    expect(await cmd('AI.SCRIPTEXECUTE', 'vals', 'f', 'KEYS', '1', 'vx', 'INPUTS', '4', 'vx', '3', '0.5', 'abcd', 'OUTPUTS', '1', 'vy')).toBe('OK');
    expect(await values('vy')).toEqual([7.5, 10.5]);
  });

  it('AI.INFO (samples -1), RESETSTAT, AI._SCRIPTSCAN, DEL and AI.SCRIPTDEL', async () => {
    const info = (await cmd('AI.INFO', 'myscript')) as unknown[];
    expect(info.slice(0, 12)).toEqual(['key', 'myscript', 'type', 'SCRIPT', 'backend', 'TORCH', 'device', 'CPU', 'tag', 'myscript:v0.1', 'duration', info[11]]);
    // Three runs; the calls refused before running (unknown function, argument count) count neither.
    expect(info.slice(12)).toEqual(['samples', -1, 'calls', 3, 'errors', 0]);
    expect(await cmd('AI.INFO', 'myscript', 'RESETSTAT')).toBe('OK');
    expect(((await cmd('AI.INFO', 'myscript')) as unknown[]).slice(14)).toEqual(['calls', 0, 'errors', 0]);
    const scan = (await cmd('AI._SCRIPTSCAN')) as [string, string][];
    expect(scan).toContainEqual(['myscript', 'myscript:v0.1']);
    expect(await cmd('AI.SCRIPTDEL', 'myscript{tag}')).toBe('OK');
    expect(await err('AI.SCRIPTDEL', 'myscript{tag}')).toBe('ERR script key is empty');
    expect(await cmd('DEL', 'myscript')).toBe(1);
    expect(await err('AI.SCRIPTGET', 'myscript')).toBe('ERR script key is empty');
    expect(await err('AI.SCRIPTGET', 'mytensor1')).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });

  it('a client that disconnects during a heavy script: the server keeps serving', async () => {
    const src = 'def heavy(x):\n    y = x\n    for i in range(80):\n        y = torch.tanh(y @ x)\n    return y\n';
    expect(await cmd('AI.SCRIPTSET', 'hs', 'CPU', 'SOURCE', src)).toBe('OK');
    await cmd('AI.TENSORSET', 'hsx', 'FLOAT', '400', '400', 'BLOB', Buffer.alloc(400 * 400 * 4));
    const gone = await connect(server.port);
    void gone.sendCommand(['AI.SCRIPTEXECUTE', 'hs', 'heavy', 'KEYS', '1', 'hsx', 'INPUTS', '1', 'hsx', 'OUTPUTS', '1', 'hsy']).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    gone.destroy();
    expect(await cmd('PING')).toBe('PONG');
    await cmd('AI.TENSORSET', 'small', 'FLOAT', '2', '2', 'VALUES', '0', '0', '0', '0');
    expect(await cmd('AI.SCRIPTEXECUTE', 'hs', 'heavy', 'KEYS', '1', 'small', 'INPUTS', '1', 'small', 'OUTPUTS', '1', 'small2')).toBe('OK');
    expect(await values('small2')).toEqual([0, 0, 0, 0]);
    expect(await values('mytensor1{tag}')).toEqual([40]);
  });
});
