/**
 * A robustness run against the built server, as a hostile or careless client would make it:
 * hundreds of damaged TORCH, ONNX and TF models, hostile TorchScript sources (100,000 nested
 * parentheses, a 1 MiB identifier, odd unicode), scripts that do not compile, missing functions,
 * bad runs. Every command gets a reply, the server keeps serving and keeps every other key, its
 * memory stays bounded, and its log (at debug level) holds no error-level line for any of it and no
 * line longer than a few KiB.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { encodeModel, OnnxType } from '@respai/backend-onnx/testing';
import { mulModel } from '@respai/backend-tf/testing';
import { NESTINGS, ODDITIES, archiveMutant, sourceMutant, torchModelBlob } from '@respai/backend-torch/testing';
import { Rng, mutateBytes, mutateProtobuf } from '@respai/core/fuzz';
import { startServer, type RunningServer } from './helpers/server.js';

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;

const TORCH_MUTANTS = Number(process.env.RESPAI_ROBUST_TORCH ?? 300);
const ONNX_MUTANTS = Number(process.env.RESPAI_ROBUST_ONNX ?? 200);
const TF_MUTANTS = Number(process.env.RESPAI_ROBUST_TF ?? 200);
/** No log line may be longer (the logger's own bound is 4 KiB of fields plus its envelope). */
const MAX_LOG_LINE = 6 * 1024;

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
  client.on('error', () => undefined);
  await client.connect();
  await client.sendCommand(['CONFIG', 'SET', 'loglevel', 'debug']);
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

/** The reply, or the error text: either way a reply came. */
async function reply(...args: Arg[]): Promise<string> {
  try {
    const r = await client.sendCommand(args);
    return typeof r === 'string' ? r : JSON.stringify(r);
  } catch (e) {
    return `-${(e as Error).message}`;
  }
}

async function rss(): Promise<number> {
  const status = await readFile(`/proc/${server.proc.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

const ADD = torchModelBlob('def forward(self, a, b):\n    return a + b\n');
const ADD_ONNX = encodeModel({
  nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['c'] }],
  inputs: [
    { name: 'a', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } },
    { name: 'b', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } },
  ],
  outputs: [{ name: 'c', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } }],
});

/** The keys a careless client must not disturb, and a check that they still answer the same. */
async function keptKeysAnswer(): Promise<void> {
  expect(await reply('PING')).toBe('PONG');
  expect(await reply('AI.MODELEXECUTE', 'keep:torch', 'INPUTS', '2', 'keep:x', 'keep:x', 'OUTPUTS', '1', 'out')).toBe('OK');
  expect(await reply('AI.TENSORGET', 'out', 'VALUES')).toBe('["2","4"]');
  expect(await reply('AI.SCRIPTEXECUTE', 'keep:script', 'bar', 'INPUTS', '2', 'keep:x', 'keep:x', 'OUTPUTS', '1', 'out2')).toBe('OK');
  expect(await reply('AI.TENSORGET', 'out2', 'VALUES')).toBe('["2","4"]');
  expect(await reply('GET', 'keep:string')).toBe('still here');
}

describe('a robustness run', { timeout: 600_000 }, () => {
  it('stores what the other keys need', async () => {
    expect(await reply('SET', 'keep:string', 'still here')).toBe('OK');
    expect(await reply('AI.TENSORSET', 'keep:x', 'FLOAT', '1', '2', 'VALUES', '1', '2')).toBe('OK');
    expect(await reply('AI.MODELSTORE', 'keep:torch', 'TORCH', 'CPU', 'BLOB', ADD)).toBe('OK');
    expect(await reply('AI.SCRIPTSTORE', 'keep:script', 'CPU', 'ENTRY_POINTS', '1', 'bar', 'SOURCE', 'def bar(a, b):\n    return a + b\n')).toBe('OK');
    expect(await reply('AI.MODELSTORE', 'keep:onnx', 'ONNX', 'CPU', 'BLOB', ADD_ONNX)).toBe('OK');
    expect(await reply('AI.MODELSTORE', 'keep:tf', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', mulModel())).toBe('OK');
    await keptKeysAnswer();
  });

  it('the drop-in issue case: 100,000 nested parentheses get an error, the server lives', async () => {
    expect(await reply('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', NESTINGS.parentheses!(100_000))).toBe(
      '-ERR the script nests brackets more than 200 deep (line 2); TorchScript, like Python, allows 200',
    );
    // Deep recursion the bracket limit does not see is caught by the compile in a child process.
    expect(await reply('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', NESTINGS.sums!(100_000))).toMatch(
      /^-ERR the TorchScript compiler crashed on this script \(SIGSEGV\) in a separate check process/,
    );
    await keptKeysAnswer();
  });

  it('client mistakes get their reply: no compile, a missing function, a 1 MiB identifier (a bounded reply)', async () => {
    expect(await reply('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', 'def f(a):\n    return a +\n')).toMatch(/^-ERR expected .* but found/);
    expect(await reply('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', '1', 'nope', 'SOURCE', 'def f(a):\n    return a\n')).toBe(
      '-ERR Function nope does not exist in the given script.',
    );
    const long = await reply('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', `def f(a):\n    return ${'x'.repeat(1 << 20)}\n`);
    // The identifier keeps its first 128 bytes wherever the message quotes it (as Redis echoes arguments).
    expect(long).toMatch(/^-ERR undefined value x{128}\.\.\.( |$)/);
    expect(long.length).toBeLessThan(1200);
    expect(await reply('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB', 'not a model')).toBe(
      '-ERR this is not a TorchScript model: a TorchScript model is the zip archive written by torch.jit.save',
    );
    expect(await reply('AI.SCRIPTEXECUTE', 'keep:script', 'nope', 'INPUTS', '1', 'keep:x', 'OUTPUTS', '1', 'o')).toBe(
      '-ERR Function nope does not exist in the given script.',
    );
    expect(await reply('AI.MODELEXECUTE', 'keep:torch', 'INPUTS', '2', 'keep:x', 'keep:string', 'OUTPUTS', '1', 'o')).toMatch(/^-/);
    expect(await reply('AI.TENSORSET', 'bad:y', 'FLOAT', '3', 'VALUES', '1', '2', '3')).toBe('OK');
    expect(await reply('AI.MODELEXECUTE', 'keep:onnx', 'INPUTS', '2', 'keep:x', 'bad:y', 'OUTPUTS', '1', 'o')).toMatch(/^-ERR /);
    expect(await reply('AI.MODELEXECUTE', 'keep:tf', 'INPUTS', '2', 'keep:x', 'bad:y', 'OUTPUTS', '1', 'o')).toMatch(/^-ERR /);
    for (const [name, src] of Object.entries(ODDITIES)) {
      expect(await reply('AI.SCRIPTSTORE', `odd:${name}`, 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', src), name).toMatch(/^(OK|-ERR .+)$/s);
    }
    for (let i = 0; i < 50; i++) expect(await reply('AI.SCRIPTSTORE', 'mut', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', sourceMutant(7, i))).toMatch(/^(OK|-ERR .+)$/s);
    await keptKeysAnswer();
  });

  it(`${TORCH_MUTANTS} damaged TORCH, ${ONNX_MUTANTS} ONNX and ${TF_MUTANTS} TF models: each gets a reply; memory stays bounded`, async () => {
    const torchBases = [ADD, torchModelBlob('def forward(self, x):\n    return torch.relu(x) * 2\n\ndef helper(self, y):\n    return y.sum()\n')];
    const outcomes: Record<string, number> = {};
    const count = (r: string) => (outcomes[r === 'OK' ? 'stored' : 'refused'] = (outcomes[r === 'OK' ? 'stored' : 'refused'] ?? 0) + 1);
    const half = TORCH_MUTANTS >> 1;
    let rssAtHalf = 0;
    for (let i = 0; i < TORCH_MUTANTS; i++) {
      if (i === half) rssAtHalf = await rss();
      count(await reply('AI.MODELSTORE', `fuzz:${i % 10}`, 'TORCH', 'CPU', 'BLOB', archiveMutant(torchBases, 11, i).blob));
    }
    const rssAfterTorch = await rss();
    const r = new Rng(12);
    for (let i = 0; i < ONNX_MUTANTS; i++) {
      const blob = r.chance(0.8) ? mutateProtobuf(ADD_ONNX, r) : mutateBytes(ADD_ONNX, r).bytes;
      count(await reply('AI.MODELSTORE', `fuzz:onnx:${i % 10}`, 'ONNX', 'CPU', 'BLOB', blob));
    }
    for (let i = 0; i < TF_MUTANTS; i++) {
      const blob = r.chance(0.8) ? mutateProtobuf(mulModel(), r) : mutateBytes(mulModel(), r).bytes;
      count(await reply('AI.MODELSTORE', `fuzz:tf:${i % 10}`, 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', blob));
    }
    console.log('robustness run:', outcomes, `server RSS ${(rssAtHalf / 2 ** 20).toFixed(0)} MiB at half the TORCH mutants, ${(rssAfterTorch / 2 ** 20).toFixed(0)} MiB after`);
    expect(outcomes.refused).toBeGreaterThan((TORCH_MUTANTS + ONNX_MUTANTS + TF_MUTANTS) / 4);
    // Refused TorchScript never reaches the server's libtorch: the second half keeps no memory to speak of.
    expect(rssAfterTorch - rssAtHalf).toBeLessThan(64 * 2 ** 20);
    await keptKeysAnswer();
  });

  it('the log holds no error-level line for any of it, and no line longer than a few KiB', async () => {
    // pino writes asynchronously: a PING round trip and a moment let the last lines out.
    await reply('PING');
    await new Promise((res) => setTimeout(res, 500));
    const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(10);
    const levels = lines.map((l) => (JSON.parse(l) as { level: number }).level);
    // Debug lines were on: the refusals were logged, bounded.
    expect(levels.filter((l) => l === 20).length).toBeGreaterThan(0);
    const errors = lines.filter((_, i) => levels[i]! >= 50);
    expect(errors.map((l) => l.slice(0, 300))).toEqual([]);
    const long = lines.filter((l) => l.length > MAX_LOG_LINE);
    expect(long.map((l) => `${l.length}: ${l.slice(0, 300)}`)).toEqual([]);
  });
});
