import {
  BACKEND_API_VERSION,
  RunNotStarted,
  type Backend,
  type BackendName,
  type BackendSettings,
  type Device,
  type LoadedModel,
  type ModelLoadRequest,
  type RunContext,
  type TensorSpec,
} from '../backend/spi.js';
import { DTYPE_NAMES, DTYPES, Tensor, type DType, type TensorView } from '../tensor/index.js';

/**
 * A deterministic in-process Backend for tests. Its "models" are tiny JSON blobs describing one op:
 *
 * | op         | inputs (default names) | outputs  | does                                                        |
 * |------------|------------------------|----------|-------------------------------------------------------------|
 * | `identity` | any count (`x`)        | (`y`)    | output k = input k mod n                                    |
 * | `add`      | 2 (`a`, `b`)           | 1 (`c`)  | element-wise a + b (numeric dtypes, same dtype and shape)   |
 * | `mul`      | 2 (`a`, `b`)           | 1 (`c`)  | element-wise a * b                                          |
 * | `sleep`    | like identity          |          | identity after `ms` (default 50) on a timer                  |
 * | `busy`     | like identity          |          | identity after blocking the event loop for `ms`              |
 * | `batchbad` | like identity          |          | output 0 has one row more than input 0 (breaks batching)     |
 * | `fail`     | like identity          |          | rejects with `message` (default `mock failure`)              |
 *
 * Any op may carry `ms` (a timer delay before computing) and `dtype` (the declared dtype of every
 * input and output: a run with another dtype rejects). `inputs` / `outputs` override the names.
 * Runs reject on a wrong input count, a wrong dtype, or after the model was disposed; garbage
 * blobs (not a JSON object with a known op) reject at load. Nothing ever throws synchronously.
 *
 * The backend counts what the engine did to it: init calls, loads, runs, concurrency (now and
 * peak, per backend and per model), the slot of every run, and two-runs-on-one-slot conflicts.
 */
export type MockOp = 'identity' | 'add' | 'mul' | 'sleep' | 'busy' | 'batchbad' | 'fail';

export const MOCK_OPS: readonly MockOp[] = ['identity', 'add', 'mul', 'sleep', 'busy', 'batchbad', 'fail'];

export interface MockModelDef {
  readonly op: MockOp;
  /** Delay before computing (ms); for `sleep` defaults to 50, for `busy` the time the loop blocks. */
  readonly ms?: number;
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  /** Declared dtype of every input and output; runs with another dtype reject. */
  readonly dtype?: DType;
  /** The error message of `fail`. */
  readonly message?: string;
}

/** The blob of a mock model. */
export function mockModelBlob(def: MockModelDef): Buffer {
  return Buffer.from(JSON.stringify(def), 'utf8');
}

/** Parses and validates a mock model blob; throws an Error naming what is wrong. */
export function parseMockModel(blob: Buffer): MockModelDef {
  if (!Buffer.isBuffer(blob) || blob.length === 0) throw new Error('mock: empty model blob');
  let def: unknown;
  try {
    def = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(blob));
  } catch (e) {
    throw new Error(`mock: model blob is not JSON: ${(e as Error).message}`);
  }
  if (typeof def !== 'object' || def === null || Array.isArray(def)) throw new Error('mock: model blob is not a JSON object');
  const d = def as Record<string, unknown>;
  if (typeof d['op'] !== 'string' || !MOCK_OPS.includes(d['op'] as MockOp)) throw new Error(`mock: unknown op ${JSON.stringify(d['op'])}`);
  if (d['ms'] !== undefined && (typeof d['ms'] !== 'number' || !Number.isFinite(d['ms']) || d['ms'] < 0)) {
    throw new Error('mock: ms must be a number >= 0');
  }
  for (const f of ['inputs', 'outputs'] as const) {
    const v = d[f];
    if (v !== undefined && (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))) throw new Error(`mock: ${f} must be a list of names`);
  }
  if (d['dtype'] !== undefined && !DTYPE_NAMES.includes(d['dtype'] as DType)) throw new Error(`mock: unknown dtype ${String(d['dtype'])}`);
  if (d['message'] !== undefined && typeof d['message'] !== 'string') throw new Error('mock: message must be a string');
  const op = d['op'] as MockOp;
  const binary = op === 'add' || op === 'mul';
  const inputs = (d['inputs'] as string[] | undefined) ?? (binary ? ['a', 'b'] : ['x']);
  const outputs = (d['outputs'] as string[] | undefined) ?? (binary ? ['c'] : ['y']);
  if (binary && inputs.length !== 2) throw new Error(`mock: ${op} takes 2 inputs`);
  if (binary && outputs.length !== 1) throw new Error(`mock: ${op} has 1 output`);
  if (outputs.length === 0) throw new Error('mock: a model needs at least one output');
  if (!binary && inputs.length === 0) throw new Error('mock: a model needs at least one input');
  if (binary && d['dtype'] !== undefined && DTYPES[d['dtype'] as DType].kind !== 'float' && DTYPES[d['dtype'] as DType].kind !== 'int') {
    throw new Error(`mock: ${op} needs a numeric dtype`);
  }
  return { ...(d as unknown as MockModelDef), inputs, outputs };
}

export interface MockBackendOptions {
  /** Default 'ONNX'. */
  name?: BackendName;
  /** Default '0.0.0-mock'. */
  version?: string;
  /** Whether GPU devices are supported (default false; CPU always is). */
  gpu?: boolean;
  /** Makes `init` reject with this message. */
  initError?: string;
  /** Delay of every `loadModel` (ms, on a timer). */
  loadDelayMs?: number;
  /**
   * Runs of one slot taken at once (Backend.runsPerSlot): above 1 the mock queues them per slot,
   * honouring QueuedRun (deadline, withdraw, computeUs) as a real backend must.
   */
  runsPerSlot?: number;
  /** With runsPerSlot > 1: the compute time every queued run reports (default: measured). */
  computeUs?: number;
}

/** One run as the mock saw it. */
export interface MockRunRecord {
  readonly model: MockModel;
  readonly slot: number;
  /** The inputs the run was given (a batched run: the merged tensors). */
  readonly inputs: readonly Tensor[];
  /** dim 0 of input 0 (1 for a scalar): the batch a batched run carried. */
  readonly batch: number;
  readonly startedAt: number;
  endedAt?: number;
  ok?: boolean;
}

export class MockBackend implements Backend {
  readonly apiVersion = BACKEND_API_VERSION;
  readonly name: BackendName;
  readonly version: string;
  readonly options: MockBackendOptions;

  /** The settings `init` received (the last call). */
  settings: BackendSettings | undefined;
  initCalls = 0;
  disposeCalls = 0;
  /** Every model loaded, in load order (disposed ones included). */
  readonly models: MockModel[] = [];
  /** Every load request, failed ones included. */
  readonly loadRequests: ModelLoadRequest[] = [];
  /** Every run, in start order. */
  readonly runLog: MockRunRecord[] = [];
  /** Runs in flight now / at most at once. */
  running = 0;
  maxRunning = 0;
  /** Runs that started on a (device, slot) another run was still using. */
  slotConflicts = 0;
  /** Queued runs (runsPerSlot > 1): given and not settled now, per `device#slot`, and the most at once. */
  readonly queuedNow = new Map<string, number>();
  maxQueued = 0;
  /** Queued runs that never started: past their deadline, or withdrawn. */
  readonly notStarted: RunNotStarted['reason'][] = [];
  private readonly slotsInUse = new Set<string>();
  /** Per `device#slot`: the end of the chain of queued runs. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  readonly runsPerSlot: number | undefined;

  constructor(options: MockBackendOptions = {}) {
    this.options = options;
    this.name = options.name ?? 'ONNX';
    this.version = options.version ?? '0.0.0-mock';
    if (options.runsPerSlot !== undefined) this.runsPerSlot = options.runsPerSlot;
  }

  /** @internal Runs `fn` after the runs queued before it on the same slot, as a QueuedRun. */
  queue<T>(key: string, q: NonNullable<RunContext['queued']>, fn: () => Promise<T>): Promise<T> {
    let state: 'waiting' | 'started' | 'withdrawn' = 'waiting';
    q.withdraw = () => {
      if (state !== 'waiting') return false;
      state = 'withdrawn';
      return true;
    };
    const n = (this.queuedNow.get(key) ?? 0) + 1;
    this.queuedNow.set(key, n);
    this.maxQueued = Math.max(this.maxQueued, n);
    const run = (this.lanes.get(key) ?? Promise.resolve()).then(async () => {
      if (state === 'withdrawn') throw new RunNotStarted('withdrawn');
      if (Date.now() >= q.deadline) throw new RunNotStarted('timeout');
      state = 'started';
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        q.computeUs = this.options.computeUs ?? Math.round((performance.now() - t0) * 1000);
      }
    });
    const settled = run.then(
      () => undefined,
      (e: unknown) => {
        if (e instanceof RunNotStarted) this.notStarted.push(e.reason);
      },
    );
    void settled.then(() => this.queuedNow.set(key, (this.queuedNow.get(key) ?? 1) - 1));
    this.lanes.set(key, settled);
    return run;
  }

  init(settings: BackendSettings): Promise<void> {
    this.initCalls++;
    this.settings = settings;
    if (this.options.initError !== undefined) return Promise.reject(new Error(this.options.initError));
    return Promise.resolve();
  }

  supportsDevice(device: Device): boolean {
    return device.type === 'CPU' || this.options.gpu === true;
  }

  async loadModel(request: ModelLoadRequest): Promise<LoadedModel> {
    this.loadRequests.push(request);
    if (this.options.loadDelayMs !== undefined) await delay(this.options.loadDelayMs);
    const def = parseMockModel(request.blob);
    const model = new MockModel(this, def, request.device);
    this.models.push(model);
    return model;
  }

  dispose(): void {
    this.disposeCalls++;
  }

  /** The slot of every run, in start order. */
  get slots(): number[] {
    return this.runLog.map((r) => r.slot);
  }

  get runs(): number {
    return this.runLog.length;
  }

  /** Models whose `dispose` was called. */
  get disposedModels(): MockModel[] {
    return this.models.filter((m) => m.disposeCalls > 0);
  }

  /** Forgets the counters (not the models). */
  resetCounters(): void {
    this.runLog.length = 0;
    this.maxRunning = this.running;
    this.slotConflicts = 0;
    for (const m of this.models) m.maxRunning = m.running;
  }

  /** @internal */
  enter(model: MockModel, slot: number, inputs: readonly Tensor[]): MockRunRecord {
    const rec: MockRunRecord = { model, slot, inputs, batch: inputs[0]?.shape[0] ?? 1, startedAt: Date.now() };
    this.runLog.push(rec);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const k = `${model.device.name}#${slot}`;
    if (this.slotsInUse.has(k)) this.slotConflicts++;
    this.slotsInUse.add(k);
    return rec;
  }

  /** @internal */
  leave(rec: MockRunRecord, ok: boolean): void {
    rec.endedAt = Date.now();
    rec.ok = ok;
    this.running--;
    this.slotsInUse.delete(`${rec.model.device.name}#${rec.slot}`);
  }
}

export class MockModel implements LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  runs = 0;
  running = 0;
  maxRunning = 0;
  disposeCalls = 0;
  /** True when `dispose` was called while a run was in flight (the engine must never do that). */
  disposedWhileRunning = false;
  /** dim 0 of input 0 for every run, in start order. */
  readonly batches: number[] = [];
  /** The slot of every run, in start order. */
  readonly slots: number[] = [];
  private gate: Promise<void> | undefined;

  constructor(
    readonly backend: MockBackend,
    readonly def: MockModelDef,
    readonly device: Device,
  ) {
    const spec = (name: string): TensorSpec => (def.dtype === undefined ? { name } : { name, dtype: def.dtype });
    this.inputs = (def.inputs ?? []).map(spec);
    this.outputs = (def.outputs ?? []).map(spec);
  }

  get disposed(): boolean {
    return this.disposeCalls > 0;
  }

  /**
   * Holds every run (those in flight and those to come) before it computes, until the returned
   * function is called: a run is then "running" for as long as a test needs, whatever the clock.
   */
  hold(): () => void {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = undefined;
      open();
    };
  }

  run(inputs: readonly Tensor[], ctx: RunContext): Promise<Tensor[]> {
    if (ctx.queued === undefined) return this.runNow(inputs, ctx);
    return this.backend.queue(`${this.device.name}#${ctx.slot}`, ctx.queued, () => this.runNow(inputs, ctx));
  }

  private async runNow(inputs: readonly Tensor[], ctx: RunContext): Promise<Tensor[]> {
    const rec = this.backend.enter(this, ctx.slot, inputs);
    this.runs++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.batches.push(rec.batch);
    this.slots.push(ctx.slot);
    let ok = false;
    try {
      const out = await this.compute(inputs);
      ok = true;
      return out;
    } finally {
      this.running--;
      this.backend.leave(rec, ok);
    }
  }

  private async compute(inputs: readonly Tensor[]): Promise<Tensor[]> {
    if (this.disposed) throw new Error('mock: run after dispose');
    if (inputs.length !== this.inputs.length) throw new Error(`mock: expected ${this.inputs.length} inputs, got ${inputs.length}`);
    const dtype = this.def.dtype;
    if (dtype !== undefined) {
      for (const t of inputs) if (t.dtype !== dtype) throw new Error(`mock: expected ${dtype} input, got ${t.dtype}`);
    }
    while (this.gate !== undefined) await this.gate;
    const { op } = this.def;
    const ms = this.def.ms ?? (op === 'sleep' ? 50 : 0);
    if (op === 'busy') {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // blocks the event loop on purpose
      }
    } else if (ms > 0) {
      await delay(ms);
    } else {
      await Promise.resolve();
    }
    if (this.disposed) throw new Error('mock: disposed during run');
    const n = this.outputs.length;
    switch (op) {
      case 'fail':
        throw new Error(this.def.message ?? 'mock failure');
      case 'add':
      case 'mul':
        return [elementwise(op, inputs[0]!, inputs[1]!)];
      case 'batchbad': {
        const out = passThrough(inputs, n);
        const first = out[0]!;
        const shape = first.shape.length === 0 ? [2] : [first.shape[0]! + 1, ...first.shape.slice(1)];
        out[0] = Tensor.zeros(first.dtype, shape);
        return out;
      }
      default:
        return passThrough(inputs, n);
    }
  }

  dispose(): void {
    this.disposeCalls++;
    if (this.running > 0) this.disposedWhileRunning = true;
  }
}

function passThrough(inputs: readonly Tensor[], n: number): Tensor[] {
  return Array.from({ length: n }, (_, k) => inputs[k % inputs.length]!);
}

function elementwise(op: 'add' | 'mul', a: Tensor, b: Tensor): Tensor {
  const kind = DTYPES[a.dtype].kind;
  if (kind !== 'float' && kind !== 'int') throw new Error(`mock: ${op} needs numeric tensors, got ${a.dtype}`);
  if (a.dtype !== b.dtype) throw new Error(`mock: ${op} of ${a.dtype} and ${b.dtype}`);
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`mock: ${op} of shapes [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  }
  const x = a.view();
  const y = b.view();
  const info = DTYPES[a.dtype];
  const out = new info.array(a.length);
  if (out instanceof BigInt64Array) {
    const p = x as BigInt64Array;
    const q = y as BigInt64Array;
    for (let i = 0; i < out.length; i++) out[i] = op === 'add' ? p[i]! + q[i]! : p[i]! * q[i]!;
  } else {
    const o = out as Exclude<TensorView, BigInt64Array>;
    const p = x as Exclude<TensorView, BigInt64Array>;
    const q = y as Exclude<TensorView, BigInt64Array>;
    for (let i = 0; i < o.length; i++) o[i] = op === 'add' ? p[i]! + q[i]! : p[i]! * q[i]!;
  }
  return Tensor.fromBlob(a.dtype, a.shape, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A mock backend; see {@link MockBackend}. */
export function createMockBackend(options: MockBackendOptions = {}): MockBackend {
  return new MockBackend(options);
}
