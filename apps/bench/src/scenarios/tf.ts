import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convnetModel, mlpModel, mulModel } from '@respai/backend-tf/testing';
import { COMPUTE_USAGE_TAIL, computeOptions, parseList } from '../args.js';
import { computeArgs, runCompute, type ComputeModel, type Floor } from '../compute.js';
import { mnistSample, seededRandom } from '../models.js';
import { repoRoot } from '../servers.js';

export const usage = `tf: MODELEXECUTE on respai's TF backend vs the same executor called in-process

  Models: real (../shared/models/graph.pb, RedisAI's own frozen GraphDef: mul = a * b on FLOAT [2,2];
  in the default list when the file is there), and frozen GraphDefs written by
  @respai/backend-tf/testing, the backend's own test fixtures:
  tiny (graph.pb's shape: c = a * b, fed [1,8] floats: the per-run cost of the server), mnist (a
  Keras-style MLP: input [-1,28,28] -> Reshape 784 -> 128 Relu -> 10 Softmax, fed [1,28,28]) and,
  on request, conv (a MobileNet-style convnet on 12x12x3: Conv2D, DepthwiseConv2dNative,
  FusedBatchNormV3, Relu6, AvgPool, Softmax; fed [1,432]).
  Modes, through the server: exec (AI.MODELEXECUTE on stored inputs) and roundtrip (AI.TENSORSET of
  every input + AI.MODELEXECUTE + AI.TENSORGET BLOB, pipelined as one request).
  The floor ("direct") is the backend's runtime module (packages/backend-tf/src/runtime.ts:
  tfjs-converter on the tfjs wasm backend, what each TF worker thread runs) loaded on this process's
  main thread, with the same number of runs in flight as the server has connections (the runtime
  serialises runs within a thread, as a worker does). It runs first, with no server up.
  Targets (as onnx): at the first concurrency level, server p50 <= direct p50 + 100 us; at the best
  level, server throughput >= 85% of direct.

options:
  --models LIST         real,tiny,mnist,conv (default real,tiny,mnist; real only when ../shared has it)
  --modes LIST          exec,roundtrip (default both)
  --concurrency LIST    levels of the sweep (default 1,2,4,8,16,32)
  --compute B           wasm | cpu: the tfjs backend, server (RESPAI_TF_BACKEND) and direct alike (default wasm)
  --threads-per-queue N the server's TF workers per device queue (default 1)
${COMPUTE_USAGE_TAIL}`;

type ComputeBackend = 'wasm' | 'cpu';

/** The part of backend-tf's runtime module (dist/runtime.js) the floor calls. */
interface TfRuntime {
  initTf(backend: ComputeBackend): Promise<{ tfjs: string; backend: ComputeBackend; wasmSimd: boolean; wasmThreads: boolean }>;
  loadModel(id: number, blob: Uint8Array, inputs: readonly string[], outputs: readonly string[]): Promise<{ backend: ComputeBackend; nodeCount: number }>;
  runModel(id: number, inputs: readonly { dtype: 'FLOAT'; shape: number[]; data: ArrayBuffer }[]): Promise<{ data: ArrayBuffer }[]>;
  unloadModel(id: number): Promise<void>;
}

interface TfCase {
  name: string;
  blob: Buffer;
  inputNames: string[];
  outputNames: string[];
  inputs: { dims: number[]; data: Float32Array }[];
  describe: string;
}

const SHARED_GRAPH = join(repoRoot, '../shared/models/graph.pb');

function tfCase(name: string): TfCase {
  if (name === 'real') {
    if (!existsSync(SHARED_GRAPH)) throw new Error('--models real: ../shared/models/graph.pb is missing');
    return {
      name,
      blob: readFileSync(SHARED_GRAPH),
      inputNames: ['a', 'b'],
      outputNames: ['mul'],
      inputs: [
        { dims: [2, 2], data: new Float32Array([2, 3, 2, 3]) },
        { dims: [2, 2], data: new Float32Array([2, 3, 2, 3]) },
      ],
      describe: "../shared/models/graph.pb (RedisAI's frozen GraphDef, mul = a * b), a and b FLOAT [2,2]",
    };
  }
  if (name === 'tiny') {
    const r = seededRandom(5);
    const v = () => new Float32Array(8).map(() => r());
    return {
      name,
      blob: mulModel(),
      inputNames: ['a', 'b'],
      outputNames: ['c'],
      inputs: [
        { dims: [1, 8], data: v() },
        { dims: [1, 8], data: v() },
      ],
      describe: 'GraphDef c = Identity(a * b) (graph.pb\'s shape), a and b FLOAT [1,8]',
    };
  }
  if (name === 'mnist') {
    const m = mlpModel();
    return {
      name,
      blob: m.blob,
      inputNames: m.inputs,
      outputNames: m.outputs,
      inputs: [{ dims: m.inputShape, data: mnistSample() }],
      describe: `GraphDef MLP (backend-tf testing mlpModel) ${m.inputs[0]} [${m.inputShape}] -> 784 -> 128 Relu -> 10 Softmax`,
    };
  }
  if (name === 'conv') {
    const m = convnetModel();
    const r = seededRandom(9);
    const n = m.inputShape.reduce((a, b) => a * b, 1);
    return {
      name,
      blob: m.blob,
      inputNames: m.inputs,
      outputNames: m.outputs,
      inputs: [{ dims: m.inputShape, data: new Float32Array(n).map(() => r()) }],
      describe: `GraphDef MobileNet-style convnet (backend-tf testing convnetModel) ${m.inputs[0]} [${m.inputShape}] -> 10`,
    };
  }
  throw new Error(`--models: unknown model ${name} (real, tiny, mnist, conv)`);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: existsSync(SHARED_GRAPH) ? 'real,tiny,mnist' : 'tiny,mnist' },
      modes: { type: 'string', default: 'exec,roundtrip' },
      ...computeOptions(join(repoRoot, 'bench-results')),
      compute: { type: 'string', default: 'wasm' },
    },
  });
  const args = computeArgs(values, usage);
  if (args === undefined) return 0;
  const { modes, bench } = args;
  const cases = parseList(values.models, tfCase);
  if (values.compute !== 'wasm' && values.compute !== 'cpu') throw new Error(`--compute: wasm or cpu, got ${values.compute}`);
  const compute: ComputeBackend = values.compute;
  const tpq = bench.threadsPerQueue;

  // The runtime module is what each TF worker runs; its package does not export it, so it is
  // loaded from beside the package's entry point (dist/runtime.js).
  const entry = import.meta.resolve('@respai/backend-tf');
  const t0 = performance.now();
  const rt = (await import(new URL('./runtime.js', entry).href)) as TfRuntime;
  const info = await rt.initTf(compute);
  const initMs = performance.now() - t0;

  const byName = new Map(cases.map((c) => [c.name, c]));
  const models: ComputeModel[] = cases.map((c) => ({
    name: c.name,
    source: c.describe,
    blob: c.blob,
    inputs: c.inputs,
    storeArgs: ['TF', 'CPU', 'INPUTS', c.inputNames.length, ...c.inputNames, 'OUTPUTS', c.outputNames.length, ...c.outputNames],
  }));
  const loads: string[] = [];
  let nextId = 1;
  const floor = async (m: ComputeModel): Promise<Floor> => {
    const c = byName.get(m.name)!;
    const id = nextId++;
    const a = performance.now();
    const loaded = await rt.loadModel(id, new Uint8Array(c.blob), c.inputNames, c.outputNames);
    const loadMs = performance.now() - a;
    // The worker gets its own copy of each input per run (moved, not shared); the floor reuses one.
    const wire = m.inputs.map((x) => ({ dtype: 'FLOAT' as const, shape: x.dims, data: x.data.slice().buffer }));
    const b = performance.now();
    await rt.runModel(id, wire);
    const firstMs = performance.now() - b;
    loads.push(`${m.name} load ${loadMs.toFixed(1)} ms (${loaded.nodeCount} nodes, on ${loaded.backend}), first run ${firstMs.toFixed(2)} ms`);
    return {
      run: () => rt.runModel(id, wire),
      output: async () => new Float32Array((await rt.runModel(id, wire))[0]!.data),
      close: () => rt.unloadModel(id),
    };
  };
  return runCompute({
    scenario: 'tf',
    backend: 'TF',
    floorName: `backend-tf's runtime in-process (tfjs ${compute})`,
    models,
    modes,
    // The measurement settings (levels, windows, warm-ups, out) as parsed.
    ...bench,
    serverArgs: ['--threads-per-queue', String(tpq)],
    serverEnv: { RESPAI_TF_BACKEND: compute },
    floor,
    head: () => [
      `tfjs ${info.tfjs} on ${info.backend} (SIMD ${info.wasmSimd ? 'on' : 'off'}, wasm threads ${info.wasmThreads ? 'on' : 'off'}); ` +
        `threads-per-queue ${tpq}`,
      `runtime in this process: import + tfjs init ${initMs.toFixed(0)} ms; ${loads.join('; ')}`,
    ],
  });
}
