import { RespaiError, fail } from '../errors.js';
import type { BackendSettings } from './spi.js';
import type { TransferListItem } from 'node:worker_threads';
import { DeviceWorkers, WorkerGoneError, WorkerRpc, WorkerTimeoutError } from './workers.js';

/** Settings before `init` (runtime defaults, one slot per queue, no logging). */
export const DEFAULT_BACKEND_SETTINGS: BackendSettings = {
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 0,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 1,
  log: { debug() {}, info() {}, warn() {} },
};

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
}

/**
 * Models held by worker threads, THREADS_PER_QUEUE workers per device, each holding its own copy
 * of every model stored on that device, so engine slot k of a device runs on worker k without
 * waiting for the others. For runtimes that compute synchronously on the calling thread. A worker
 * that crashes or times out is replaced, and the new one reloads its device's models.
 */
export class WorkerModels {
  private workers: DeviceWorkers | undefined;
  /** Models by device, then id: what a new worker of that device must load. */
  private readonly stored = new Map<string, Map<number, Buffer>>();
  private nextId = 1;
  private heldBytes = 0;
  /** Bumped by dispose: models of an earlier generation lost their workers. */
  private generation = 0;

  constructor(private readonly options: WorkerModelsOptions) {}

  get disposedError(): string {
    return `ERR the ${this.options.backend} backend was shut down`;
  }

  /**
   * Loads `blob` on every worker of `device`. The first worker's answer (the model's description)
   * goes through `validate`; when that throws, the model is unloaded and nothing else loads it.
   */
  async load<I, T>(device: string, blob: Buffer, validate: (info: I) => T): Promise<{ ref: WorkerModelRef; value: T }> {
    const { backend, settings } = this.options;
    const pool = this.pool();
    const generation = this.generation;
    const cost = blob.length * pool.size;
    const limitMb = settings.backendMemoryLimitMb;
    if (limitMb > 0 && this.heldBytes + cost > limitMb * 2 ** 20) {
      fail(
        `ERR BACKEND_MEMORY_LIMIT (${limitMb} MB) exceeded: ${backend} ${this.options.holders ?? 'models'} would hold at least ${Math.ceil((this.heldBytes + cost) / 2 ** 20)} MB (model bytes x THREADS_PER_QUEUE)`,
      );
    }
    const id = this.nextId++;
    const workers = pool.of(device);
    // Validate once, on the first worker; the runtime's verdict is the same on the others.
    const info = await this.loadInto<I>(workers[0]!, id, blob, 1);
    let value: T;
    try {
      value = validate(info);
    } catch (e) {
      await workers[0]!.call('unload', [id], { spawn: false }).catch(() => undefined);
      throw e;
    }
    if (generation !== this.generation) fail(this.disposedError);
    const models = this.stored.get(device) ?? new Map<number, Buffer>();
    this.stored.set(device, models);
    models.set(id, blob);
    this.heldBytes += cost;
    const ref: WorkerModelRef = { device, id, cost, generation };
    try {
      // Workers that die meanwhile reload it from `stored` when they come back.
      await Promise.all(workers.slice(1).map((w) => this.loadInto(w, id, blob, 0).catch(ignoreGone)));
    } catch (e) {
      await this.unload(ref);
      throw e;
    }
    if (generation !== this.generation) fail(this.disposedError);
    return { ref, value };
  }

  /** Calls `run(id, ...args)` on the worker of `slot`, under MODEL_EXECUTION_TIMEOUT. */
  async run<R>(ref: WorkerModelRef, args: readonly unknown[], transfer: readonly TransferListItem[], slot: number): Promise<R> {
    const { backend, settings } = this.options;
    if (ref.generation !== this.generation || this.workers === undefined) fail(this.disposedError);
    const timeoutMs = settings.modelExecutionTimeoutMs;
    try {
      return await this.workers.forSlot(ref.device, slot).call<R>('run', [ref.id, ...args], { transfer, timeoutMs });
    } catch (e) {
      if (e instanceof WorkerTimeoutError) {
        settings.log.warn(`${backend} run exceeded MODEL_EXECUTION_TIMEOUT; its worker was replaced`, { device: ref.device, slot, timeoutMs });
        throw new RespaiError(`ERR ${backend} model run exceeded MODEL_EXECUTION_TIMEOUT (${timeoutMs} ms)`, { cause: e });
      }
      if (e instanceof WorkerGoneError) {
        throw new RespaiError(`ERR ${backend} worker ${slot} of ${ref.device} failed during the run: ${e.message}`, { cause: e });
      }
      throw this.options.runtimeError(e);
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
          name: `respai-${name} ${device}#${index}`,
          onSpawn: async (call) => {
            // A new worker (first start, or after a crash or a timeout) loads every model of its device.
            for (const [id, blob] of [...(this.stored.get(device) ?? [])]) {
              const bytes = new Uint8Array(blob);
              await call('load', [id, bytes], [bytes.buffer]).catch((e: unknown) => {
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
  private async loadInto<I>(w: WorkerRpc, id: number, blob: Buffer, retries: number): Promise<I> {
    for (let attempt = 0; ; attempt++) {
      // Each worker gets a copy of its own, moved rather than cloned again.
      const bytes = new Uint8Array(blob);
      try {
        return await w.call<I>('load', [id, bytes], { transfer: [bytes.buffer] });
      } catch (e) {
        if (e instanceof WorkerGoneError && attempt < retries) continue;
        throw e instanceof WorkerGoneError ? e : this.options.runtimeError(e);
      }
    }
  }
}

function ignoreGone(e: unknown): void {
  if (!(e instanceof WorkerGoneError)) throw e;
}
