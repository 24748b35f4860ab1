import {
  BACKEND_API_VERSION,
  DeviceWorkers,
  E,
  RespaiError,
  Tensor,
  WorkerCallError,
  WorkerRpc,
  WorkerTimeoutError,
  type Backend,
  type BackendSettings,
  type Device,
  type LoadedModel,
  type ModelLoadRequest,
  type RunContext,
  type TensorSpec,
} from '@respai/core';
import type { IOSpec } from './graph.js';
import { CONVERTER_VERSION } from './ops.js';
import type { ComputeBackend, LoadInfo, RuntimeInfo, WireTensor } from './runtime.js';
import type { TfWorkerData } from './worker.js';

export interface TfBackendOptions {
  /**
   * The tfjs backend models run on: `wasm` (default; XNNPACK kernels, SIMD) or `cpu` (plain JS).
   * Defaults to the RESPAI_TF_BACKEND environment variable, else `wasm`. Models using ops whose
   * kernels wasm lacks (FFT, Einsum, complex numbers) run on `cpu` either way.
   */
  readonly computeBackend?: ComputeBackend;
}

const DEFAULT_SETTINGS: BackendSettings = {
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 0,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 1,
  log: { debug() {}, info() {}, warn() {} },
};

/**
 * The worker's module. Built, it is `worker.js` beside this file; run from sources (vitest), a
 * bootstrap registers a TypeScript loader in the worker first.
 */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./testing/ts-worker.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);
}

/** Makes a TF backend: frozen GraphDefs run by tfjs-converter in worker threads. */
export function createTfBackend(options: TfBackendOptions = {}): Backend {
  return new TfBackend(options.computeBackend ?? envBackend());
}

function envBackend(): ComputeBackend {
  const v = process.env['RESPAI_TF_BACKEND']?.toLowerCase();
  return v === 'cpu' ? 'cpu' : 'wasm';
}

class TfBackend implements Backend {
  readonly apiVersion = BACKEND_API_VERSION;
  readonly name = 'TF' as const;
  /** tfjs's version: tfjs-core, -converter and the compute backends are released together. */
  readonly version = CONVERTER_VERSION;
  settings: BackendSettings = DEFAULT_SETTINGS;
  private workers: DeviceWorkers | undefined;
  private nextId = 1;
  private reported = false;

  constructor(private readonly compute: ComputeBackend) {}

  init(settings: BackendSettings): void {
    this.settings = settings;
  }

  supportsDevice(device: Device): boolean {
    return device.type === 'CPU';
  }

  /** Worker k of a device serves engine slot k of that device's queue (THREADS_PER_QUEUE of them). */
  pool(): DeviceWorkers {
    this.workers ??= new DeviceWorkers({
      size: this.settings.threadsPerQueue,
      create: (device, index) =>
        new WorkerRpc({
          url: workerUrl(),
          name: `respai-tf ${device}#${index}`,
          workerData: { backend: this.compute } satisfies TfWorkerData,
          // Calls reach a worker once tfjs is up, so its start-up never counts against a run's timeout.
          onSpawn: async (call) => {
            const rt = (await call('info')) as RuntimeInfo;
            if (!this.reported) {
              this.reported = true;
              this.settings.log.info('TF backend ready', { ...rt, workersPerDevice: this.settings.threadsPerQueue });
            }
          },
          onLost: (why) => this.settings.log.warn('TF worker lost; its models reload on their next run', { device, index, why }),
        }),
    });
    return this.workers;
  }

  async loadModel(req: ModelLoadRequest): Promise<LoadedModel> {
    // AI.MODELSTORE requires INPUTS and OUTPUTS for TF (checked when it is parsed), but models the
    // original engine saved at encoding version 0 may have none: they load (and cannot run).
    const id = this.nextId++;
    const workers = this.pool().of(req.device.name);
    const blob = shared(req.blob);
    let infos: LoadInfo[];
    try {
      infos = await Promise.all(workers.map((w) => w.call<LoadInfo>('load', [id, blob, req.inputs, req.outputs])));
    } catch (e) {
      await Promise.allSettled(workers.map((w) => w.call('unload', [id], { spawn: false })));
      throw e;
    }
    const info = infos[0]!;
    this.settings.log.debug('TF model loaded', { id, nodes: info.nodeCount, backend: info.backend, cpuReasons: info.cpuReasons });
    return new TfModel(this, id, req, info);
  }

  async dispose(): Promise<void> {
    const w = this.workers;
    this.workers = undefined;
    await w?.close();
  }
}

class TfModel implements LoadedModel {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  private disposed = false;

  constructor(
    private readonly backend: TfBackend,
    private readonly id: number,
    private readonly req: ModelLoadRequest,
    private readonly info: LoadInfo,
  ) {
    this.inputs = info.inputs.map(tensorSpec);
    this.outputs = info.outputs.map(tensorSpec);
  }

  async run(inputs: readonly Tensor[], ctx: RunContext): Promise<Tensor[]> {
    if (this.disposed) throw new Error('the TF model was disposed');
    const specs = this.info.inputs;
    if (inputs.length !== specs.length) {
      throw new Error(`the TF model takes ${specs.length} input${specs.length === 1 ? '' : 's'}, got ${inputs.length}`);
    }
    inputs.forEach((t, i) => {
      const want = specs[i]!.dtype;
      if (want !== undefined && t.dtype !== want) throw new Error(`Input node "${specs[i]!.name}" of the TF graph expects ${want}, got ${t.dtype}`);
    });
    const worker = this.backend.pool().forSlot(this.req.device.name, ctx.slot);
    const timeoutMs = this.backend.settings.modelExecutionTimeoutMs;
    const call = () => {
      const wire = inputs.map(toWire);
      return worker.call<WireTensor[]>('run', [this.id, wire], { transfer: wire.map((w) => w.data), timeoutMs });
    };
    let out: WireTensor[];
    try {
      out = await call();
    } catch (e) {
      if (e instanceof WorkerTimeoutError) {
        throw new Error(`TF run exceeded MODEL_EXECUTION_TIMEOUT (${e.timeoutMs} ms); its worker was replaced`);
      }
      // A worker that replaced a crashed or timed-out one starts empty: load the model, run again.
      if (!(e instanceof WorkerCallError && e.remoteName === 'TfModelNotLoaded')) throw e;
      await worker.call('load', [this.id, shared(this.req.blob), this.req.inputs, this.req.outputs]);
      out = await call();
    }
    return out.map((o) => Tensor.fromBlob(o.dtype, o.shape, Buffer.from(o.data)));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const workers = this.backend.pool().of(this.req.device.name);
    await Promise.allSettled(workers.map((w) => w.call('unload', [this.id], { spawn: false })));
  }
}

function tensorSpec(s: IOSpec): TensorSpec {
  return { name: s.name, ...(s.dtype === undefined ? {} : { dtype: s.dtype }), ...(s.shape === undefined ? {} : { shape: s.shape }) };
}

/** One copy of the blob that every worker of a device reads without copying it again. */
function shared(b: Buffer): SharedArrayBuffer {
  const s = new SharedArrayBuffer(b.length);
  new Uint8Array(s).set(b);
  return s;
}

/** An exact-size copy of the tensor's bytes, moved (not cloned) to the worker. */
function toWire(t: Tensor): WireTensor {
  const data = new ArrayBuffer(t.data.length);
  new Uint8Array(data).set(t.data);
  return { dtype: t.dtype, shape: [...t.shape], data };
}
