import type { DType } from '@respai/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import { fromTfjs, respaiFromTfjs, toTfjs } from './dtypes.js';
import { prepareGraph, type IOSpec } from './graph.js';

/**
 * The tfjs side of the TF backend: initialises tfjs in the current thread (a worker, or the main
 * thread for benchmarks) and loads and runs models there. tfjs computes synchronously on the calling
 * thread, so the backend runs this inside worker threads; runs within one thread are serialised
 * (a model may run on another tfjs backend than the one before it, and control-flow graphs await).
 */

export type ComputeBackend = 'wasm' | 'cpu';

/** A tensor crossing the thread boundary: respai dtype, shape and little-endian bytes. */
export interface WireTensor {
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: ArrayBuffer;
}

/** What a load reports back to the main thread. */
export interface LoadInfo {
  readonly inputs: IOSpec[];
  readonly outputs: IOSpec[];
  readonly backend: ComputeBackend;
  readonly cpuReasons: string[];
  readonly nodeCount: number;
}

export interface RuntimeInfo {
  readonly tfjs: string;
  readonly backend: ComputeBackend;
  readonly wasmSimd: boolean;
  readonly wasmThreads: boolean;
}

let ready: Promise<RuntimeInfo> | undefined;
let preferred: ComputeBackend = 'wasm';

/** Initialises tfjs once per thread on `backend` (wasm by default; cpu is the pure-JS fallback). */
export function initTf(backend: ComputeBackend = 'wasm'): Promise<RuntimeInfo> {
  ready ??= (async () => {
    preferred = backend;
    tf.enableProdMode();
    if (!(await tf.setBackend(backend))) throw new Error(`the tfjs ${backend} backend failed to initialise`);
    await tf.ready();
    const flag = async (f: string) => backend === 'wasm' && (await tf.env().getAsync(f)) === true;
    return {
      tfjs: tf.version_core,
      backend,
      wasmSimd: await flag('WASM_HAS_SIMD_SUPPORT'),
      // tfjs turns wasm threads off under Node (its pthread workers load from blob: URLs).
      wasmThreads: await flag('WASM_HAS_MULTITHREAD_SUPPORT'),
    };
  })();
  return ready;
}

interface Model {
  readonly graph: ReturnType<typeof loadGraphModelSync>;
  readonly info: LoadInfo;
  /** Weight tensors: outputs may be weights themselves, which must survive the run. */
  readonly weightIds: ReadonlySet<number>;
  /** 'async' once the executor asked for executeAsync (control flow, dynamic shapes). */
  mode: 'sync' | 'async';
}

const models = new Map<number, Model>();
let queue: Promise<unknown> = Promise.resolve();

function serial<T>(fn: () => Promise<T> | T): Promise<T> {
  const p = queue.then(fn, fn);
  queue = p.catch(() => undefined);
  return p;
}

async function use(backend: ComputeBackend): Promise<void> {
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) {
    throw new Error(`the tfjs ${backend} backend failed to initialise`);
  }
}

/** Loads model `id` from GraphDef bytes (idempotent: a second load of the same id is a no-op). */
export function loadModel(id: number, blob: Uint8Array, inputs: readonly string[], outputs: readonly string[]): Promise<LoadInfo> {
  return serial(async () => {
    await initTf(preferred);
    const existing = models.get(id);
    if (existing !== undefined) return existing.info;
    const prepared = prepareGraph(blob, inputs, outputs);
    const backend: ComputeBackend = prepared.cpuReasons.length > 0 ? 'cpu' : preferred;
    await use(backend);
    const graph = loadGraphModelSync(prepared.artifact as unknown as tf.io.ModelArtifacts);
    const weightIds = new Set(Object.values(graph.weights).flatMap((ts) => ts.map((t) => t.id)));
    const info: LoadInfo = {
      inputs: prepared.inputs,
      outputs: prepared.outputs,
      backend,
      cpuReasons: prepared.cpuReasons,
      nodeCount: prepared.nodeCount,
    };
    models.set(id, { graph, info, weightIds, mode: 'sync' });
    return info;
  });
}

export function unloadModel(id: number): Promise<void> {
  return serial(() => {
    const m = models.get(id);
    models.delete(id);
    m?.graph.dispose();
  });
}

/** Runs model `id`; the result buffers are fresh (safe to transfer). */
export function runModel(id: number, inputs: readonly WireTensor[]): Promise<WireTensor[]> {
  return serial(async () => {
    const m = models.get(id);
    if (m === undefined) throw new Error(`TF model ${id} is not loaded in this thread`);
    await use(m.info.backend);
    const specs = m.info.inputs;
    if (inputs.length !== specs.length) {
      throw new Error(`the TF model takes ${specs.length} input${specs.length === 1 ? '' : 's'}, got ${inputs.length}`);
    }
    const feeds: Record<string, tf.Tensor> = {};
    let outs: tf.Tensor[] = [];
    try {
      inputs.forEach((w, i) => {
        const spec = specs[i]!;
        checkInput(spec, w);
        const d = toTfjs(w.dtype, new Uint8Array(w.data), `Input node "${spec.name}"`);
        feeds[spec.key] =
          d.dtype === 'string'
            ? // tf.tensor() would flatten byte arrays; the engine takes them as the strings' raw bytes.
              tf.engine().makeTensor(d.values as unknown as string[], w.shape, 'string')
            : tf.tensor(d.values as tf.TypedArray, w.shape, d.dtype);
      });
      outs = await execute(m, feeds);
      const result: WireTensor[] = [];
      for (let i = 0; i < m.info.outputs.length; i++) result.push(await toWire(m.info.outputs[i]!, outs[i]));
      return result;
    } finally {
      const keep = new Set([...Object.values(feeds).map((t) => t.id)]);
      for (const t of Object.values(feeds)) t.dispose();
      for (const t of outs) if (t !== undefined && !m.weightIds.has(t.id) && !keep.has(t.id)) t.dispose();
    }
  });
}

function checkInput(spec: IOSpec, w: WireTensor): void {
  if (spec.dtype !== undefined && w.dtype !== spec.dtype) {
    throw new Error(`Input node "${spec.name}" of the TF graph expects ${spec.dtype}, got ${w.dtype}`);
  }
}

async function execute(m: Model, feeds: Record<string, tf.Tensor>): Promise<tf.Tensor[]> {
  const fetches = m.info.outputs.map((o) => o.key);
  const asArray = (r: tf.Tensor | tf.Tensor[]) => (Array.isArray(r) ? r : [r]);
  if (m.mode === 'sync') {
    try {
      return asArray(m.graph.execute(feeds, fetches));
    } catch (e) {
      // The executor refuses control flow and dynamic shapes in execute() before computing anything.
      if (!/executeAsync/.test((e as Error).message)) throw e;
      m.mode = 'async';
    }
  }
  return asArray(await m.graph.executeAsync(feeds, fetches));
}

async function toWire(spec: IOSpec, t: tf.Tensor | undefined): Promise<WireTensor> {
  if (t === undefined) throw new Error(`Output node "${spec.name}" produced no tensor (no such output index?)`);
  if (t.size === 0) {
    throw new Error(`Output node "${spec.name}" is empty (shape [${t.shape.join(',')}]); respai tensors cannot have a zero dimension`);
  }
  const dtype = spec.dtype ?? respaiFromTfjs(t.dtype);
  if (dtype === undefined) throw new Error(`Output node "${spec.name}" is ${t.dtype}, which respai tensors cannot hold`);
  const src = t.dtype === 'string' ? ((await t.bytes()) as Uint8Array[]) : (t.dataSync() as Float32Array | Int32Array | Uint8Array);
  const bytes = fromTfjs(src, t.dtype, dtype, `Output node "${spec.name}"`);
  // dataSync may hand out the backend's own storage (cpu): never transfer that.
  const own = !Array.isArray(src) && bytes.buffer === (src as ArrayBufferView).buffer;
  const data = own || bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength ? bytes.slice().buffer : bytes.buffer;
  return { dtype, shape: [...t.shape], data: data as ArrayBuffer };
}

/** Tensors alive in this thread (leak checks in tests). */
export function liveTensors(): number {
  return tf.memory().numTensors;
}
