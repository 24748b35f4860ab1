import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { encodeModel, matmulChainModel, OnnxType } from '@respai/backend-onnx/testing';
import { computeOptions, parseList } from '../args.js';
import { computeArgs, runCompute } from '../compute.js';
import { encodeCommand, Histogram, sendBatch } from '../loadgen/index.js';
import { repoRoot } from '../servers.js';

export const usage = `onnx: MODELEXECUTE on respai vs the same model called in-process with onnxruntime-node

  Models: tiny (x[1,8] @ W[8,8], Relu) and mnist (../shared/models/mnist.onnx with one.raw when
  present, else a generated MLP 784-128-10 of the same input size).
  Modes, through the server: exec (AI.MODELEXECUTE on a stored input) and roundtrip
  (AI.TENSORSET + AI.MODELEXECUTE + AI.TENSORGET BLOB, pipelined as one request).
  The floor ("direct") runs InferenceSession.run in this process with the same session options
  and intra-op thread count as the server's worker, with the same concurrency in flight.
  Each concurrency level repeats measurement windows until the last three agree within 10%.
  Targets (compute.ts, as for every compute scenario): at the first concurrency level, server p50
  <= direct p50 + 100 us; at the best level, server throughput >= 85% of direct.

options:
  --models LIST         tiny,mnist (default both)
  --modes LIST          exec,roundtrip (default both)
  --concurrency LIST    levels of the sweep (default 1,2,4,8,16,32)
  --intra-op N          intra-op threads, server and direct alike (default 1)
  --threads-per-queue N the server's workers per device queue (default 1)
  --window-ms N         measurement window (default 2000; --quick: 500)
  --max-windows N       give up on stability after N windows (default 10; --quick: 5)
  --server-warmup-ms N  unmeasured load on each model before the server's first measurement
                        (default 3000; --quick: 1000)
  --quick               short windows, for a smoke run
  --no-loop-delay       skip the ping-while-a-heavy-model-runs measurement
  --out DIR             where results go (default <repo>/bench-results)`;

const SHARED = join(repoRoot, '../shared/models');

interface ModelCase {
  name: string;
  blob: Buffer;
  /** Input and output names inside the model. */
  input: string;
  output: string;
  dims: number[];
  data: Float32Array;
  /** Where the model came from, for the report. */
  source: string;
}

function mlp(): Buffer {
  const w1 = new Float32Array(784 * 128).map((_, i) => ((i % 13) - 6) / 100);
  const w2 = new Float32Array(128 * 10).map((_, i) => ((i % 7) - 3) / 10);
  return encodeModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h'] },
      { op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'W2'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [1, 784] } }],
    outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [1, 10] } }],
    initializers: [
      { name: 'W1', type: OnnxType.FLOAT, dims: [784, 128], raw: new Uint8Array(w1.buffer) },
      { name: 'W2', type: OnnxType.FLOAT, dims: [128, 10], raw: new Uint8Array(w2.buffer) },
    ],
  });
}

function modelCase(name: string): ModelCase {
  if (name === 'tiny') {
    return {
      name,
      blob: matmulChainModel(8, 1),
      input: 'x',
      output: 'y',
      dims: [1, 8],
      data: new Float32Array(8).fill(1),
      source: 'generated: x[1,8] @ W[8,8], Relu',
    };
  }
  if (name === 'mnist') {
    if (existsSync(join(SHARED, 'mnist.onnx')) && existsSync(join(SHARED, 'one.raw'))) {
      const raw = readFileSync(join(SHARED, 'one.raw'));
      return {
        name,
        blob: readFileSync(join(SHARED, 'mnist.onnx')),
        input: 'Input3',
        output: 'Plus214_Output_0',
        dims: [1, 1, 28, 28],
        data: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)),
        source: '../shared/models/mnist.onnx (conv net, opset 8), input one.raw',
      };
    }
    return {
      name,
      blob: mlp(),
      input: 'x',
      output: 'y',
      dims: [1, 784],
      data: new Float32Array(784).fill(0.5),
      source: 'generated MLP 784-128-10 (../shared/models/mnist.onnx not found)',
    };
  }
  throw new Error(`--models: unknown model ${name} (tiny, mnist)`);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'tiny,mnist' },
      modes: { type: 'string', default: 'exec,roundtrip' },
      'no-loop-delay': { type: 'boolean', default: false },
      ...computeOptions(join(repoRoot, 'bench-results')),
    },
  });
  const args = computeArgs(values, usage);
  if (args === undefined) return 0;
  const { modes, bench } = args;
  const cases = parseList(values.models, modelCase);
  const c = bench;
  let loopDelay: LoopDelay | undefined;
  return runCompute({
    scenario: 'onnx',
    backend: 'ONNX',
    floorName: 'onnxruntime-node in-process',
    models: cases.map((m) => ({ name: m.name, source: m.source, blob: m.blob, inputs: [{ dims: m.dims, data: m.data }], storeArgs: ['ONNX', 'CPU'] })),
    modes,
    ...c,
    serverArgs: ['--intra-op-parallelism', String(c.intraOp), '--threads-per-queue', String(c.threadsPerQueue)],
    // The same session options and intra-op threads as the backend's worker, in this process.
    floor: async (cm) => {
      const m = cases.find((x) => x.name === cm.name)!;
      const session = await ort.InferenceSession.create(m.blob, { graphOptimizationLevel: 'all', logSeverityLevel: 3, intraOpNumThreads: c.intraOp });
      const feeds = () => ({ [m.input]: new ort.Tensor('float32', m.data, m.dims) });
      return {
        run: () => session.run(feeds()),
        output: async () => (await session.run(feeds()))[m.output]!.data as Float32Array,
        close: () => session.release(),
      };
    },
    after: async (port, log) => {
      if (!values['no-loop-delay']) loopDelay = await measureLoopDelay(port, c.intraOp, log);
    },
    head: () => [
      `onnxruntime-node; intra-op threads ${c.intraOp}, threads-per-queue ${c.threadsPerQueue}`,
      ...(loopDelay === undefined
        ? []
        : [
            `while a ${loopDelay.runMs.toFixed(0)} ms model run was in progress, ${loopDelay.pings} PINGs on another connection ` +
              `took p50 ${loopDelay.p50Us.toFixed(0)}us, max ${loopDelay.maxUs.toFixed(0)}us ` +
              `(idle server: p50 ${loopDelay.idleP50Us.toFixed(0)}us, max ${loopDelay.idleMaxUs.toFixed(0)}us); ` +
              `this process's own event-loop delay then: max ${loopDelay.selfLoopMaxMs.toFixed(1)} ms`,
          ]),
    ],
  });
}

interface LoopDelay {
  runMs: number;
  pings: number;
  p50Us: number;
  maxUs: number;
  idleP50Us: number;
  idleMaxUs: number;
  selfLoopMaxMs: number;
}

/**
 * The server's event loop while a heavy model runs, seen from outside: PING round trips on a
 * second connection during a long MODELEXECUTE, against the same PINGs on an idle server.
 */
async function measureLoopDelay(port: number, intraOp: number, log: (s: string) => void): Promise<LoopDelay> {
  const { createConnection } = await import('node:net');
  const heavy = matmulChainModel(512, 20);
  const rows = 2048;
  const setup = await sendBatch(port, [
    encodeCommand(['AI.MODELSTORE', 'bench:heavy', 'ONNX', 'CPU', 'BLOB', heavy]),
    encodeCommand(['AI.TENSORSET', 'bench:heavy:x', 'FLOAT', rows, 512]),
  ]);
  if (setup.errors > 0) throw new Error(`heavy model: ${setup.firstError}`);
  const sock = createConnection({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((r, j) => sock.once('connect', () => r()).once('error', j));
  const ping = () =>
    new Promise<number>((resolve) => {
      const t0 = process.hrtime.bigint();
      sock.once('data', () => resolve(Number(process.hrtime.bigint() - t0) / 1e3));
      sock.write('*1\r\n$4\r\nPING\r\n');
    });
  const pings = async (until: () => boolean) => {
    const h = new Histogram();
    let n = 0;
    while (!until() || n === 0) {
      h.record((await ping()) * 1e3);
      n++;
      await new Promise((r) => setTimeout(r, 2));
    }
    return { n, p50: h.percentile(50) / 1e3, max: h.max / 1e3 };
  };
  const idleUntil = Date.now() + 1000;
  const idle = await pings(() => Date.now() > idleUntil);
  const self = monitorEventLoopDelay({ resolution: 5 });
  self.enable();
  let done = false;
  const t0 = Date.now();
  const run = sendBatch(port, [encodeCommand(['AI.MODELEXECUTE', 'bench:heavy', 'INPUTS', 1, 'bench:heavy:x', 'OUTPUTS', 1, 'bench:heavy:y'])]).then((r) => {
    done = true;
    return r;
  });
  const busy = await pings(() => done);
  const r = await run;
  const runMs = Date.now() - t0;
  self.disable();
  sock.destroy();
  if (r.errors > 0) throw new Error(`heavy run: ${r.firstError}`);
  log(`loop delay: heavy run ${runMs} ms (intra-op ${intraOp}), ${busy.n} pings, max ${busy.max.toFixed(0)}us`);
  return {
    runMs,
    pings: busy.n,
    p50Us: busy.p50,
    maxUs: busy.max,
    idleP50Us: idle.p50,
    idleMaxUs: idle.max,
    selfLoopMaxMs: self.max / 1e6,
  };
}
