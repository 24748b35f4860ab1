import type { TransferListItem } from 'node:worker_threads';
import { E, RespaiError, fail } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import { BACKEND_API_VERSION, DEFAULT_BACKEND_SETTINGS, RunNotStarted, type Backend, type BackendName, type BackendSettings, type Device, type LoadedModel, type ModelLoadRequest, type QueuedRun, type RunContext, type TensorSpec } from './spi.js';
import { RunControl } from './run-control.js';
import { DeviceWorkers, WorkerCallError, WorkerGoneError, WorkerRpc, WorkerTimeoutError, type DirectCall } from './workers.js';

/** Runs of one engine slot a worker-thread backend holds at once (its worker's backlog). */
export const WORKER_RUNS_PER_SLOT = 4;

/** Where a loaded model lives: every worker of its device holds it under `id`. */
export interface WorkerModelRef {
  readonly device: string;
  readonly id: number;
  /** Bytes it counts against BACKEND_MEMORY_LIMIT. */
  readonly cost: number;
  readonly generation: number;
}

export interface WorkerModelsOptions {
  /** The backend's name, for error texts and thread names (e.g. `TFLITE`). */
  readonly backend: string;
  /** The worker module: it serves `load(id, bytes) -> info`, `run(id, ...args)` and `unload(id)`. */
  readonly url: URL;
  readonly workerData?: unknown;
  readonly settings: BackendSettings;
  /** The runtime's error (from the worker) as the client's reply. */
  readonly runtimeError: (e: unknown) => Error;
  /** What the workers hold, for the memory-limit text (default `models`; ONNX: `sessions`). */
  readonly holders?: string;
  /**
   * Runs first on every new worker, before it reloads its models or takes a call (so a runtime's
   * slow start never counts against a run's MODEL_EXECUTION_TIMEOUT); e.g. to log what started.
   */
  readonly startup?: (call: DirectCall) => Promise<void>;
}

/**
 * Models held by worker threads, THREADS_PER_QUEUE workers per device, each holding its own copy
 * of every model stored on that device, so engine slot k of a device runs on worker k without
 * waiting for the others. For runtimes that compute synchronously on the calling thread. A worker
 * that crashes or times out is replaced, and the new one reloads its device's models.
 */
export class WorkerModels {
  private workers: DeviceWorkers | undefined;
  /** Models by device, then id: what a new worker of that device must load (bytes, extra arguments). */
  private readonly stored = new Map<string, Map<number, StoredModel>>();
  private nextId = 1;
  private heldBytes = 0;
  /** Records of the queued runs handed to this backend's workers. */
  private readonly control = new RunControl();
  /** Bumped by dispose: models of an earlier generation lost their workers. */
  private generation = 0;

  constructor(private readonly options: WorkerModelsOptions) {}

  get disposedError(): string {
    return E.backendShutDown(this.options.backend);
  }

  /** The backend's name (`ONNX`, `TF`, `TFLITE`). */
  get backend(): string {
    return this.options.backend;
  }

  /**
   * Loads `blob` on every worker of `device` (the worker's `load(id, bytes, ...extra)`). The first
   * worker's answer (the model's description) goes through `validate`; when that throws, the model
   * is unloaded and nothing else loads it.
   */
  async load<I, T>(device: string, blob: Buffer, validate: (info: I) => T, extra: readonly unknown[] = []): Promise<{ ref: WorkerModelRef; value: T }> {
    const { backend, settings } = this.options;
    const pool = this.pool();
    const generation = this.generation;
    const cost = blob.length * pool.size;
    const limitMb = settings.backendMemoryLimitMb;
    if (limitMb > 0 && this.heldBytes + cost > limitMb * 2 ** 20) {
      fail(E.backendMemoryLimit(limitMb, backend, this.options.holders ?? 'models', Math.ceil((this.heldBytes + cost) / 2 ** 20)));
    }
    // Reserved before the first await: concurrent loads must not all pass the check together.
    this.heldBytes += cost;
    const id = this.nextId++;
    const ref: WorkerModelRef = { device, id, cost, generation };
    const model: StoredModel = { blob, extra };
    let stored = false;
    try {
      const workers = pool.of(device);
      // Validate once, on the first worker; the runtime's verdict is the same on the others.
      const info = await this.loadInto<I>(workers[0]!, id, model, 1);
      let value: T;
      try {
        value = validate(info);
      } catch (e) {
        await workers[0]!.call('unload', [id], { spawn: false }).catch(() => undefined);
        throw e;
      }
      if (generation !== this.generation) fail(this.disposedError);
      const models = this.stored.get(device) ?? new Map<number, StoredModel>();
      this.stored.set(device, models);
      models.set(id, model);
      stored = true;
      // Workers that die meanwhile reload it from `stored` when they come back.
      await Promise.all(workers.slice(1).map((w) => this.loadInto(w, id, model, 0).catch(ignoreGone)));
      if (generation !== this.generation) fail(this.disposedError);
      return { ref, value };
    } catch (e) {
      if (stored) await this.unload(ref);
      else if (generation === this.generation) this.heldBytes -= cost;
      throw e;
    }
  }

  /**
   * Calls `run(id, ...args)` on the worker of `slot`, under MODEL_EXECUTION_TIMEOUT. With `queued`
   * (the engine's queued run) the worker takes it behind the slot's earlier runs, and the time
   * limit counts from its start. A queued run whose worker went away before starting it rejects
   * with {@link WorkerReplaced}: the caller sends it again (its buffers moved to the lost worker).
   */
  async run<R>(ref: WorkerModelRef, args: readonly unknown[], transfer: readonly TransferListItem[], slot: number, queued?: QueuedRun): Promise<R> {
    const { backend, settings } = this.options;
    if (ref.generation !== this.generation || this.workers === undefined) fail(this.disposedError);
    const timeoutMs = settings.modelExecutionTimeoutMs;
    const cell = queued === undefined ? -1 : this.control.acquire(queued);
    let timedOut = false;
    try {
      const options = queued === undefined ? { transfer, timeoutMs } : { transfer, timeoutMs, queued: { cell, deadline: queued.deadline } };
      return await this.workers.forSlot(ref.device, slot).call<R>('run', [ref.id, ...args], options);
    } catch (e) {
      if (e instanceof RunNotStarted) throw e;
      if (e instanceof WorkerTimeoutError) {
        timedOut = true;
        settings.log.warn(`${backend} run exceeded MODEL_EXECUTION_TIMEOUT; its worker was replaced`, { device: ref.device, slot, timeoutMs });
        throw new RespaiError(E.modelExecutionTimeout(backend, timeoutMs), { cause: e });
      }
      if (e instanceof WorkerGoneError) {
        if (queued !== undefined && this.control.waiting(cell)) throw new WorkerReplaced(e.message);
        if (queued !== undefined && this.control.withdrawn(cell)) throw new RunNotStarted('withdrawn');
        throw new RespaiError(E.workerFailedInRun(backend, slot, ref.device, e.message), { cause: e });
      }
      throw this.options.runtimeError(e);
    } finally {
      if (queued !== undefined) {
        if (timedOut) this.control.abandon(cell, queued);
        else this.control.release(cell, queued);
      }
    }
  }

  async unload({ device, id, cost, generation }: WorkerModelRef): Promise<void> {
    if (generation !== this.generation) return;
    const models = this.stored.get(device);
    if (models?.delete(id) !== true) return;
    this.heldBytes -= cost;
    if (this.workers === undefined) return;
    await Promise.all(this.workers.of(device).map((w) => w.call('unload', [id], { spawn: false }).catch(() => undefined)));
  }

  /**
   * Terminates every worker, each once its current call returned. Models loaded before are gone;
   * a later load starts new workers (a backend's default export is shared by every engine of the
   * process, so one engine closing must not break the next).
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
    const { backend, settings: s, url, workerData } = this.options;
    const name = backend.toLowerCase();
    this.workers = new DeviceWorkers({
      size: s.threadsPerQueue,
      create: (device, index) =>
        new WorkerRpc({
          url,
          workerData,
          control: this.control,
          name: `respai-${name} ${device}#${index}`,
          onSpawn: async (call) => {
            await this.options.startup?.(call);
            // A new worker (first start, or after a crash or a timeout) loads every model of its device.
            for (const [id, { blob, extra }] of [...(this.stored.get(device) ?? [])]) {
              const bytes = new Uint8Array(blob);
              await call('load', [id, bytes, ...extra], [bytes.buffer]).catch((e: unknown) => {
                s.log.warn(`${backend}: a new worker could not reload a model`, { device, index, reason: (e as Error).message });
              });
            }
          },
          onLost: (reason) => s.log.warn(`${backend} worker lost`, { device, index, reason }),
        }),
    });
    return this.workers;
  }

  /** Loads model `id` into one worker; retries `retries` times when the worker dies meanwhile. */
  private async loadInto<I>(w: WorkerRpc, id: number, { blob, extra }: StoredModel, retries: number): Promise<I> {
    for (let attempt = 0; ; attempt++) {
      // Each worker gets a copy of its own, moved rather than cloned again.
      const bytes = new Uint8Array(blob);
      try {
        return await w.call<I>('load', [id, bytes, ...extra], { transfer: [bytes.buffer] });
      } catch (e) {
        if (e instanceof WorkerGoneError && attempt < retries) continue;
        throw e instanceof WorkerGoneError ? e : this.options.runtimeError(e);
      }
    }
  }
}

/** A queued run's worker went away before starting it: send the run again (the slot has a new worker). */
export class WorkerReplaced extends Error {
  override readonly name = 'WorkerReplaced';
}

interface StoredModel {
  readonly blob: Buffer;
  /** More arguments of the worker's `load` (TF: the INPUTS and OUTPUTS names). */
  readonly extra: readonly unknown[];
}

function ignoreGone(e: unknown): void {
  if (!(e instanceof WorkerGoneError)) throw e;
}

/** How a worker-thread backend's model crosses to its worker and back. */
export interface WorkerModelCodec<W, O> {
  /**
   * The worker's `run(id, wire)` argument for these inputs, and the buffers to move there (each a
   * copy of its own: stored tensors stay intact). Throws the backend's error for inputs the model
   * cannot take, before anything crosses.
   */
  encode(inputs: readonly Tensor[]): { wire: W; transfer: readonly TransferListItem[] };
  /** The worker's answer as output tensors (or the backend's error for outputs respai cannot hold). */
  decode(out: O): Tensor[];
}

/**
 * A model held by {@link WorkerModels}: its specs, runs that go to the worker of the run's slot,
 * and an unload when disposed. The backends that run models in worker threads (ONNX, TF, TFLITE)
 * differ only in their codec.
 */
export class WorkerModel<W, O> implements LoadedModel {
  private disposed = false;

  constructor(
    private readonly models: WorkerModels,
    private readonly ref: WorkerModelRef,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
    private readonly codec: WorkerModelCodec<W, O>,
  ) {}

  async run(inputs: readonly Tensor[], ctx: RunContext): Promise<Tensor[]> {
    for (let attempt = 0; ; attempt++) {
      if (this.disposed) fail(E.backendModelDisposed(this.models.backend));
      const { wire, transfer } = this.codec.encode(inputs);
      try {
        return this.codec.decode(await this.models.run<O>(this.ref, [wire], transfer, ctx.slot, ctx.queued));
      } catch (e) {
        // Its worker was lost (another run crashed it or timed out) before this run started.
        if (!(e instanceof WorkerReplaced) || attempt >= 2) throw e instanceof WorkerReplaced ? new RespaiError(E.workerLostBeforeRun(this.models.backend, e.message)) : e;
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.models.unload(this.ref);
  }
}

/** The bytes of `t` in an ArrayBuffer of their own, to move to a worker. */
export function ownBuffer(t: Tensor): ArrayBuffer {
  const data = new ArrayBuffer(t.data.length);
  new Uint8Array(data).set(t.data);
  return data;
}

/**
 * A runtime's error from a worker as the client's reply: a RespaiError keeps its text, anything
 * else becomes `format(message)` (the backend's cleaning of its runtime's message).
 */
export function workerRuntimeError(format: (message: string) => string): (e: unknown) => Error {
  return (e) => {
    if (RespaiError.isInstance(e)) return e;
    const message = e instanceof WorkerCallError || e instanceof Error ? e.message : String(e);
    return new RespaiError(format(message), { cause: e });
  };
}


/**
 * What the backends running models in worker threads (ONNX, TF, TFLITE) share: their models live in
 * a {@link WorkerModels} made from the settings `init` gives (a fresh one per init; models keep the
 * one that loaded them, so a handle from before a `dispose` gets the shut-down error), CPU devices
 * only, and a dispose that ends the workers. A subclass says how to start its workers and how to
 * load a model.
 */
export abstract class WorkerBackend implements Backend {
  readonly apiVersion = BACKEND_API_VERSION;
  abstract readonly name: BackendName;
  abstract readonly version: string;
  /** Each slot's worker holds this many runs: it starts the next the moment one ends. */
  readonly runsPerSlot = WORKER_RUNS_PER_SLOT;
  private current: WorkerModels | undefined;
  /** The settings of the latest `init` (runtime defaults before any). */
  protected settings: BackendSettings = DEFAULT_BACKEND_SETTINGS;

  /** The WorkerModels of the latest `init` (runtime defaults before any). */
  protected get models(): WorkerModels {
    return (this.current ??= this.workerModels(DEFAULT_BACKEND_SETTINGS));
  }

  init(settings: BackendSettings): void {
    this.settings = settings;
    this.current = this.workerModels(settings);
    if (settings.backendMemoryLimitMb > 0) {
      settings.log.warn(`${this.name}: BACKEND_MEMORY_LIMIT is only checked against model sizes; the runtime cannot cap the memory it allocates`, {
        backendMemoryLimitMb: settings.backendMemoryLimitMb,
      });
    }
  }

  supportsDevice(device: Device): boolean {
    return device.type === 'CPU';
  }

  abstract loadModel(request: ModelLoadRequest): Promise<LoadedModel>;

  /** Terminates every worker, each once its current call returned; a later load starts new ones. */
  dispose(): Promise<void> {
    return this.models.dispose();
  }

  /** The WorkerModels for these settings (its worker module, worker data and error mapping). */
  protected abstract workerModels(settings: BackendSettings): WorkerModels;
}
