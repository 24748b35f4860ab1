/**
 * DAGs end to end through node-redis against the built server: the command reference's examples
 * (a model with two outputs; a pre-process script, a model and a post-process script in one round
 * trip), LOAD / PERSIST visibility and atomicity, TIMEOUT, ops on CPU and CPU:1 in parallel, the
 * deprecated AI.DAGRUN forms, and the original engine's DAG error tests (tests_dag_errors.py),
 * each with its exact text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { OnnxType, encodeModel, matmulChainModel } from '@respai/backend-onnx/testing';
import { mulModel } from '@respai/backend-tf/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { hasShared, sharedPath } from '@respai/core/testing';

const SHARED_MODELS = sharedPath('models');

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer | number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: RunningServer;
let client: Client;
let other: Client;
let third: Client;

async function connect(port: number): Promise<Client> {
  const c = createClient({ socket: { port, host: '127.0.0.1' } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

// graph.pb where ../shared has it, else the same a * b graph written here.
const TF_MUL = hasShared('models/graph.pb') ? readFileSync(join(SHARED_MODELS, 'graph.pb')) : mulModel();

// The original's script.txt functions, as its DAG tests use them.
const SCRIPT = 'def bar(a, b):\n    return a + b\n\ndef bar_variadic(a, args : List[Tensor]):\n    return args[0] + args[1]\n';

/** classes = x, predictions = x + x; x FLOAT [N, 2]. */
const TWO_OUTPUTS = encodeModel({
  nodes: [
    { op: 'Identity', inputs: ['x'], outputs: ['classes'] },
    { op: 'Add', inputs: ['x', 'x'], outputs: ['predictions'] },
  ],
  inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } }],
  outputs: [
    { name: 'classes', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } },
    { name: 'predictions', type: { tensor: OnnxType.FLOAT, shape: ['N', 2] } },
  ],
});

// The image pipeline: UINT8 [H, W, 3] -> pre_process_3ch -> FLOAT [1, 3*H*W] -> linear classifier
// of CLASSES -> post_process (arg-max) -> INT64 [1].
const H = 6;
const W = 5;
const CLASSES = 7;
const FEATURES = 3 * H * W;
const WEIGHTS = Float32Array.from({ length: FEATURES * CLASSES }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const BIAS = Float32Array.from({ length: CLASSES }, (_, i) => (i - 3) * 0.01);
const CLASSIFIER = encodeModel({
  nodes: [
    { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
    { op: 'Add', inputs: ['xw', 'B'], outputs: ['logits'] },
  ],
  inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: ['N', FEATURES] } }],
  outputs: [{ name: 'logits', type: { tensor: OnnxType.FLOAT, shape: ['N', CLASSES] } }],
  initializers: [
    { name: 'W', type: OnnxType.FLOAT, dims: [FEATURES, CLASSES], raw: new Uint8Array(WEIGHTS.buffer) },
    { name: 'B', type: OnnxType.FLOAT, dims: [CLASSES], raw: new Uint8Array(BIAS.buffer) },
  ],
});
const IMAGENET_SCRIPT = [
  'def pre_process_3ch(image):',
  '    # HWC uint8 pixels -> CHW float in [0, 1], flattened to one row',
  '    return image.float().div(255).permute(2, 0, 1).reshape(1, -1)',
  '',
  'def post_process(output):',
  '    return output.argmax(1)',
  '',
].join('\n');

/** The pipeline computed in plain JS: the class the DAG must answer. */
function expectedClass(pixels: Uint8Array): number {
  const x = new Float64Array(FEATURES);
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < 3; c++) x[c * H * W + h * W + w] = pixels[(h * W + w) * 3 + c]! / 255;
  let best = 0;
  let bestScore = -Infinity;
  for (let k = 0; k < CLASSES; k++) {
    let s = BIAS[k]!;
    for (let i = 0; i < FEATURES; i++) s += x[i]! * WEIGHTS[i * CLASSES + k]!;
    if (s > bestScore) [best, bestScore] = [k, s];
  }
  return best;
}

const HEAVY = matmulChainModel(512, 20);
/** Rows of the heavy input: a few hundred ms of one core here. */
const HEAVY_ROWS = 6144;

beforeAll(async () => {
  // One thread per run, so two devices really are two cores' worth of work on a 2-core machine.
  server = await startServer(['--intra-op-parallelism', '1']);
  [client, other, third] = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
  const ok = async (...args: Arg[]) => expect(await cmd(...args)).toBe('OK');
  await ok('AI.MODELSTORE', 'mymodel{tag}', 'ONNX', 'CPU', 'BLOB', TWO_OUTPUTS);
  await ok('AI.MODELSTORE', 'imagenet_model{tag}', 'ONNX', 'CPU', 'BLOB', CLASSIFIER);
  await ok('AI.SCRIPTSTORE', 'imagenet_script{tag}', 'CPU', 'ENTRY_POINTS', '2', 'pre_process_3ch', 'post_process', 'SOURCE', IMAGENET_SCRIPT);
  await ok('AI.MODELSTORE', 'm{1}', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB', TF_MUL);
  await ok('AI.SCRIPTSTORE', 'script{1}', 'CPU', 'ENTRY_POINTS', '2', 'bar', 'bar_variadic', 'SOURCE', SCRIPT);
  await ok('AI.MODELSTORE', 'heavy', 'ONNX', 'CPU', 'BLOB', HEAVY);
  await ok('AI.MODELSTORE', 'heavy1', 'ONNX', 'CPU:1', 'BLOB', HEAVY);
  await ok('AI.TENSORSET', 'hx', 'FLOAT', String(HEAVY_ROWS), '512', 'BLOB', Buffer.alloc(HEAVY_ROWS * 512 * 4));
});

afterAll(async () => {
  for (const c of [client, other, third]) await c?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

const str = (args: Arg[]) => args.map((a) => (typeof a === 'number' ? String(a) : a));
const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(str(args));
const on = (c: Client, ...args: Arg[]): Promise<unknown> => c.sendCommand(str(args));
const err = async (...args: Arg[]): Promise<string> => {
  try {
    return `no error: ${JSON.stringify(await cmd(...args))}`;
  } catch (e) {
    return (e as Error).message;
  }
};
/** A command line split on spaces, as the original's tests write them. */
const line = (s: string) => s.trim().split(/\s+/);

async function info(): Promise<Record<string, string>> {
  const text = (await on(third, 'INFO', 'MODULES')) as string;
  return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

describe("the command reference's examples", () => {
  it('PERSIST 1 predictions{tag} |> TENSORSET |> MODELEXECUTE (two outputs) |> TENSORGET', async () => {
    const r = await cmd(
      ...line(`AI.DAGEXECUTE PERSIST 1 predictions{tag} |>
        AI.TENSORSET mytensor FLOAT 1 2 VALUES 5 10 |>
        AI.MODELEXECUTE mymodel{tag} INPUTS 1 mytensor OUTPUTS 2 classes predictions{tag} |>
        AI.TENSORGET predictions{tag} VALUES`),
    );
    expect(r).toEqual(['OK', 'OK', ['10', '20']]);
    // Only the PERSIST key reaches the keyspace; the DAG-local names do not.
    expect(await cmd('EXISTS', 'predictions{tag}', 'mytensor', 'classes')).toBe(1);
    expect(await cmd('AI.TENSORGET', 'predictions{tag}', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [1, 2], 'values', ['10', '20']]);
  });

  it('KEYS 1 {tag} |> TENSORSET image UINT8 |> pre_process_3ch |> model |> post_process |> TENSORGET: the class', async () => {
    for (const seed of [1, 2, 3]) {
      const pixels = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 37 * seed + seed * 11) % 256);
      const r = await cmd(
        'AI.DAGEXECUTE', 'KEYS', '1', '{tag}', '|>',
        'AI.TENSORSET', 'image', 'UINT8', H, W, 3, 'BLOB', Buffer.from(pixels), '|>',
        'AI.SCRIPTEXECUTE', 'imagenet_script{tag}', 'pre_process_3ch', 'INPUTS', '1', 'image', 'OUTPUTS', '1', 'temp_key1', '|>',
        'AI.MODELEXECUTE', 'imagenet_model{tag}', 'INPUTS', '1', 'temp_key1', 'OUTPUTS', '1', 'temp_key2', '|>',
        'AI.SCRIPTEXECUTE', 'imagenet_script{tag}', 'post_process', 'INPUTS', '1', 'temp_key2', 'OUTPUTS', '1', 'output', '|>',
        'AI.TENSORGET', 'output', 'VALUES',
      );
      expect(r).toEqual(['OK', 'OK', 'OK', 'OK', [expectedClass(pixels)]]);
    }
    // Nothing was stored: the intermediate tensors never left the DAG.
    expect(await cmd('EXISTS', 'image', 'temp_key1', 'temp_key2', 'output')).toBe(0);
  });

  it('the deprecated AI.DAGRUN with AI.MODELRUN and AI.SCRIPTRUN; AI.DAGRUN_RO without any keyword', async () => {
    expect(
      await cmd(
        ...line(`AI.DAGRUN PERSIST 1 predictions |> AI.TENSORSET mytensor FLOAT 1 2 VALUES 5 10 |>
          AI.MODELRUN mymodel{tag} INPUTS mytensor OUTPUTS classes predictions |>
          AI.SCRIPTRUN script{1} bar INPUTS predictions classes OUTPUTS predictions |> AI.TENSORGET predictions VALUES`),
      ),
    ).toEqual(['OK', 'OK', 'OK', ['15', '30']]);
    expect(await cmd('AI.TENSORGET', 'predictions', 'VALUES')).toEqual(['15', '30']);
    expect(await cmd(...line('AI.DAGRUN_RO |> AI.TENSORSET t FLOAT 2 VALUES 1 2 |> AI.MODELRUN m{1} INPUTS t t OUTPUTS u |> AI.TENSORGET u VALUES'))).toEqual([
      'OK',
      'OK',
      ['1', '4'],
    ]);
  });
});

describe('LOAD, PERSIST and failures', () => {
  it('LOAD reads keys into the DAG; ops see later versions of a name; PERSIST writes the last', async () => {
    await cmd('AI.TENSORSET', 'in{2}', 'FLOAT', '2', 'VALUES', '1', '2');
    const r = await cmd(
      ...line(`AI.DAGEXECUTE LOAD 1 in{2} PERSIST 1 in{2} |>
        AI.SCRIPTEXECUTE script{1} bar INPUTS 2 in{2} in{2} OUTPUTS 1 in{2} |>
        AI.TENSORGET in{2} VALUES |>
        AI.SCRIPTEXECUTE script{1} bar INPUTS 2 in{2} in{2} OUTPUTS 1 in{2} |>
        AI.TENSORGET in{2} VALUES`),
    );
    expect(r).toEqual(['OK', ['2', '4'], 'OK', ['4', '8']]);
    expect(await cmd('AI.TENSORGET', 'in{2}', 'VALUES')).toEqual(['4', '8']);
  });

  it('a failed op: its error inline, NA for the ops after it, nothing persisted, other keys untouched', async () => {
    await cmd('AI.TENSORSET', 'keep{3}', 'FLOAT', '1', 'VALUES', '7');
    // The original's test_dag_error_before_tensorget_op: b of shape [2,2,3] does not broadcast with a [2].
    const r = (await cmd(
      ...line(`AI.DAGEXECUTE PERSIST 2 tD keep{3} |> AI.TENSORSET a FLOAT 2 VALUES 2 3 |> AI.TENSORSET b FLOAT 2 2 3 |>
        AI.TENSORSET keep{3} FLOAT 1 VALUES 8 |>
        AI.MODELEXECUTE m{1} INPUTS 2 a b OUTPUTS 1 tD |> AI.TENSORGET tD VALUES`),
    )) as unknown[];
    expect(r.slice(0, 3)).toEqual(['OK', 'OK', 'OK']);
    expect(r[3]).toBeInstanceOf(Error);
    expect((r[3] as Error).message).toMatch(/^ERR .*(broadcast|shape|Incompatible)/i);
    expect(r[4]).toBe('NA');
    expect(await cmd('EXISTS', 'tD')).toBe(0);
    expect(await cmd('AI.TENSORGET', 'keep{3}', 'VALUES')).toEqual(['7']);
  });

  it('PERSIST is atomic: a client polling all the time never sees one key without the others', async () => {
    let done = false;
    const dag = cmd(
      ...line(`AI.DAGEXECUTE LOAD 1 hx PERSIST 3 p1 p2 p3 |>
        AI.TENSORSET p1 FLOAT 1 VALUES 1 |>
        AI.MODELEXECUTE heavy INPUTS 1 hx OUTPUTS 1 p2 |>
        AI.SCRIPTEXECUTE script{1} bar INPUTS 2 p1 p1 OUTPUTS 1 p3`),
    ).then((r) => ((done = true), r));
    const seen = new Set<number>();
    while (!done) seen.add((await on(other, 'EXISTS', 'p1', 'p2', 'p3')) as number);
    expect(await dag).toEqual(['OK', 'OK', 'OK']);
    seen.add((await on(other, 'EXISTS', 'p1', 'p2', 'p3')) as number);
    expect(seen).toEqual(new Set([0, 3]));
  });

  it('TIMEOUT: a DAG still queued after t ms replies TIMEDOUT and persists nothing', async () => {
    const heavy = on(other, 'AI.MODELEXECUTE', 'heavy', 'INPUTS', '1', 'hx', 'OUTPUTS', '1', 'hy');
    while ((await info())['ai_queue_CPU_running'] !== '1') await sleep(2);
    const r = await cmd(...line('AI.DAGEXECUTE PERSIST 1 late TIMEOUT 20 |> AI.TENSORSET x FLOAT 1 2 VALUES 1 2 |> AI.MODELEXECUTE mymodel{tag} INPUTS 1 x OUTPUTS 2 c late'));
    expect(r).toBe('TIMEDOUT');
    expect(await heavy).toBe('OK');
    expect(await cmd('EXISTS', 'late')).toBe(0);
  });

  it('a client that disconnects mid-DAG leaves the server serving and writes nothing it had not finished', async () => {
    const gone = await connect(server.port);
    void on(gone, ...line('AI.DAGEXECUTE LOAD 1 hx PERSIST 1 gone_out |> AI.MODELEXECUTE heavy INPUTS 1 hx OUTPUTS 1 x |> AI.MODELEXECUTE heavy INPUTS 1 x OUTPUTS 1 gone_out')).catch(
      () => undefined,
    );
    while ((await info())['ai_queue_CPU_running'] !== '1') await sleep(2);
    gone.destroy();
    expect(await cmd('PING')).toBe('PONG');
    // The device queue drains (the op not yet started is dropped) and serves the next request.
    expect(await cmd(...line('AI.DAGEXECUTE ROUTING x |> AI.TENSORSET x FLOAT 1 2 VALUES 1 2 |> AI.MODELEXECUTE mymodel{tag} INPUTS 1 x OUTPUTS 2 c p |> AI.TENSORGET p VALUES'))).toEqual([
      'OK',
      'OK',
      ['2', '4'],
    ]);
    expect(await cmd('EXISTS', 'gone_out')).toBe(0);
  });
});

describe('ops on different devices run in parallel', () => {
  it('two heavy models on CPU and CPU:1: both run at once', async () => {
    const dag = (...models: string[]) => [
      'AI.DAGEXECUTE', 'LOAD', '1', 'hx', '|>',
      ...models.flatMap((m, i) => ['AI.MODELEXECUTE', m, 'INPUTS', '1', 'hx', 'OUTPUTS', '1', `y${i}`, ...(i < models.length - 1 ? ['|>'] : [])]),
    ];
    // Seen from another client: both devices' slots busy at the same moment.
    let overlap = false;
    const both = cmd(...dag('heavy', 'heavy1'));
    let settled = false;
    void both.finally(() => (settled = true));
    while (!settled && !overlap) {
      const i = await info();
      overlap = i['ai_queue_CPU_running'] === '1' && i['ai_queue_CPU_1_running'] === '1';
    }
    expect(await both).toEqual(['OK', 'OK']);
    // (What this buys in wall time is a benchmark's business, not a test's.)
    expect(overlap).toBe(true);
  });
});

describe("the original engine's DAG error tests (tests_dag_errors.py)", () => {
  const cases: [string, string, string][] = [
    ['LOAD without keys', 'AI.DAGEXECUTE PERSIST 2 no_tensor1{1} no_tensor2{1} LOAD 1', 'ERR missing arguments after LOAD keyword in DAG command'],
    ['LOAD count not a number', 'AI.DAGEXECUTE LOAD notnumber{1} |> AI.TENSORGET no_tensor{1} VALUES', 'ERR invalid or negative value found in number of keys to LOAD'],
    ['LOAD count vs keys', 'AI.DAGEXECUTE ROUTING a{1} LOAD 2 a{1}', 'ERR number of keys to LOAD into DAG does not match the number of given arguments'],
    ['LOAD of a missing key', 'AI.DAGEXECUTE ROUTING no_tensor{1} LOAD 1 no_tensor{1}', 'ERR tensor key is empty or in a different shard'],
    ['PERSIST without keys', 'AI.DAGEXECUTE ROUTING a{1} LOAD 1 a{1} PERSIST 1', 'ERR missing arguments after PERSIST keyword in DAG command'],
    ['PERSIST count not a number', 'AI.DAGEXECUTE ROUTING a{1} PERSIST not_number a{1}', 'ERR invalid or negative value found in number of keys to PERSIST'],
    ['PERSIST count vs keys', 'AI.DAGEXECUTE ROUTING a{1} PERSIST 2 a{1}', 'ERR number of keys to PERSIST after DAG execution does not match the number of given arguments'],
    ['TIMEOUT without a value', 'AI.DAGEXECUTE ROUTING a{1} PERSIST 1 a{1} TIMEOUT', 'ERR No value provided for TIMEOUT'],
    ['TIMEOUT not a number', 'AI.DAGEXECUTE ROUTING a{1} PERSIST 1 a{1} TIMEOUT not_number', 'ERR Invalid value for TIMEOUT'],
    ['ROUTING without a value', 'AI.DAGEXECUTE PERSIST 3 a{1} b{1} c{1} ROUTING', 'ERR Missing ROUTING value'],
    ['bad header argument', 'AI.DAGEXECUTE ROUTING a{1} PERSIST 1 a{1} BAD_ARG', 'ERR Invalid DAG command. Unexpected argument:  BAD_ARG'],
    ['no keyword', 'AI.DAGEXECUTE |> AI.TENSORSET a{1} FLOAT 1 2 VALUES 5 10', 'ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords'],
    ['unknown op', 'AI.DAGEXECUTE ROUTING a{1} |> AI.NOCOMMAND a{1} FLOAT 1 2 VALUES 5 10', 'Unsupported command within DAG'],
    ['nothing at all', 'AI.DAGEXECUTE', "ERR missing arguments for 'AI.DAGEXECUTE' command"],
    ['no ops', 'AI.DAGEXECUTE ROUTING volatile_tensor{1} LOAD 1 volatile_tensor{1}', 'ERR DAG is empty'],
    ['MODELRUN in DAGEXECUTE', 'AI.DAGEXECUTE LOAD 1 volatile_tensor{1} |> AI.MODELRUN m{1} INPUTS volatile_tensor{1} volatile_tensor{1} OUTPUTS output_tensor{1}', 'Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command'],
    ['SCRIPTRUN in DAGEXECUTE', 'AI.DAGEXECUTE LOAD 1 volatile_tensor{1} |> AI.SCRIPTRUN script{1} bar INPUTS volatile_tensor{1} volatile_tensor{1} OUTPUTS output_tensor{1}', 'Deprecated AI.SCRIPTRUN cannot be used in AI.DAGEXECUTE command'],
    ['_RO with nothing', 'AI.DAGEXECUTE_RO', "ERR missing arguments for 'AI.DAGEXECUTE_RO' command"],
    ['_RO with PERSIST', 'AI.DAGEXECUTE_RO PERSIST 1 tensor1{1} |> AI.TENSORSET tensor1{1} FLOAT 1 2 VALUES 5 10', 'ERR PERSIST cannot be specified in a read-only DAG'],
    ['_RO with SCRIPTEXECUTE', 'AI.DAGEXECUTE_RO LOAD 1 volatile_tensor{1} |> AI.SCRIPTEXECUTE script{1} bar INPUTS 2 volatile_tensor{1} volatile_tensor{1}', 'ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG'],
    ['DAGRUN_RO with PERSIST', 'AI.DAGRUN_RO PERSIST 1 tensor1{1} |> AI.TENSORSET tensor1{1} FLOAT 1 2 VALUES 5 10', 'ERR PERSIST cannot be specified in a read-only DAG'],
    ['SCRIPTEXECUTE without a function', 'AI.DAGEXECUTE ROUTING {1} |> AI.TENSORSET img UINT8 2 2 |> AI.SCRIPTEXECUTE script{1} INPUTS 1 img OUTPUTS 1 t1', 'ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: 1'],
    ['TENSORGET without a key', 'AI.DAGEXECUTE ROUTING a{1} |> AI.TENSORSET a{1} FLOAT 1 |> AI.TENSORGET', "wrong number of arguments for 'AI.TENSORGET' command"],
    ['TENSORGET with too much', 'AI.DAGEXECUTE ROUTING a{1} |> AI.TENSORSET a{1} FLOAT 1 |> AI.TENSORGET a{1} META BLOB extra', "wrong number of arguments for 'AI.TENSORGET' command"],
    ['TENSORSET without arguments', 'AI.DAGEXECUTE ROUTING a{1} |> AI.TENSORSET a{1} FLOAT 1 |> AI.TENSORSET', "wrong number of arguments for 'AI.TENSORSET' command"],
    ['wrong input count for the model', 'AI.DAGEXECUTE LOAD 1 a{1} PERSIST 1 r{1} |> AI.TENSORSET t FLOAT 1 30 |> AI.MODELEXECUTE m{1} INPUTS 1 t OUTPUTS 1 r{1} |> AI.TENSORGET r{1} META', 'Number of keys given as INPUTS here does not match model definition'],
    ['a name not in the DAG', 'AI.DAGEXECUTE LOAD 1 a{1} |> AI.MODELEXECUTE m{1} INPUTS 2 a{1} nowhere OUTPUTS 1 r{1}', 'ERR INPUT key cannot be found in DAG'],
    ['a PERSIST name no op writes', 'AI.DAGEXECUTE LOAD 1 a{1} PERSIST 1 zz |> AI.TENSORGET a{1} META', 'ERR PERSIST key cannot be found in DAG'],
    ['TIMEOUT inside an op', 'AI.DAGEXECUTE LOAD 1 a{1} |> AI.MODELEXECUTE m{1} INPUTS 2 a{1} a{1} OUTPUTS 1 o TIMEOUT 5', 'ERR TIMEOUT not allowed within a DAG command'],
    ['PERSIST keys twice', 'AI.DAGEXECUTE PERSIST 2 a a |> AI.TENSORSET a FLOAT 1', 'ERR PERSIST keys must be unique'],
    ['LOAD twice', 'AI.DAGEXECUTE LOAD 1 a{1} LOAD 1 a{1} |> AI.TENSORGET a{1} META', 'ERR Already encountered LOAD scope in current command'],
    ['a missing model', 'AI.DAGEXECUTE LOAD 1 a{1} |> AI.MODELEXECUTE nomodel{1} INPUTS 1 a{1} OUTPUTS 1 o', 'ERR model key is empty'],
    ['a missing script', 'AI.DAGEXECUTE LOAD 1 a{1} |> AI.SCRIPTEXECUTE noscript{1} bar INPUTS 1 a{1} OUTPUTS 1 o', 'ERR script key is empty'],
    // tests_deprecated_commands.py's test_dagrun_common_errors: the original's own texts (upper case, some without ERR).
    ['DAGRUN with nothing', 'AI.DAGRUN', "ERR wrong number of arguments for 'AI.DAGRUN' command"],
    ['DAGRUN_RO with nothing', 'AI.DAGRUN_RO', "ERR wrong number of arguments for 'AI.DAGRUN_RO' command"],
    ['MODELEXECUTE in DAGRUN', 'AI.DAGRUN LOAD 1 volatile_tensor{1} |> AI.MODELEXECUTE m{1} INPUTS 2 volatile_tensor{1} volatile_tensor{1} OUTPUTS 1 output_tensor{1}', 'AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command'],
    ['SCRIPTEXECUTE in DAGRUN', 'AI.DAGRUN LOAD 1 volatile_tensor{1} |> AI.SCRIPTEXECUTE script{1} bar INPUTS 2 volatile_tensor{1} volatile_tensor{1} OUTPUTS 1 output_tensor{1}', 'AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command'],
    ['MODELEXECUTE too short in a DAG', 'AI.DAGEXECUTE LOAD 1 a{1} |> AI.MODELEXECUTE m{1} INPUTS 1 a{1}', "ERR wrong number of arguments for 'AI.MODELEXECUTE' command"],
    ['a |> that ends the command', 'AI.DAGEXECUTE LOAD 1 a{1} |> AI.TENSORGET a{1} META |>', 'ERR Invalid DAG command. Unexpected argument:  |>'],
    ['KEYS twice in a DAG op', 'AI.DAGEXECUTE ROUTING {1} |> AI.SCRIPTEXECUTE script{1} bar KEYS 1 {1} INPUTS 1 a{1} KEYS 1 {1}', 'ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command'],
  ];

  beforeAll(async () => {
    expect(await cmd('AI.TENSORSET', 'a{1}', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3')).toBe('OK');
    expect(await cmd('AI.TENSORSET', 'volatile_tensor{1}', 'FLOAT', '2', '2', 'VALUES', '5', '10', '5', '10')).toBe('OK');
  });

  it.each(cases)('%s', async (_, command, text) => {
    const before = (await cmd('DBSIZE')) as number;
    expect(await err(...line(command))).toBe(text);
    // A refused DAG runs nothing and writes nothing.
    expect(await cmd('DBSIZE')).toBe(before);
    expect(await cmd('AI.TENSORGET', 'a{1}', 'VALUES')).toEqual(['2', '3', '2', '3']);
  });

  it('LOAD of a key of another type: WRONGTYPE', async () => {
    await cmd('SET', 'no_tensor{1}', 'value');
    expect(await err(...line('AI.DAGEXECUTE ROUTING no_tensor{1} LOAD 1 no_tensor{1}'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });

  it('DAGs are refused inside MULTI', async () => {
    const r = await client.multi().addCommand(line('AI.DAGEXECUTE ROUTING a{1} |> AI.TENSORGET a{1} META')).exec().catch((e: { replies?: unknown[] }) => e.replies);
    expect((r as Error[])[0]!.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
  });
});
