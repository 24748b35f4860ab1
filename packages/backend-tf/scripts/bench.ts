// Per-run latency of the test models on the tfjs wasm and cpu backends (in-process), and the
// worker round trip the backend adds. Run from the package directory:
//   node --import ./src/testing/ts-register.mjs scripts/bench.ts            (all, one child per backend)
//   node --import ./src/testing/ts-register.mjs scripts/bench.ts inproc wasm
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Tensor, type LoadedModel } from '@respai/core';
import { createTfBackend } from '../src/backend.js';
import { initTf, loadModel, runModel, type ComputeBackend, type WireTensor } from '../src/runtime.js';
import { convnetModel, mlpModel, mulModel, type TestModel } from '../src/testing/models.js';
import { randoms } from '../src/testing/reference.js';

const WARMUP = 30;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 300);

interface Stats {
  median: number;
  p90: number;
  mean: number;
}

async function time(fn: () => Promise<unknown>, runs = RUNS): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)]!, p90: t[Math.floor(t.length * 0.9)]!, mean: t.reduce((a, b) => a + b, 0) / t.length };
}

const fmt = (s: Stats) => `median ${s.median.toFixed(3)} ms, p90 ${s.p90.toFixed(3)} ms, mean ${s.mean.toFixed(3)} ms`;

const mlp = mlpModel();
const conv12 = convnetModel(12);
const conv32 = convnetModel(32);
const models: [string, TestModel, number[]][] = [
  ['mlp 784-128-10, batch 1', mlp, [1, 28, 28]],
  ['mlp 784-128-10, batch 32', mlp, [32, 28, 28]],
  ['convnet 12x12x3, batch 1', conv12, [1, 432]],
  ['convnet 32x32x3, batch 1', conv32, [1, 3072]],
  ['convnet 32x32x3, batch 16', conv32, [16, 3072]],
];
const mul: [string, Buffer, string[], string[]] = ['a*b 2x2', mulModel(), ['a', 'b'], ['mul']];

async function inproc(backend: ComputeBackend): Promise<void> {
  const info = await initTf(backend);
  console.log(`in-process, tfjs ${info.tfjs} ${backend}${backend === 'wasm' ? ` (SIMD ${info.wasmSimd ? 'on' : 'off'}, threads ${info.wasmThreads ? 'on' : 'off'})` : ''}`);
  let id = 1;
  for (const [name, m, shape] of models) {
    await loadModel(id, m.blob, m.inputs, m.outputs);
    const x = randoms(shape.reduce((a, b) => a * b, 1), 3);
    const mid = id++;
    console.log(`  ${name}: ${fmt(await time(() => runModel(mid, [{ dtype: 'FLOAT', shape, data: x.slice().buffer }])))}`);
  }
  await loadModel(id, mul[1], mul[2], mul[3]);
  const two: WireTensor = { dtype: 'FLOAT', shape: [2, 2], data: new Float32Array([2, 3, 2, 3]).buffer };
  const mid = id;
  console.log(`  ${mul[0]}: ${fmt(await time(() => runModel(mid, [two, { ...two, data: two.data.slice(0) }].map((t) => ({ ...t, data: t.data.slice(0) })))))}`);
}

async function workers(): Promise<void> {
  const b = createTfBackend({ computeBackend: 'wasm' });
  b.init!({ intraOpParallelism: 0, interOpParallelism: 0, modelExecutionTimeoutMs: 0, backendMemoryLimitMb: 0, threadsPerQueue: 1, log: { debug() {}, info() {}, warn() {} } });
  const req = (blob: Buffer, inputs: string[], outputs: string[]) => ({ blob, device: { type: 'CPU' as const, index: undefined, name: 'CPU' }, inputs, outputs, batchSize: 0 });
  console.log('through the backend (worker thread, wasm), THREADS_PER_QUEUE 1');
  const loaded: LoadedModel[] = [];
  for (const [name, m, shape] of models) {
    const lm = await b.loadModel(req(m.blob, m.inputs, m.outputs));
    loaded.push(lm);
    const x = Tensor.fromBlob('FLOAT', shape, Buffer.from(randoms(shape.reduce((a, c) => a * c, 1), 3).buffer));
    console.log(`  ${name}: ${fmt(await time(() => lm.run([x], { slot: 0 })))}`);
  }
  const lm = await b.loadModel(req(mul[1], mul[2], mul[3]));
  const two = Tensor.fromBlob('FLOAT', [2, 2], Buffer.from(new Float32Array([2, 3, 2, 3]).buffer));
  console.log(`  ${mul[0]}: ${fmt(await time(() => lm.run([two, two], { slot: 0 })))}`);
  await b.dispose!();
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'inproc') await inproc(arg as ComputeBackend);
else if (mode === 'workers') await workers();
else {
  // One process per measurement: tfjs's backend is per thread, and a fresh process is a fair start.
  const self = fileURLToPath(import.meta.url);
  const run = (...args: string[]) =>
    execFileSync(process.execPath, [...process.execArgv, self, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  run('inproc', 'wasm');
  run('inproc', 'cpu');
  run('workers');
}
