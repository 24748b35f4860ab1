import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { binaryModel, mlpModel, TensorType } from '@respai/backend-tflite/testing';
import { COMPUTE_USAGE_TAIL, computeOptions, parseList } from '../args.js';
import { computeArgs, runCompute, type ComputeModel, type Floor } from '../compute.js';
import { mnistSample, seededRandom } from '../models.js';
import { repoRoot } from '../servers.js';

export const usage = `tflite: MODELEXECUTE on respai's TFLITE backend vs the same interpreter called in-process

  Models: real (../shared/models/mnist_model_quant.tflite, RedisAI's own TFLite test model: an int8
  convnet, on one.raw, outputs the INT64 class and the scores; in the default list when the file is
  there), and the backend's own fixtures (written by @respai/backend-tflite/testing): tiny (ADD of
  two [1,8] floats: almost no compute, the per-run cost of the server), mnist (an MLP x [1,784] ->
  128 FULLY_CONNECTED + RELU -> 10, fixed pseudo-random weights, fed FLOAT 1 1 28 28)
  Modes, through the server: exec (AI.MODELEXECUTE on stored inputs) and roundtrip (AI.TENSORSET of
  every input + AI.MODELEXECUTE + AI.TENSORGET BLOB, pipelined as one request).
  The floor ("direct") is the runtime the backend chooses for the model (its check in a child
  process, dist/probe.js, run here on the same bytes and settings: TFLite 2.2, 2.9, 2.9 + XNNPACK or
  LiteRT.js), called on this process's main thread, one interpreter, runs serialised as in a worker,
  with the same number of runs in flight as the server has connections. It runs first, with no
  server up. --runtime names one instead (--runtime tflite-2.2: the floor of the backend before it
  chose runtimes).
  Targets (as onnx): at the first concurrency level, server p50 <= direct p50 + 100 us; at the best
  level, server throughput >= 85% of direct.

options:
  --models LIST         real,tiny,mnist (default all three; real only when ../shared has it)
  --runtime R           the floor's runtime: auto (default: the backend's choice) or one of
                        tflite-2.2, tflite-2.9, tflite-2.9-xnnpack, litert
  --modes LIST          exec,roundtrip (default both)
  --concurrency LIST    levels of the sweep (default 1,2,4,8,16,32)
  --intra-op N          TFLite interpreter threads, server and direct alike (default 1)
  --threads-per-queue N the server's TFLITE workers per device queue (default 1)
${COMPUTE_USAGE_TAIL}`;

/** The parts of backend-tflite's runtimes module (dist/runtimes.js) the floor calls. */
interface Runtimes {
  openInterpreter(
    runtime: string,
    bytes: Uint8Array,
    numThreads: number,
  ): Promise<{ run(inputs: readonly { dims: readonly number[]; data: Uint8Array }[]): { data: ArrayBuffer }[]; close(): void }>;
  runtimeLabel(runtime: string, numThreads: number): string;
}

const SHARED = join(repoRoot, '../shared/models');

export interface TfliteCase {
  name: string;
  blob: Buffer;
  describe: string;
  inputs: { dims: number[]; data: Float32Array }[];
  /** The dims the backend feeds the interpreter (the declared ones: the element counts match). */
  declared: number[];
  outputs?: number;
}

/** A model of the scenario by name (real, tiny, mnist): also the `ab` scenario's TFLITE fixtures. */
export function tfliteCase(name: string): TfliteCase {
  if (name === 'real') {
    if (!existsSync(join(SHARED, 'mnist_model_quant.tflite'))) throw new Error('--models real: ../shared/models/mnist_model_quant.tflite is missing');
    const raw = readFileSync(join(SHARED, 'one.raw'));
    return {
      name,
      blob: readFileSync(join(SHARED, 'mnist_model_quant.tflite')),
      describe: '../shared/models/mnist_model_quant.tflite (int8 convnet, RedisAI\'s test model) on one.raw, outputs ArgMax (INT64) and Softmax',
      inputs: [{ dims: [1, 1, 28, 28], data: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) }],
      declared: [1, 28, 28],
      outputs: 2,
    };
  }
  const r = seededRandom(5);
  if (name === 'tiny') {
    const v = () => new Float32Array(8).map(() => r());
    return {
      name,
      blob: binaryModel('ADD', TensorType.FLOAT32, [1, 8]),
      describe: 'TFLite ADD, a and b FLOAT [1,8]',
      inputs: [
        { dims: [1, 8], data: v() },
        { dims: [1, 8], data: v() },
      ],
      declared: [1, 8],
    };
  }
  if (name === 'mnist') {
    const w = (n: number, scale: number) => new Float32Array(n).map(() => (r() - 0.5) * 2 * scale);
    const blob = mlpModel(
      [
        { out: 128, weights: w(128 * 784, 1 / 28), bias: w(128, 0.1) },
        { out: 10, weights: w(10 * 128, 1 / Math.sqrt(128)), bias: w(10, 0.1) },
      ],
      784,
    );
    return {
      name,
      blob,
      describe: 'TFLite MLP x [1,784] -> 128 (FULLY_CONNECTED + RELU) -> 10, fed [1,1,28,28]',
      inputs: [{ dims: [1, 1, 28, 28], data: mnistSample() }],
      declared: [1, 784],
    };
  }
  throw new Error(`--models: unknown model ${name} (real, tiny, mnist)`);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: existsSync(join(SHARED, 'mnist_model_quant.tflite')) ? 'real,tiny,mnist' : 'tiny,mnist' },
      runtime: { type: 'string', default: 'auto' },
      modes: { type: 'string', default: 'exec,roundtrip' },
      ...computeOptions(join(repoRoot, 'bench-results')),
    },
  });
  const args = computeArgs(values, usage);
  if (args === undefined) return 0;
  const { modes, bench } = args;
  const cases = parseList(values.models, tfliteCase);
  const { intraOp } = bench;
  const tpq = bench.threadsPerQueue;

  // The runtimes the backend's workers run, from the package's build.
  const entry = import.meta.resolve('@respai/backend-tflite');
  const pkgDir = dirname(dirname(fileURLToPath(entry)));
  const t0 = performance.now();
  const runtimes = (await import(join(pkgDir, 'dist/runtimes.js'))) as Runtimes;
  const importMs = performance.now() - t0;

  const models: ComputeModel[] = cases.map((c) => ({
    name: c.name,
    source: c.describe,
    blob: c.blob,
    inputs: c.inputs,
    storeArgs: ['TFLITE', 'CPU'],
    ...(c.outputs ? { outputs: c.outputs } : {}),
  }));
  const byName = new Map(cases.map((c) => [c.name, c]));
  const loads: string[] = [];
  /** The backend's choice for these bytes and settings: its check (dist/probe.js) in a child, as at MODELSTORE. */
  const choose = (blob: Buffer): { runtime: string; candidates: { runtime: string; status: string; us?: number }[] } => {
    const out = execFileSync(process.execPath, [join(pkgDir, 'dist/probe.js'), '--threads', String(intraOp)], { input: blob, stdio: ['pipe', 'pipe', 'ignore'] });
    const line = out.toString().split('\n').find((l) => l.startsWith('result '));
    if (line === undefined) throw new Error('the TFLITE check gave no result');
    return JSON.parse(line.slice(7));
  };
  const floor = async (m: ComputeModel): Promise<Floor> => {
    const c = byName.get(m.name)!;
    let runtime = values.runtime;
    let why = '';
    if (runtime === 'auto') {
      const choice = choose(c.blob);
      runtime = choice.runtime;
      why = ` (check: ${choice.candidates.map((x) => `${x.runtime} ${x.us !== undefined ? `${x.us} us` : x.status}`).join(', ')})`;
    }
    const a = performance.now();
    const it = await runtimes.openInterpreter(runtime, new Uint8Array(c.blob), intraOp);
    const loadMs = performance.now() - a;
    // The backend feeds the declared shape when the element count matches (it does here).
    const declared = c.declared;
    // The worker gets its own copy of each input per run; the floor makes one per run too.
    const feed = () => c.inputs.map((x) => ({ dims: declared, data: new Uint8Array(x.data.slice().buffer) }));
    const b = performance.now();
    it.run(feed());
    const firstMs = performance.now() - b;
    loads.push(`${m.name} on ${runtimes.runtimeLabel(runtime, intraOp)}${why}: load ${loadMs.toFixed(1)} ms, first run ${firstMs.toFixed(2)} ms`);
    return {
      run: async () => it.run(feed()),
      output: async () => new Float32Array(it.run(feed())[0]!.data),
      close: () => it.close(),
    };
  };
  return runCompute({
    scenario: 'tflite',
    backend: 'TFLITE',
    floorName: "the backend's chosen TFLite runtime in-process",
    models,
    modes,
    // The measurement settings (levels, windows, warm-ups, out) as parsed.
    ...bench,
    serverArgs: ['--intra-op-parallelism', String(intraOp), '--threads-per-queue', String(tpq)],
    floor,
    head: () => [
      `interpreter threads ${intraOp}, threads-per-queue ${tpq}; runtimes module import ${importMs.toFixed(0)} ms`,
      ...loads,
    ],
  });
}
