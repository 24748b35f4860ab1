import {
  Worker,
  parentPort,
  workerData,
  type ResourceLimits,
  type TransferListItem,
} from 'node:worker_threads';
import { RespaiError } from '../errors.js';
import { RUN_STARTED, claimRun, runControlViews, type RunControl } from './run-control.js';
import { RunNotStarted } from './spi.js';

/**
 * Worker threads for backends whose runtime computes synchronously on the calling thread
 * (onnxruntime-node, tfjs, LiteRT wasm): a small RPC over a `Worker`, and per-device pools of them.
 *
 * The caller side is {@link WorkerRpc}; the worker's module calls {@link serveWorker} with its
 * handlers. Arguments and results are structured-cloned; ArrayBuffers named in a transfer list move
 * without a copy. Errors thrown by a handler are re-thrown in the caller with their message (a
 * `RespaiError` stays one, so exact reply texts survive the thread hop).
 *
 * A native runtime must never be interrupted: `Worker.terminate()` while a handler is inside a
 * native call lets the call finish and then makes its return into JS fail, which aborts the whole
 * process (onnxruntime-node 1.30: "terminate called after throwing an instance of 'Napi::Error'").
 * So a worker is only ever terminated when idle: a call past its time limit *retires* its worker (the
 * caller is answered at once, a fresh worker takes over, the old one is terminated as soon as its
 * calls return), and at process exit the main thread waits (up to {@link EXIT_WAIT_MS}) for busy
 * workers to come back from native code.
 */

/** The worker went away (crashed, exited, replaced, closed) before answering. */
export class WorkerGoneError extends Error {
  override readonly name = 'WorkerGoneError';
}

/** A call ran longer than its `timeoutMs`; its worker was retired. */
export class WorkerTimeoutError extends Error {
  override readonly name = 'WorkerTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`worker call exceeded ${timeoutMs} ms`);
  }
}

/** An error a handler threw, re-thrown in the caller (`remoteName` is the original `name`). */
export class WorkerCallError extends Error {
  override readonly name = 'WorkerCallError';
  constructor(
    message: string,
    readonly remoteName: string,
  ) {
    super(message);
  }
}

/** How long process exit waits for workers inside native code before letting Node tear them down. */
export const EXIT_WAIT_MS = 10_000;

// ---- worker side ----------------------------------------------------------------------------

/** A handler's result with the buffers to move (not copy) back to the caller. */
export class Transfer<T> {
  constructor(
    readonly value: T,
    readonly list: readonly TransferListItem[],
  ) {}
}

/** Wraps a handler result so `list` (ArrayBuffers, ports) is transferred, not copied. */
export function transfer<T>(value: T, list: readonly TransferListItem[]): Transfer<T> {
  return new Transfer(value, list);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take whatever the caller sends
export type WorkerHandler = (...args: any[]) => unknown;

interface RpcRequest {
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
  /** A queued run (see CallOptions.queued): its control record (-1: none) and deadline. */
  readonly cell?: number;
  readonly deadline?: number;
}

type RpcReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: RemoteError }
  | { readonly id: number; readonly ok: false; readonly skipped: RunNotStarted['reason'] };

interface RemoteError {
  readonly name: string;
  readonly message: string;
  readonly respai: boolean;
}

interface RpcWorkerData {
  readonly rpcBusy: SharedArrayBuffer;
  readonly data: unknown;
  /** The RunControl buffer of queued runs. */
  readonly control?: { readonly sab: SharedArrayBuffer; readonly size: number };
}

/** In a worker started by {@link WorkerRpc}: the `workerData` its options gave. */
export function workerInput<T>(): T {
  return (workerData as RpcWorkerData).data as T;
}

/**
 * In a worker started by {@link WorkerRpc}: answers calls with `handlers[method](...args)`. A handler
 * may be async and may return `transfer(value, list)`.
 */
export function serveWorker(handlers: Readonly<Record<string, WorkerHandler>>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorker must run inside a worker thread');
  const wd = workerData as RpcWorkerData;
  // Counted while a handler runs, so the main thread can wait at exit for native calls to return.
  const busy = new Int32Array(wd.rpcBusy);
  const control = wd.control === undefined ? undefined : runControlViews(wd.control.sab, wd.control.size);

  const handle = async (req: RpcRequest, cell: number): Promise<void> => {
    Atomics.add(busy, 0, 1);
    let reply: RpcReply;
    let list: readonly TransferListItem[] = [];
    const t0 = performance.now();
    try {
      const handler = Object.hasOwn(handlers, req.method) ? handlers[req.method] : undefined;
      if (handler === undefined) throw new Error(`unknown worker method '${req.method}'`);
      let value = await handler(...req.args);
      if (value instanceof Transfer) {
        list = value.list;
        value = value.value;
      }
      reply = { id: req.id, ok: true, value };
    } catch (e) {
      reply = { id: req.id, ok: false, error: remoteError(e) };
    } finally {
      if (control !== undefined && cell >= 0) control.micros[cell] = Math.round((performance.now() - t0) * 1000);
      Atomics.sub(busy, 0, 1);
      Atomics.notify(busy, 0);
    }
    try {
      port.postMessage(reply, list);
    } catch (e) {
      port.postMessage({ id: req.id, ok: false, error: remoteError(e) } satisfies RpcReply);
    }
  };

  // Queued runs start one at a time, in the order they came: each is claimed (or found withdrawn,
  // or past its deadline) only when the one before it ended.
  let queue: Promise<void> = Promise.resolve();
  const startQueued = (req: RpcRequest): Promise<void> => {
    const cell = control === undefined ? -1 : (req.cell ?? -1);
    if (req.deadline !== undefined && Date.now() >= req.deadline) {
      port.postMessage({ id: req.id, ok: false, skipped: 'timeout' } satisfies RpcReply);
      return Promise.resolve();
    }
    if (control !== undefined && !claimRun(control, cell)) {
      port.postMessage({ id: req.id, ok: false, skipped: 'withdrawn' } satisfies RpcReply);
      return Promise.resolve();
    }
    return handle(req, cell);
  };
  port.on('message', (req: RpcRequest) => {
    if (req.cell !== undefined) queue = queue.then(() => startQueued(req));
    else void handle(req, -1);
  });
}

function remoteError(e: unknown): RemoteError {
  if (e instanceof Error) return { name: e.name, message: e.message, respai: RespaiError.isInstance(e) };
  return { name: 'Error', message: String(e), respai: false };
}

// ---- caller side ----------------------------------------------------------------------------

/** Calls a fresh worker directly, before other calls may reach it (for {@link WorkerRpcOptions.onSpawn}). */
export type DirectCall = (method: string, args?: readonly unknown[], transfer?: readonly TransferListItem[]) => Promise<unknown>;

export interface WorkerRpcOptions {
  /** The worker's module; it calls {@link serveWorker}. */
  readonly url: URL;
  /** Given to the worker, read there with {@link workerInput}. */
  readonly workerData?: unknown;
  /** Thread name (shows in debuggers and diagnostics). */
  readonly name?: string;
  /** V8 heap limits for the worker; they do not cover a native runtime's own memory. */
  readonly resourceLimits?: ResourceLimits;
  /**
   * Runs on every new worker before any queued call reaches it (e.g. to load the models it must
   * hold). If it throws, the waiting calls fail with its error and the worker is retired.
   */
  readonly onSpawn?: (call: DirectCall) => Promise<void>;
  /** Told when a worker exits unexpectedly or is retired, with why. */
  readonly onLost?: (reason: string) => void;
  /** The records of queued runs (CallOptions.queued), shared with every worker of this handle. */
  readonly control?: RunControl;
}

export interface CallOptions {
  /** ArrayBuffers (etc.) among `args` to move to the worker instead of copying. */
  readonly transfer?: readonly TransferListItem[];
  /** Rejects with {@link WorkerTimeoutError} past this many ms and retires the worker; 0 = none. */
  readonly timeoutMs?: number;
  /** false: when no worker is running, resolve undefined instead of starting one (for cleanup calls). */
  readonly spawn?: boolean;
  /**
   * A queued run: the worker starts such calls one at a time in order, each only if its record
   * (`cell` of the handle's RunControl, -1 for none) was not withdrawn and `deadline` has not
   * passed (else the call rejects with RunNotStarted). `timeoutMs` then counts from its start.
   */
  readonly queued?: { readonly cell: number; readonly deadline: number };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer?: NodeJS.Timeout;
  /** Queued runs under a time limit: checked by the life's watchdog from their start. */
  watch?: { readonly cell: number; readonly ms: number; readonly method: string };
}

/** One worker thread's life; a WorkerRpc goes through several when workers crash or time out. */
class Life {
  readonly pending = new Map<number, Pending>();
  /** Requests posted and not answered yet, including those whose callers were already rejected. */
  outstanding = 0;
  retired = false;
  exited = false;
  crash: string | undefined;
  ready: Promise<void> = Promise.resolve();
  readonly gone: Promise<void>;
  markGone!: () => void;
  /** Polls the start times of queued runs under a time limit (MODEL_EXECUTION_TIMEOUT). */
  watchdog: NodeJS.Timeout | undefined;
  watched = 0;

  constructor(
    readonly worker: Worker,
    readonly busy: Int32Array,
  ) {
    this.gone = new Promise((r) => (this.markGone = r));
  }
}

/**
 * The caller's end of one worker slot. The thread starts on the first call and is started again
 * on the next call after it crashed, exited or was retired; calls in flight when that happens are
 * rejected with {@link WorkerGoneError}. An idle worker does not keep the process alive.
 */
export class WorkerRpc {
  private life: Life | undefined;
  private readonly lives = new Set<Life>();
  private seq = 0;
  private closed = false;

  constructor(private readonly options: WorkerRpcOptions) {}

  /** Whether a worker thread is running (or starting) for this slot now. */
  get running(): boolean {
    return this.life !== undefined;
  }

  async call<T = unknown>(method: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<T> {
    for (;;) {
      if (this.closed) throw new WorkerGoneError('worker is closed');
      let life = this.life;
      if (life === undefined) {
        if (options.spawn === false) return undefined as T;
        life = this.spawn();
      }
      await life.ready;
      // The worker may have been replaced while we waited for it to come up.
      if (life === this.life) return this.post(life, method, args, options) as Promise<T>;
    }
  }

  /** Ends the worker: at once when idle, else as soon as its calls return. Resolves once it exited. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.life !== undefined) this.retire(this.life, 'closed');
    await Promise.all([...this.lives].map((l) => l.gone));
  }

  private spawn(): Life {
    const busy = new SharedArrayBuffer(4);
    const control = this.options.control;
    const data: RpcWorkerData = {
      rpcBusy: busy,
      data: this.options.workerData,
      ...(control === undefined ? {} : { control: { sab: control.sab, size: control.size } }),
    };
    const worker = new Worker(this.options.url, {
      workerData: data,
      execArgv: workerExecArgv(),
      ...(this.options.name === undefined ? {} : { name: this.options.name }),
      ...(this.options.resourceLimits === undefined ? {} : { resourceLimits: this.options.resourceLimits }),
    });
    worker.unref();
    const life = new Life(worker, new Int32Array(busy));
    this.life = life;
    this.lives.add(life);
    trackBusy(life.busy);

    worker.on('message', (reply: RpcReply) => this.onReply(life, reply));
    worker.on('error', (e: Error) => {
      life.crash = e.message;
    });
    worker.on('exit', (code: number) => {
      life.exited = true;
      untrackBusy(life.busy);
      this.lives.delete(life);
      const why = life.crash !== undefined ? `worker crashed: ${life.crash}` : `worker exited with code ${code}`;
      if (this.life === life) {
        this.life = undefined;
        this.options.onLost?.(why);
      }
      this.rejectAll(life, new WorkerGoneError(why));
      life.markGone();
    });

    const onSpawn = this.options.onSpawn;
    if (onSpawn !== undefined) {
      life.ready = onSpawn((method, args = [], list = []) => this.post(life, method, args, { transfer: list })).catch(
        (e: unknown) => {
          this.retire(life, `start-up failed: ${(e as Error).message}`);
          throw e;
        },
      );
      life.ready.catch(() => undefined);
    }
    return life;
  }

  private post(life: Life, method: string, args: readonly unknown[], options: CallOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (life.exited || life.retired) {
        reject(new WorkerGoneError(life.crash ?? 'worker is gone'));
        return;
      }
      const id = ++this.seq;
      const p: Pending = { resolve, reject };
      const ms = options.timeoutMs ?? 0;
      const q = options.queued;
      if (ms > 0 && q !== undefined && q.cell >= 0 && this.options.control !== undefined) {
        p.watch = { cell: q.cell, ms, method };
      } else if (ms > 0) {
        p.timer = setTimeout(() => {
          if (!life.pending.delete(id)) return;
          reject(new WorkerTimeoutError(ms));
          this.retire(life, `a '${method}' call exceeded ${ms} ms`);
        }, ms);
      }
      const req: RpcRequest = q === undefined ? { id, method, args } : { id, method, args, cell: q.cell, ...(q.deadline === Infinity ? {} : { deadline: q.deadline }) };
      try {
        life.worker.postMessage(req, options.transfer ?? []);
      } catch (e) {
        if (p.timer !== undefined) clearTimeout(p.timer);
        reject(e);
        return;
      }
      life.pending.set(id, p);
      if (p.watch !== undefined) this.watch(life, p.watch.ms);
      if (life.outstanding++ === 0) life.worker.ref();
    });
  }

  private onReply(life: Life, reply: RpcReply): void {
    if (--life.outstanding === 0) {
      life.worker.unref();
      // A retired worker is safe to stop only now: none of its handlers is inside native code.
      if (life.retired) void life.worker.terminate();
    }
    const p = life.pending.get(reply.id);
    if (p === undefined) return;
    life.pending.delete(reply.id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (p.watch !== undefined) this.unwatch(life);
    if (reply.ok) p.resolve(reply.value);
    else if ('skipped' in reply) p.reject(new RunNotStarted(reply.skipped));
    else p.reject(localError(reply.error));
  }

  /** Starts the life's watchdog: a queued run past its time limit since it started retires the worker. */
  private watch(life: Life, ms: number): void {
    life.watched++;
    if (life.watchdog !== undefined) return;
    const control = this.options.control!;
    life.watchdog = setInterval(
      () => {
        const now = Date.now();
        for (const [id, p] of life.pending) {
          const w = p.watch;
          if (w === undefined || Atomics.load(control.states, w.cell) !== RUN_STARTED) continue;
          const started = control.startedAt[w.cell]!;
          if (started === 0 || now - started < w.ms) continue;
          life.pending.delete(id);
          this.unwatch(life);
          p.reject(new WorkerTimeoutError(w.ms));
          this.retire(life, `a '${w.method}' call exceeded ${w.ms} ms`);
          return;
        }
      },
      Math.max(1, Math.min(100, Math.floor(ms / 4))),
    );
    life.watchdog.unref();
  }

  private unwatch(life: Life): void {
    if (--life.watched > 0 || life.watchdog === undefined) return;
    clearInterval(life.watchdog);
    life.watchdog = undefined;
  }

  /** Takes `life` out of service: later calls start a new worker; this one stops once idle. */
  private retire(life: Life, why: string): void {
    if (life.retired) return;
    life.retired = true;
    if (this.life === life) {
      this.life = undefined;
      if (why !== 'closed') this.options.onLost?.(`worker retired: ${why}`);
    }
    this.rejectAll(life, new WorkerGoneError(`worker retired: ${why}`));
    if (life.outstanding === 0) void life.worker.terminate();
  }

  private rejectAll(life: Life, error: Error): void {
    for (const p of life.pending.values()) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(error);
    }
    life.pending.clear();
    if (life.watchdog !== undefined) clearInterval(life.watchdog);
    life.watchdog = undefined;
    life.watched = 0;
  }
}

/** The process's Node options minus those a worker refuses (`--input-type` exists for `-e` only). */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--input-type') i++;
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}

function localError(e: RemoteError): Error {
  return e.respai ? new RespaiError(e.message) : new WorkerCallError(e.message, e.name);
}

// Process exit tears workers down; one still inside native code would abort the process, so wait.
const busyCounters = new Set<Int32Array>();
let exitHookInstalled = false;

function trackBusy(b: Int32Array): void {
  busyCounters.add(b);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', waitForIdleWorkers);
  }
}

function untrackBusy(b: Int32Array): void {
  busyCounters.delete(b);
}

function waitForIdleWorkers(): void {
  const deadline = Date.now() + EXIT_WAIT_MS;
  for (const b of busyCounters) {
    for (let v = Atomics.load(b, 0); v > 0; v = Atomics.load(b, 0)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(b, 0, v, left);
    }
  }
}

// ---- pools ----------------------------------------------------------------------------------

export interface DeviceWorkersOptions {
  /** Workers per device: THREADS_PER_QUEUE. */
  readonly size: number;
  /** Makes the handle for worker `index` of `device` (cheap: the thread starts on its first call). */
  readonly create: (device: string, index: number) => WorkerRpc;
}

/**
 * `size` workers per device string, so that engine slot k of device D always runs on worker k of D
 * (two slots of one queue never share a thread). Handles are made on first use of a device.
 */
export class DeviceWorkers {
  private readonly devices = new Map<string, WorkerRpc[]>();

  constructor(private readonly options: DeviceWorkersOptions) {}

  get size(): number {
    return Math.max(1, this.options.size);
  }

  /** Every worker of `device`, in slot order. */
  of(device: string): readonly WorkerRpc[] {
    let ws = this.devices.get(device);
    if (ws === undefined) {
      ws = Array.from({ length: this.size }, (_, i) => this.options.create(device, i));
      this.devices.set(device, ws);
    }
    return ws;
  }

  /** The worker that engine slot `slot` of `device` uses. */
  forSlot(device: string, slot: number): WorkerRpc {
    const ws = this.of(device);
    return ws[((slot % ws.length) + ws.length) % ws.length]!;
  }

  /** Devices that have workers. */
  list(): string[] {
    return [...this.devices.keys()];
  }

  /** Closes every worker (each once its calls returned). */
  async close(): Promise<void> {
    const all = [...this.devices.values()].flat();
    this.devices.clear();
    await Promise.all(all.map((w) => w.close()));
  }
}
