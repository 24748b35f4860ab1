import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { binaryModel, mlpModel, TensorType } from '@respai/backend-tflite/testing';
import { parseList, parsePositiveInt } from '../args.js';
import { MODES, runCompute, type ComputeModel, type Floor, type Mode } from '../compute.js';
import { mnistSample, seededRandom } from '../models.js';
import { repoRoot } from '../servers.js';
import { serverWarmupMs } from '../warmup.js';

export const usage = `tflite: MODELEXECUTE on respai's TFLITE backend vs the same interpreter called in-process

  Models (TFLite flatbuffers written by @respai/backend-tflite/testing, the backend's own fixtures):
  tiny (ADD of two [1,8] floats: almost no compute, the per-run cost of the server), mnist (an MLP
  x [1,784] -> 128 FULLY_CONNECTED + RELU -> 10, fixed pseudo-random weights, fed FLOAT 1 1 28 28)
  Modes, through the server: exec (AI.MODELEXECUTE on stored inputs) and roundtrip (AI.TENSORSET of
  every input + AI.MODELEXECUTE + AI.TENSORGET BLOB, pipelined as one request).
  The floor ("direct") is respai's TFLite addon (what each TFLITE worker thread holds) called on
  this process's main thread, one interpreter, runs serialised as in a worker, with the same number
  of runs in flight as the server has connections. It runs first, with no server up.
  Targets (as onnx): at the first concurrency level, server p50 <= direct p50 + 150 us; at the best
  level, server throughput >= 85% of direct.

options:
  --models LIST         tiny,mnist (default both)
  --modes LIST          exec,roundtrip (default both)
  --concurrency LIST    levels of the sweep (default 1,2,4,8,16,32)
  --intra-op N          TFLite interpreter threads, server and direct alike (default 1)
  --threads-per-queue N the server's TFLITE workers per device queue (default 1)
  --window-ms N         measurement window (default 2000; --quick: 500)
  --max-windows N       give up on stability after N windows (default 10; --quick: 5)
  --server-warmup-ms N  unmeasured load on each model before the server's first measurement
                        (default 3000; --quick: 1000): a fresh server runs slow for its first seconds
  --quick               short windows, for a smoke run
  --out DIR             where results go (default <repo>/bench-results)`;

interface NativeInterpreter {
  run(inputs: readonly { dims: readonly number[]; data: Uint8Array }[]): { data: ArrayBuffer }[];
  close(): void;
}
interface NativeAddon {
  Interpreter: new (bytes: Uint8Array, threads: number) => NativeInterpreter;
  version: string;
}

interface TfliteCase {
  name: string;
  blob: Buffer;
  describe: string;
  inputs: { dims: number[]; data: Float32Array }[];
}

function tfliteCase(name: string): TfliteCase {
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
    return { name, blob, describe: 'TFLite MLP x [1,784] -> 128 (FULLY_CONNECTED + RELU) -> 10, fed [1,1,28,28]', inputs: [{ dims: [1, 1, 28, 28], data: mnistSample() }] };
  }
  throw new Error(`--models: unknown model ${name} (tiny, mnist)`);
}

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
      'server-warmup-ms': { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const cases = parseList(values.models, tfliteCase);
  const modes = parseList(values.modes, (s) => {
    if (!MODES.includes(s as Mode)) throw new Error(`--modes: unknown mode ${s}`);
    return s as Mode;
  });
  const levels = parseList(values.concurrency, (s) => parsePositiveInt(s, '--concurrency'));
  const intraOp = parsePositiveInt(values['intra-op'], '--intra-op');
  const tpq = parsePositiveInt(values['threads-per-queue'], '--threads-per-queue');
  const windowMs = values['window-ms'] ? parsePositiveInt(values['window-ms'], '--window-ms') : values.quick ? 500 : 2000;
  const maxWindows = values['max-windows'] ? parsePositiveInt(values['max-windows'], '--max-windows') : values.quick ? 5 : 10;

  // The addon the backend's workers load, from the package's folder.
  const entry = import.meta.resolve('@respai/backend-tflite');
  const pkgDir = dirname(dirname(fileURLToPath(entry)));
  const t0 = performance.now();
  const addon = createRequire(import.meta.url)(join(pkgDir, 'native/build/Release/respai_tflite.node')) as NativeAddon;
  const importMs = performance.now() - t0;

  const models: ComputeModel[] = cases.map((c) => ({ name: c.name, source: c.describe, blob: c.blob, inputs: c.inputs, storeArgs: ['TFLITE', 'CPU'] }));
  const byName = new Map(cases.map((c) => [c.name, c]));
  const loads: string[] = [];
  const floor = async (m: ComputeModel): Promise<Floor> => {
    const c = byName.get(m.name)!;
    const a = performance.now();
    const it = new addon.Interpreter(new Uint8Array(c.blob), intraOp);
    const loadMs = performance.now() - a;
    // The backend feeds the declared shape when the element count matches (it does here).
    const declared = c.name === 'tiny' ? [1, 8] : [1, 784];
    // The worker gets its own copy of each input per run; the floor makes one per run too.
    const feed = () => c.inputs.map((x) => ({ dims: declared, data: new Uint8Array(x.data.slice().buffer) }));
    const b = performance.now();
    it.run(feed());
    const firstMs = performance.now() - b;
    loads.push(`${m.name} load ${loadMs.toFixed(1)} ms, first run ${firstMs.toFixed(2)} ms`);
    return {
      run: async () => it.run(feed()),
      output: async () => new Float32Array(it.run(feed())[0]!.data),
      close: () => it.close(),
    };
  };
  return runCompute({
    scenario: 'tflite',
    backend: 'TFLITE',
    backendPath: pkgDir,
    floorName: "respai's TFLite addon in-process (TFLite 2.2 C library)",
    models,
    modes,
    levels,
    windowMs,
    warmupMs: Math.min(windowMs, 1000),
    maxWindows,
    serverWarmupMs: serverWarmupMs(values['server-warmup-ms'], values.quick),
    serverArgs: ['--intra-op-parallelism', String(intraOp), '--threads-per-queue', String(tpq)],
    floor,
    out: values.out,
    head: () => [
      `TFLite ${addon.version}; interpreter threads ${intraOp}, threads-per-queue ${tpq}`,
      `addon in this process: dlopen ${importMs.toFixed(0)} ms; ${loads.join('; ')}`,
    ],
  });
}
