import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { encodeModel, matmulChainModel, OnnxType } from '@respai/backend-onnx/testing';
import { parseList, parsePositiveInt } from '../args.js';
import { measuredOf, runInProcess, type Measured } from '../direct.js';
import { encodeCommand, formatRate, Histogram, ProgressLine, runLoad, sendBatch } from '../loadgen/index.js';
import { barChartSvg } from '../plot.js';
import { machineLine, resultBase, textTable, toCsv, writeFile, type Row } from '../report.js';
import { repoRoot, startRespai, type ServerHandle } from '../servers.js';

export const usage = `onnx: MODELEXECUTE on respai vs the same model called in-process with onnxruntime-node

  Models: tiny (x[1,8] @ W[8,8], Relu) and mnist (../shared/models/mnist.onnx with one.raw when
  present, else a generated MLP 784-128-10 of the same input size).
  Modes, through the server: exec (AI.MODELEXECUTE on a stored input) and roundtrip
  (AI.TENSORSET + AI.MODELEXECUTE + AI.TENSORGET BLOB, pipelined as one request).
  The floor ("direct") runs InferenceSession.run in this process with the same session options
  and intra-op thread count as the server's worker, with the same concurrency in flight.
  Each concurrency level repeats measurement windows until the last three agree within 10%.

options:
  --models LIST         tiny,mnist (default both)
  --modes LIST          exec,roundtrip (default both)
  --concurrency LIST    levels of the sweep (default 1,2,4,8,16,32)
  --intra-op N          intra-op threads, server and direct alike (default 1)
  --threads-per-queue N the server's workers per device queue (default 1)
  --window-ms N         measurement window (default 2000; --quick: 500)
  --max-windows N       give up on stability after N windows (default 10; --quick: 5)
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

type Mode = 'exec' | 'roundtrip';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'tiny,mnist' },
      modes: { type: 'string', default: 'exec,roundtrip' },
      concurrency: { type: 'string', default: '1,2,4,8,16,32' },
      'intra-op': { type: 'string', default: '1' },
      'threads-per-queue': { type: 'string', default: '1' },
      'window-ms': { type: 'string' },
      'max-windows': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-loop-delay': { type: 'boolean', default: false },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const models = parseList(values.models, modelCase);
  const modes = parseList(values.modes, (s) => {
    if (s !== 'exec' && s !== 'roundtrip') throw new Error(`--modes: unknown mode ${s}`);
    return s as Mode;
  });
  const levels = parseList(values.concurrency, (s) => parsePositiveInt(s, '--concurrency'));
  const intraOp = parsePositiveInt(values['intra-op'], '--intra-op');
  const tpq = parsePositiveInt(values['threads-per-queue'], '--threads-per-queue');
  const windowMs = values['window-ms'] ? parsePositiveInt(values['window-ms'], '--window-ms') : values.quick ? 500 : 2000;
  const maxWindows = values['max-windows'] ? parsePositiveInt(values['max-windows'], '--max-windows') : values.quick ? 5 : 10;
  const warmupMs = Math.min(windowMs, 1000);

  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const rows: Row[] = [];
  const push = (m: ModelCase, op: string, target: string, c: number, r: Measured) => {
    rows.push({ scenario: 'onnx', op: `${m.name}:${op}`, target, payload: m.data.byteLength, concurrency: c, pipeline: 1, ...r });
    log(
      `onnx ${m.name} ${op} ${target} c=${c}: ${formatRate(r.opsPerSec)} runs/s, p50 ${r.p50Us.toFixed(0)}us, ` +
        `p99 ${r.p99Us.toFixed(0)}us${r.stable ? '' : ' UNSTABLE'}${r.errors ? `, ${r.errors} errors, first: ${r.firstError}` : ''}`,
    );
  };

  // The floor first, with no server running: the same options as the backend's worker.
  for (const m of models) {
    const session = await ort.InferenceSession.create(m.blob, {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      intraOpNumThreads: intraOp,
    });
    const feeds = () => ({ [m.input]: new ort.Tensor('float32', m.data, m.dims) });
    for (const c of levels) {
      const r = await runInProcess({
        call: () => session.run(feeds()),
        concurrency: c,
        windowMs,
        warmupMs,
        maxWindows,
        onProgress: progress.reporter(`onnx ${m.name} direct`),
      });
      push(m, 'direct', 'direct', c, r);
    }
    await session.release();
  }

  let server: ServerHandle | undefined;
  let loopDelay: LoopDelay | undefined;
  try {
    server = await startRespai(undefined, [
      '--intra-op-parallelism',
      String(intraOp),
      '--threads-per-queue',
      String(tpq),
    ]);
    log(`respai: pid ${server.pid}, port ${server.port}`);
    const blob = (d: Float32Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    for (const m of models) {
      const key = `bench:m:${m.name}`;
      const setup = await sendBatch(server.port, [
        encodeCommand(['AI.MODELSTORE', key, 'ONNX', 'CPU', 'BLOB', m.blob]),
        ...levels
          .slice(-1)
          .flatMap((n) => Array.from({ length: n }, (_, i) => encodeCommand(['AI.TENSORSET', `bench:in:${i}`, 'FLOAT', ...m.dims, 'BLOB', blob(m.data)]))),
      ]);
      if (setup.errors > 0) throw new Error(`setting up ${m.name}: ${setup.firstError}`);
      for (const mode of modes) {
        for (const c of levels) {
          const exec = (i: number) =>
            encodeCommand(['AI.MODELEXECUTE', key, 'INPUTS', 1, `bench:in:${i}`, 'OUTPUTS', 1, `bench:out:${i}`]);
          const request = (i: number): Buffer =>
            mode === 'exec'
              ? exec(i)
              : Buffer.concat([
                  encodeCommand(['AI.TENSORSET', `bench:in:${i}`, 'FLOAT', ...m.dims, 'BLOB', blob(m.data)]),
                  exec(i),
                  encodeCommand(['AI.TENSORGET', `bench:out:${i}`, 'BLOB']),
                ]);
          const r = await runLoad({
            port: server.port,
            connections: c,
            requests: request,
            repliesPerRequest: mode === 'exec' ? 1 : 3,
            windowMs,
            warmupMs,
            maxWindows,
            onProgress: progress.reporter(`onnx ${m.name} ${mode}`),
          });
          push(m, mode, 'respai', c, measuredOf(r));
        }
      }
    }
    if (!values['no-loop-delay']) loopDelay = await measureLoopDelay(server.port, intraOp, log);
  } finally {
    progress.clear();
    await server?.stop();
  }

  // Report: each server mode against the direct floor.
  const byKey = new Map(rows.map((r) => [`${r.op}|${r.target}|${r.concurrency}`, r]));
  const body: string[][] = [];
  const verdicts: string[] = [];
  for (const m of models) {
    const direct = rows.filter((r) => r.op === `${m.name}:direct`);
    const bestDirect = Math.max(...direct.map((r) => r.opsPerSec));
    const d1 = byKey.get(`${m.name}:direct|direct|${levels[0]}`);
    for (const mode of modes) {
      const ours = rows.filter((r) => r.op === `${m.name}:${mode}`);
      for (const o of ours) {
        const d = byKey.get(`${m.name}:direct|direct|${o.concurrency}`)!;
        body.push([
          `${m.name} ${mode}`,
          String(o.concurrency),
          formatRate(d.opsPerSec) + (d.stable ? '' : '~'),
          formatRate(o.opsPerSec) + (o.stable ? '' : '~'),
          (o.opsPerSec / d.opsPerSec).toFixed(2),
          `${d.p50Us.toFixed(0)}us`,
          `${o.p50Us.toFixed(0)}us`,
          `${(o.p50Us - d.p50Us).toFixed(0)}us`,
          `${d.p99Us.toFixed(0)}us`,
          `${o.p99Us.toFixed(0)}us`,
          String(o.errors),
        ]);
      }
      if (mode !== 'exec' || !d1) continue;
      const o1 = byKey.get(`${m.name}:exec|respai|${levels[0]}`)!;
      const bestOurs = Math.max(...ours.map((r) => r.opsPerSec));
      const added = o1.p50Us - d1.p50Us;
      verdicts.push(
        `${m.name}: p50 at c=${levels[0]} ${o1.p50Us.toFixed(0)}us vs direct ${d1.p50Us.toFixed(0)}us (+${added.toFixed(0)}us): ` +
          `${added <= 150 ? 'PASS' : 'MISS'} <= +150us`,
        `${m.name}: best throughput ${formatRate(bestOurs)} vs direct best ${formatRate(bestDirect)} ` +
          `(${((bestOurs / bestDirect) * 100).toFixed(0)}%): ${bestOurs >= 0.85 * bestDirect ? 'PASS' : 'MISS'} >= 85%`,
      );
    }
  }
  const base = resultBase(values.out, 'onnx');
  const csv = writeFile(`${base}.csv`, toCsv(rows));
  const svg = writeFile(`${base}.svg`, plot(rows, models, modes, levels));
  console.log(`\nonnx: respai vs onnxruntime-node in-process (intra-op threads ${intraOp}, threads-per-queue ${tpq})`);
  console.log(machineLine());
  for (const m of models) console.log(`  ${m.name}: ${m.source}`);
  console.log('~ marks a throughput that never stabilised.\n');
  console.log(
    textTable(
      ['model mode', 'c', 'direct runs/s', 'respai runs/s', 'ratio', 'direct p50', 'respai p50', 'added p50', 'direct p99', 'respai p99', 'errors'],
      body,
    ),
  );
  console.log(`\n${verdicts.join('\n')}`);
  if (loopDelay) {
    console.log(
      `\nwhile a ${loopDelay.runMs.toFixed(0)} ms model run was in progress, ${loopDelay.pings} PINGs on another connection ` +
        `took p50 ${loopDelay.p50Us.toFixed(0)}us, max ${loopDelay.maxUs.toFixed(0)}us ` +
        `(idle server: p50 ${loopDelay.idleP50Us.toFixed(0)}us, max ${loopDelay.idleMaxUs.toFixed(0)}us); ` +
        `this process's own event-loop delay then: max ${loopDelay.selfLoopMaxMs.toFixed(1)} ms`,
    );
  }
  console.log(`\nwrote ${csv}\nwrote ${svg}`);
  return 0;
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

function plot(rows: readonly Row[], models: readonly ModelCase[], modes: readonly Mode[], levels: readonly number[]): string {
  const series = ['direct', ...modes.map((m) => `respai ${m}`)];
  const panels = models.map((m) => ({
    title: `${m.name}: runs/s by concurrency`,
    groups: levels.map((c) => {
      const v: Record<string, number> = {};
      const d = rows.find((r) => r.op === `${m.name}:direct` && r.concurrency === c);
      if (d) v.direct = d.opsPerSec;
      for (const mode of modes) {
        const o = rows.find((r) => r.op === `${m.name}:${mode}` && r.concurrency === c);
        if (o) v[`respai ${mode}`] = o.opsPerSec;
      }
      const e = rows.find((r) => r.op === `${m.name}:exec` && r.concurrency === c);
      return { label: [`c=${c}`], values: v, ...(d && e ? { note: `${(e.opsPerSec / d.opsPerSec).toFixed(2)}x` } : {}) };
    }),
  }));
  return barChartSvg({
    title: 'onnx: respai vs onnxruntime-node in-process (note over each group: exec/direct)',
    yLabel: 'runs/s',
    xLabel: 'c = requests in flight (connections, or concurrent in-process calls)',
    series,
    panels,
  });
}
