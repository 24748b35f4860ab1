import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Tensor, type BackendSettings, type Device } from '@respai/core';
import { COMPUTE_USAGE_TAIL, computeOptions, parseList, parsePositiveInt } from '../args.js';
import { computeArgs, runCompute, type ComputeModel, type Floor } from '../compute.js';
import { mnistSample, seededRandom } from '../models.js';
import { repoRoot } from '../servers.js';

export const usage = `torch: MODELEXECUTE on respai's TORCH backend vs the same TorchScript model run through the addon in-process

  Models: real (../shared/models/pt-minimal.pt, RedisAI's own TorchScript test archive: a + b on
  FLOAT [2,2]; in the default list when the file is there), and TorchScript defined from source by
  the addon's own saveModule, as the backend's tests do:
  tiny (forward(a, b) = a + b on [1,8] floats: almost no compute, the per-run cost of the server) and
  mnist (x [1,1,28,28] -> reshape 784 -> 128 Relu -> 10, fixed pseudo-random weights).
  Modes, through the server: exec (AI.MODELEXECUTE on stored inputs) and roundtrip (AI.TENSORSET of
  every input + AI.MODELEXECUTE + AI.TENSORGET BLOB, pipelined as one request).
  The floor ("direct") is the TORCH backend object in this process (@respai/backend-torch: the addon,
  runs on its own threads, as in the server) with the same intra-/inter-op threads, and the same
  number of runs in flight as the server has connections; it runs first, with no server up.
  Targets (as onnx): at the first concurrency level, server p50 <= direct p50 + 100 us; at the best
  level, server throughput >= 85% of direct. Also reported: the addon's load time in this process
  (import = dlopen of libtorch, init, first model load, first run) and the server's RSS before and
  after AI.CONFIG LOADBACKEND TORCH and the MODELSTOREs, with their times.

options:
  --models LIST         real,tiny,mnist (default all three; real only when ../shared has it)
  --modes LIST          exec,roundtrip (default both)
  --concurrency LIST    levels of the sweep (default 1,2,4,8,16,32)
  --intra-op N          libtorch intra-op threads, server and direct alike (default 1)
  --inter-op N          libtorch inter-op threads, server and direct alike (default 1)
  --threads-per-queue N the server's run slots per device queue (default 1)
${COMPUTE_USAGE_TAIL}`;

const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };

/**
 * A TorchScript expression for fixed pseudo-random weights: a multiplicative hash of the element
 * index, uniform in [-scale, scale). It only reads constants, so TorchScript's graph executor folds
 * it into a constant tensor on the first runs (the warm-up): steady-state runs do not recompute it.
 */
function weights(shape: readonly number[], seed: number, scale: number): string {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = 65521; // prime
  const a = 40503 + seed * 2;
  return (
    `torch.arange(${n}).mul(${a}).add(${seed * 7919}).remainder(${p}).float()` +
    `.div(${p}.0).sub(0.5).mul(${(2 * scale).toFixed(6)}).reshape(${shape.join(', ')})`
  );
}

const MNIST_SOURCE = [
  'def forward(self, x):',
  `    w1 = ${weights([784, 128], 1, 1 / 28)}`,
  `    b1 = ${weights([128], 2, 0.1)}`,
  `    w2 = ${weights([128, 10], 3, 1 / Math.sqrt(128))}`,
  `    b2 = ${weights([10], 4, 0.1)}`,
  '    h = torch.relu(torch.matmul(x.reshape(-1, 784), w1) + b1)',
  '    return torch.matmul(h, w2) + b2',
  '',
].join('\n');

interface TorchCase {
  name: string;
  source: string;
  /** A saved archive to store instead of `source` (the real model). */
  file?: string;
  describe: string;
  inputs: { dims: number[]; data: Float32Array }[];
}

const SHARED_PT = join(repoRoot, '../shared/models/pt-minimal.pt');

function torchCase(name: string): TorchCase {
  if (name === 'real') {
    if (!existsSync(SHARED_PT)) throw new Error('--models real: ../shared/models/pt-minimal.pt is missing');
    const r = seededRandom(4);
    const v = () => new Float32Array(4).map(() => r());
    return {
      name,
      source: '',
      file: SHARED_PT,
      describe: '../shared/models/pt-minimal.pt (RedisAI\'s TorchScript test archive, forward(a, b) = a + b), a and b FLOAT [2,2]',
      inputs: [
        { dims: [2, 2], data: v() },
        { dims: [2, 2], data: v() },
      ],
    };
  }
  if (name === 'tiny') {
    const r = seededRandom(3);
    const v = () => new Float32Array(8).map(() => r());
    return {
      name,
      source: 'def forward(self, a, b):\n    return a + b\n',
      describe: 'TorchScript forward(a, b) = a + b, a and b FLOAT [1,8]',
      inputs: [
        { dims: [1, 8], data: v() },
        { dims: [1, 8], data: v() },
      ],
    };
  }
  if (name === 'mnist') {
    return {
      name,
      source: MNIST_SOURCE,
      describe: 'TorchScript MLP x [1,1,28,28] -> 784 -> 128 (Relu) -> 10, pseudo-random weights folded into constants',
      inputs: [{ dims: [1, 1, 28, 28], data: mnistSample() }],
    };
  }
  throw new Error(`--models: unknown model ${name} (real, tiny, mnist)`);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: existsSync(SHARED_PT) ? 'real,tiny,mnist' : 'tiny,mnist' },
      modes: { type: 'string', default: 'exec,roundtrip' },
      ...computeOptions(join(repoRoot, 'bench-results')),
      'inter-op': { type: 'string', default: '1' },
    },
  });
  const args = computeArgs(values, usage);
  if (args === undefined) return 0;
  const { modes, bench } = args;
  const cases = parseList(values.models, torchCase);
  const { intraOp } = bench;
  const interOp = parsePositiveInt(values['inter-op'], '--inter-op');
  const tpq = bench.threadsPerQueue;

  // The addon's load time in this process: importing the package dlopens libtorch and the addon.
  const t0 = performance.now();
  const torch = await import('@respai/backend-torch');
  const importMs = performance.now() - t0;
  const backend = torch.default;
  const settings: BackendSettings = {
    intraOpParallelism: intraOp,
    interOpParallelism: interOp,
    modelExecutionTimeoutMs: 0,
    backendMemoryLimitMb: 0,
    threadsPerQueue: tpq,
    log: { debug() {}, info() {}, warn: (m: string) => process.stderr.write(`torch: ${m}\n`) },
  };
  const t1 = performance.now();
  backend.init(settings);
  const initMs = performance.now() - t1;
  const { torchModelBlob } = await import('@respai/backend-torch/testing');

  const loads: string[] = [];
  const models: ComputeModel[] = cases.map((c) => ({
    name: c.name,
    source: c.describe,
    blob: c.file !== undefined ? readFileSync(c.file) : torchModelBlob(c.source),
    inputs: c.inputs,
    storeArgs: ['TORCH', 'CPU'],
  }));
  const floor = async (m: ComputeModel): Promise<Floor> => {
    const a = performance.now();
    const model = await backend.loadModel({ blob: m.blob, device: CPU, inputs: [], outputs: [], batchSize: 0 });
    const loadMs = performance.now() - a;
    const inputs = m.inputs.map((x) => Tensor.fromBlob('FLOAT', x.dims, Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)));
    const ctx = { slot: 0 };
    const b = performance.now();
    await model.run(inputs, ctx);
    const firstMs = performance.now() - b;
    loads.push(`${m.name} load ${loadMs.toFixed(1)} ms, first run ${firstMs.toFixed(2)} ms`);
    return {
      run: () => model.run(inputs, ctx),
      output: async () => {
        const [out] = await model.run(inputs, ctx);
        return new Float32Array(new Uint8Array(out!.data).buffer);
      },
      close: () => model.dispose(),
    };
  };
  const torchVersion = backend.version;
  return runCompute({
    scenario: 'torch',
    backend: 'TORCH',
    floorName: 'the TORCH addon in-process (libtorch)',
    models,
    modes,
    // The measurement settings (levels, windows, warm-ups, out) as parsed.
    ...bench,
    serverArgs: [
      '--intra-op-parallelism',
      String(intraOp),
      '--inter-op-parallelism',
      String(interOp),
      '--threads-per-queue',
      String(tpq),
    ],
    floor,
    head: () => [
      `libtorch ${torchVersion}; intra-op threads ${intraOp}, inter-op threads ${interOp}, threads-per-queue ${tpq}`,
      `addon in this process: import (dlopen libtorch + addon) ${importMs.toFixed(0)} ms, init ${initMs.toFixed(1)} ms; ` +
        loads.join('; '),
    ],
  });
}
