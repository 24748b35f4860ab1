import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  BACKEND_API_VERSION,
  DeviceWorkers,
  E,
  RespaiError,
  Tensor,
  WorkerCallError,
  WorkerGoneError,
  WorkerRpc,
  WorkerTimeoutError,
  fail,
  type Backend,
  type BackendSettings,
  type Device,
  type LoadedModel,
  type ModelLoadRequest,
  type RunContext,
  type TensorSpec,
} from '@respai/core';
import { ONNX_ERR } from './messages.js';
import { TO_ORT, dtypeOfOrt, type WireModelInfo, type WireTensor, type WireValueInfo, type WorkerSettings } from './protocol.js';

/** The onnxruntime-node version this backend runs (AI.INFO, INFO). */
export const ORT_VERSION: string = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;

const silent = { debug() {}, info() {}, warn() {} };

const DEFAULT_SETTINGS: BackendSettings = {
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 0,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 1,
  log: silent,
};

/** The built worker beside this module; from TypeScript sources (unit tests), the build's. */
function defaultWorkerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  return existsSync(fileURLToPath(here)) ? here : new URL('../dist/worker.js', import.meta.url);
}

export interface OnnxBackendOptions {
  /** The worker module (default: `worker.js` of this package's build). */
  readonly workerUrl?: URL;
}

interface Stored {
  readonly blob: Buffer;
}

/** Where a loaded model lives: its device's workers hold it under `id`. */
interface ModelRef {
  readonly device: string;
  readonly id: number;
  /** Bytes it counts against BACKEND_MEMORY_LIMIT. */
  readonly cost: number;
  readonly generation: number;
}

/**
 * The ONNX backend: every onnxruntime session lives in a worker thread, THREADS_PER_QUEUE workers
 * per device, each holding a session of every model stored on that device, so engine slot k of a
 * device runs on its worker k without waiting for the others.
 */
export class OnnxBackend implements Backend {
  readonly apiVersion = BACKEND_API_VERSION;
  readonly name = 'ONNX' as const;
  readonly version = ORT_VERSION;

  private settings: BackendSettings = DEFAULT_SETTINGS;
  private workers: DeviceWorkers | undefined;
  /** Models by device, then id: what a new worker of that device must load. */
  private readonly stored = new Map<string, Map<number, Stored>>();
  private nextId = 1;
  private heldBytes = 0;
  /** Bumped by dispose: models of an earlier generation lost their workers. */
  private generation = 0;

  constructor(private readonly options: OnnxBackendOptions = {}) {}

  init(settings: BackendSettings): void {
    this.settings = settings;
    if (settings.backendMemoryLimitMb > 0) {
      settings.log.warn(
        'ONNX: BACKEND_MEMORY_LIMIT is only checked against model sizes; onnxruntime-node cannot cap the memory its sessions allocate',
        { backendMemoryLimitMb: settings.backendMemoryLimitMb },
      );
    }
  }

  supportsDevice(device: Device): boolean {
    return device.type === 'CPU';
  }

  async loadModel(request: ModelLoadRequest): Promise<LoadedModel> {
    if (!this.supportsDevice(request.device)) fail(E.noGpu('ONNX'));
    const pool = this.pool();
    const generation = this.generation;
    const device = request.device.name;
    const blob = request.blob;
    const cost = blob.length * pool.size;
    const limitMb = this.settings.backendMemoryLimitMb;
    if (limitMb > 0 && this.heldBytes + cost > limitMb * 2 ** 20) {
      fail(ONNX_ERR.memoryLimit(limitMb, Math.ceil((this.heldBytes + cost) / 2 ** 20)));
    }

    const id = this.nextId++;
    const workers = pool.of(device);
    // Validate once, on the first worker; onnxruntime's verdict is the same on the others.
    const info = await loadInto(workers[0]!, id, blob, 1);
    let spec: { inputs: TensorSpec[]; outputs: TensorSpec[] };
    try {
      spec = describe(info);
    } catch (e) {
      await workers[0]!.call('unload', [id], { spawn: false }).catch(() => undefined);
      throw e;
    }
    if (generation !== this.generation) fail(ONNX_ERR.disposed);

    const models = this.stored.get(device) ?? new Map<number, Stored>();
    this.stored.set(device, models);
    models.set(id, { blob });
    this.heldBytes += cost;
    try {
      // Workers that die meanwhile reload it from `stored` when they come back.
      await Promise.all(workers.map((w) => loadInto(w, id, blob, 0).catch(ignoreGone)));
    } catch (e) {
      await this.unload({ device, id, cost, generation });
      throw e;
    }
    if (generation !== this.generation) fail(ONNX_ERR.disposed);
    return new OnnxModel(this, { device, id, cost, generation }, spec);
  }

  /** Runs a model on the worker of `slot`. */
  async run({ device, id, generation }: ModelRef, inputs: readonly WireTensor[], slot: number): Promise<WireTensor[]> {
    if (generation !== this.generation || this.workers === undefined) fail(ONNX_ERR.disposed);
    const timeoutMs = this.settings.modelExecutionTimeoutMs;
    try {
      return await this.workers.forSlot(device, slot).call<WireTensor[]>('run', [id, inputs], {
        transfer: inputs.map((t) => t.data),
        timeoutMs,
      });
    } catch (e) {
      if (e instanceof WorkerTimeoutError) {
        this.settings.log.warn('ONNX run exceeded MODEL_EXECUTION_TIMEOUT; its worker was replaced', { device, slot, timeoutMs });
        throw new RespaiError(ONNX_ERR.timeout(timeoutMs), { cause: e });
      }
      if (e instanceof WorkerGoneError) throw new RespaiError(ONNX_ERR.workerLost(device, slot, e.message), { cause: e });
      throw ortError(e);
    }
  }

  async unload({ device, id, cost, generation }: ModelRef): Promise<void> {
    if (generation !== this.generation) return;
    const models = this.stored.get(device);
    if (models?.delete(id) !== true) return;
    this.heldBytes -= cost;
    if (this.workers === undefined) return;
    await Promise.all(this.workers.of(device).map((w) => w.call('unload', [id], { spawn: false }).catch(() => undefined)));
  }

  /**
   * Terminates every worker, each once its current call returned (see `WorkerRpc`). Models loaded
   * before are gone; a later load starts new workers (the default export is shared by every engine
   * of the process, so one engine closing must not break the next).
   */
  async dispose(): Promise<void> {
    this.generation++;
    const workers = this.workers;
    this.workers = undefined;
    this.stored.clear();
    this.heldBytes = 0;
    await workers?.close();
  }

  private pool(): DeviceWorkers {
    if (this.workers !== undefined) return this.workers;
    const s = this.settings;
    const url = this.options.workerUrl ?? defaultWorkerUrl();
    const workerData: WorkerSettings = { intraOpNumThreads: s.intraOpParallelism, interOpNumThreads: s.interOpParallelism };
    this.workers = new DeviceWorkers({
      size: s.threadsPerQueue,
      create: (device, index) =>
        new WorkerRpc({
          url,
          workerData,
          name: `respai-onnx ${device}#${index}`,
          onSpawn: async (call) => {
            // A new worker (first start, or after a crash or a timeout) loads every model of its device.
            for (const [id, m] of [...(this.stored.get(device) ?? [])]) {
              const bytes = new Uint8Array(m.blob);
              await call('load', [id, bytes], [bytes.buffer]).catch((e: unknown) => {
                s.log.warn('ONNX: a new worker could not reload a model', { device, index, reason: (e as Error).message });
              });
            }
          },
          onLost: (reason) => s.log.warn('ONNX worker lost', { device, index, reason }),
        }),
    });
    return this.workers;
  }
}

/** A stored model's handle: its specs, and runs that go to the slot's worker. */
class OnnxModel implements LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  private disposed = false;

  constructor(
    private readonly backend: OnnxBackend,
    private readonly ref: ModelRef,
    spec: { inputs: TensorSpec[]; outputs: TensorSpec[] },
  ) {
    this.inputs = spec.inputs;
    this.outputs = spec.outputs;
  }

  async run(inputs: readonly Tensor[], ctx: RunContext): Promise<Tensor[]> {
    if (inputs.length !== this.inputs.length) fail(ONNX_ERR.inputCount(this.inputs.length, inputs.length));
    const wire = inputs.map((t, i): WireTensor => {
      const spec = this.inputs[i];
      if (spec?.dtype !== undefined && spec.dtype !== t.dtype) fail(ONNX_ERR.inputDtype(spec.name, spec.dtype, t.dtype));
      // A copy of its own per run: the stored tensor stays intact and the copy moves to the worker.
      const data = new ArrayBuffer(t.data.length);
      new Uint8Array(data).set(t.data);
      return { type: TO_ORT[t.dtype], dims: [...t.shape], data };
    });
    const out = await this.backend.run(this.ref, wire, ctx.slot);
    return out.map((o, i) => {
      const name = this.outputs[i]?.name ?? String(i);
      const dtype = dtypeOfOrt(o.type);
      if (dtype === undefined) fail(ONNX_ERR.unsupportedType('output', name, o.type));
      if (o.dims.some((d) => d === 0)) fail(ONNX_ERR.emptyOutput(name, o.dims));
      return Tensor.fromBlob(dtype, o.dims, Buffer.from(o.data));
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.backend.unload(this.ref);
  }
}

/** Loads model `id` into one worker; retries `retries` times when the worker dies meanwhile. */
async function loadInto(w: WorkerRpc, id: number, blob: Buffer, retries: number): Promise<WireModelInfo> {
  for (let attempt = 0; ; attempt++) {
    // Each worker gets a copy of its own, moved rather than cloned again.
    const bytes = new Uint8Array(blob);
    try {
      return await w.call<WireModelInfo>('load', [id, bytes], { transfer: [bytes.buffer] });
    } catch (e) {
      if (e instanceof WorkerGoneError && attempt < retries) continue;
      throw e instanceof WorkerGoneError ? e : ortError(e);
    }
  }
}

function ignoreGone(e: unknown): void {
  if (!(e instanceof WorkerGoneError)) throw e;
}

/** onnxruntime's error as the client's reply. */
function ortError(e: unknown): Error {
  if (RespaiError.isInstance(e)) return e;
  if (e instanceof WorkerCallError || e instanceof Error) return new RespaiError(ONNX_ERR.ort(e.message), { cause: e });
  return new RespaiError(ONNX_ERR.ort(String(e)));
}

/** The specs respai reports, refusing what it could never feed or return. */
function describe(info: WireModelInfo): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const spec = (what: 'input' | 'output', m: WireValueInfo): TensorSpec => {
    if (!m.isTensor) fail(what === 'input' ? ONNX_ERR.nonTensorInput(m.name) : ONNX_ERR.nonTensorOutput(m.name));
    const dtype = dtypeOfOrt(m.type ?? '');
    if (dtype === undefined) fail(ONNX_ERR.unsupportedType(what, m.name, m.type ?? 'unknown'));
    // onnxruntime reports an unknown shape and a scalar alike (empty): leave the shape out then.
    if (m.shape === undefined || m.shape.length === 0) return { name: m.name, dtype };
    // A free dimension without a name comes as '': the SPI says -1.
    return { name: m.name, dtype, shape: m.shape.map((d) => (d === '' ? -1 : d)) };
  };
  return { inputs: info.inputs.map((m) => spec('input', m)), outputs: info.outputs.map((m) => spec('output', m)) };
}
