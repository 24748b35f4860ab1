import { E, RespaiError, boundedMessage, clientError, echo, fail } from '../errors.js';
import { BackendLoadError, BackendRegistry } from '../backend/registry.js';
import { DEFAULT_BACKEND_SETTINGS } from '../backend/spi.js';
import type {
  Backend,
  BackendLogger,
  BackendName,
  BackendSettings,
  Device,
  LoadedModel,
  LoadedScript,
  ScriptArg,
  ScriptHost,
  ScriptParamType,
  ScriptReply,
} from '../backend/spi.js';
import type { Key, Keyspace, Value } from '../keyspace/keyspace.js';
import type { Tensor } from '../tensor/index.js';
import type { DagOp, DagRequest, DagResult, OpResult, ScriptInput } from './dag.js';
import { Model, type ModelMeta } from './model.js';
import { Script } from './script.js';
import { Cancelled, RunQueue, TimedOut, withdrawJob, type Job, type Lane, type ModelJob, type TaskJob } from './queue.js';
import type { RunObserver } from './observe.js';

/** The engine's settings (RedisAI's module configuration). */
export interface EngineConfig {
  /** Where LOADBACKEND paths and backend package names resolve from. */
  backendsPath: string;
  /** MODELGET replies a model of at least this many bytes as an array of chunks. */
  modelChunkSize: number;
  threadsPerQueue: number;
  intraOpParallelism: number;
  interOpParallelism: number;
  modelExecutionTimeoutMs: number;
  backendMemoryLimitMb: number;
}

/** The original's defaults: MODEL_CHUNK_SIZE 511 MiB, the rest as a backend's (DEFAULT_BACKEND_SETTINGS). */
export const DEFAULT_ENGINE_CONFIG: Readonly<Omit<EngineConfig, 'backendsPath'>> = {
  modelChunkSize: 535822336,
  threadsPerQueue: DEFAULT_BACKEND_SETTINGS.threadsPerQueue,
  intraOpParallelism: DEFAULT_BACKEND_SETTINGS.intraOpParallelism,
  interOpParallelism: DEFAULT_BACKEND_SETTINGS.interOpParallelism,
  modelExecutionTimeoutMs: DEFAULT_BACKEND_SETTINGS.modelExecutionTimeoutMs,
  backendMemoryLimitMb: DEFAULT_BACKEND_SETTINGS.backendMemoryLimitMb,
};

export interface EngineOptions {
  keyspace: Keyspace;
  config: Partial<EngineConfig> & { backendsPath: string };
  log: BackendLogger;
  /** Package overrides for lazily loaded backends. */
  backendPackages?: Partial<Record<BackendName, string>>;
  /**
   * Runs a Redis command for a script (`redis.execute`), restricted to the script's KEYS; the
   * server provides it. Without it, scripts that call redis.execute get an error.
   */
  scriptCommands?: (args: readonly (string | Buffer)[], keys: readonly string[], caller: unknown) => Promise<ScriptReply>;
}

/**
 * Stores a loaded model or script (see {@link Engine.prepareStoreModel}); called exactly once.
 * WRONGTYPE if the key now holds another type (the value is then freed).
 */
export type PreparedStore = () => void;

/** AI.SCRIPTSTORE's request after parsing. */
export interface ScriptSpec {
  readonly device: Device;
  readonly tag: Buffer;
  readonly entryPoints: readonly string[];
  readonly source: string;
}

/** AI.MODELSTORE's request after parsing. */
export interface ModelSpec {
  readonly backend: BackendName;
  readonly device: Device;
  readonly tag: Buffer;
  readonly batchSize: number;
  readonly minBatchSize: number;
  readonly minBatchTimeout: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly blob: Buffer;
}

/**
 * The engine: backends, run queues and the DAG executor over a keyspace. Everything the server
 * does with models goes through here, so the engine is usable as a library without any server.
 */
export class Engine {
  readonly config: EngineConfig;
  readonly registry: BackendRegistry;
  readonly keyspace: Keyspace;
  private readonly queues = new Map<string, RunQueue>();
  private readonly log: BackendLogger;
  private readonly scriptCommands: EngineOptions['scriptCommands'];
  private runObserver: RunObserver | undefined;

  /** [observe] Told of every settled run (the server's metrics); undefined = off. */
  get observer(): RunObserver | undefined {
    return this.runObserver;
  }
  set observer(o: RunObserver | undefined) {
    this.runObserver = o;
    for (const q of this.queues.values()) q.observer = o;
  }

  constructor(options: EngineOptions) {
    this.config = { ...DEFAULT_ENGINE_CONFIG, ...options.config };
    this.keyspace = options.keyspace;
    this.log = options.log;
    this.scriptCommands = options.scriptCommands;
    this.registry = new BackendRegistry({
      backendsPath: () => this.config.backendsPath,
      settings: () => this.settings(),
      ...(options.backendPackages === undefined ? {} : { defaults: options.backendPackages }),
    });
  }

  /**
   * This engine (its backends, queues, batching, configuration) seen over another keyspace: every
   * keyspace read and write of a call on the view goes to `keyspace`. The external keyspace
   * (docs/scale-out.md) runs each AI command over a request-local overlay of the store's values
   * this way, so the run path is the embedded one, unchanged. A view is a plain object whose
   * prototype is the engine: cheap, and state stays shared (no `#private` fields in Engine).
   */
  over(keyspace: Keyspace): Engine {
    return Object.create(this, { keyspace: { value: keyspace } }) as Engine;
  }

  private settings(): BackendSettings {
    const c = this.config;
    return {
      intraOpParallelism: c.intraOpParallelism,
      interOpParallelism: c.interOpParallelism,
      modelExecutionTimeoutMs: c.modelExecutionTimeoutMs,
      backendMemoryLimitMb: c.backendMemoryLimitMb,
      threadsPerQueue: c.threadsPerQueue,
      log: this.log,
    };
  }

  /** AI.CONFIG LOADBACKEND; the reason for a failure is logged, the reply is the catalog's. */
  async loadBackend(name: BackendName, path: string): Promise<Backend> {
    try {
      const b = await this.registry.load(name, path);
      this.log.info('backend loaded', { backend: name, path, version: b.version });
      return b;
    } catch (e) {
      this.log.warn('error loading backend', { backend: name, path, reason: (e as Error).message });
      throw new RespaiError(E.loadBackend, { cause: e });
    }
  }

  /** The backend for `name`, loading its default package on first use. */
  async backend(name: BackendName): Promise<Backend> {
    try {
      return await this.registry.get(name);
    } catch (e) {
      if (!(e instanceof BackendLoadError)) throw e;
      this.log.warn('could not load backend', { backend: name, reason: e.message });
      throw new RespaiError(E.lazyLoadBackend, { cause: e });
    }
  }

  /** Loads a model through its backend (validating it), without storing it. */
  async createModel(spec: ModelSpec): Promise<Model> {
    const backend = await this.backend(spec.backend);
    if (!backend.supportsDevice(spec.device)) fail(E.noGpu(spec.backend));
    let handle: LoadedModel;
    try {
      handle = await backend.loadModel({
        blob: spec.blob,
        device: spec.device,
        inputs: spec.inputs,
        outputs: spec.outputs,
        batchSize: spec.batchSize,
      });
    } catch (e) {
      throw this.refused('model', spec.backend, e);
    }
    const named = spec.backend === 'TF';
    const meta: ModelMeta = {
      backend: spec.backend,
      device: spec.device,
      tag: spec.tag,
      batchSize: spec.batchSize,
      minBatchSize: spec.minBatchSize,
      minBatchTimeout: spec.minBatchTimeout,
      inputs: named ? spec.inputs : handle.inputs.map((s) => s.name),
      outputs: named ? spec.outputs : handle.outputs.map((s) => s.name),
    };
    return new Model(meta, spec.blob, handle, this.lane(backend));
  }

  /** AI.MODELSTORE: WRONGTYPE unless the key is empty or a model; replaces atomically when loaded. */
  async storeModel(key: Key, spec: ModelSpec): Promise<void> {
    (await this.prepareStoreModel(key, spec))();
  }

  /**
   * AI.MODELSTORE in two halves: loads the model (nothing visible changes), then the returned
   * commit stores it in one synchronous step (checking the key's type again: it may have changed).
   */
  async prepareStoreModel(key: Key, spec: ModelSpec): Promise<PreparedStore> {
    this.keyspace.getTyped(key, 'model');
    return this.preparedStore(key, 'model', await this.createModel(spec));
  }

  /** The model at `key` or `ERR model key is empty` (WRONGTYPE for another type). */
  model(key: Key): Model {
    const m = this.keyspace.getTyped(key, 'model');
    if (m === undefined) fail(E.modelEmpty);
    return m;
  }

  /** AI.SCRIPTSTORE / AI.SCRIPTSET: compiles through TORCH; WRONGTYPE unless empty or a script. */
  async storeScript(key: Key, spec: ScriptSpec): Promise<void> {
    (await this.prepareStoreScript(key, spec))();
  }

  /** AI.SCRIPTSTORE in two halves, as {@link prepareStoreModel}. */
  async prepareStoreScript(key: Key, spec: ScriptSpec): Promise<PreparedStore> {
    this.keyspace.getTyped(key, 'script');
    return this.preparedStore(key, 'script', await this.createScript(spec));
  }

  /** Compiles a script through TORCH (checking its entry points), without storing it. */
  async createScript(spec: ScriptSpec): Promise<Script> {
    const backend = await this.backend('TORCH');
    if (backend.loadScript === undefined) fail(E.noScriptSupport);
    if (!backend.supportsDevice(spec.device)) fail(E.noGpu('TORCH'));
    let handle: LoadedScript;
    try {
      handle = await backend.loadScript({ source: spec.source, device: spec.device, entryPoints: spec.entryPoints });
    } catch (e) {
      throw this.refused('script', 'TORCH', e);
    }
    const missing = spec.entryPoints.filter((f) => !handle.functions.includes(f));
    if (missing.length > 0) {
      await handle.dispose();
      fail(E.functionMissing(echo(missing[0]!)));
    }
    return new Script(spec, spec.source, handle, this.lane(backend));
  }

  private preparedStore<T extends 'model' | 'script'>(key: Key, type: T, value: T extends 'model' ? Model : Script): PreparedStore {
    return () => {
      try {
        this.keyspace.getTyped(key, type);
      } catch (e) {
        value.release();
        throw e;
      }
      this.keyspace.set(key, { type, value } as Value);
    };
  }

  /**
   * A backend's refusal of a model or script, as the client's error (see `clientError`): the
   * client gets it, the log a bounded debug line.
   */
  private refused(what: 'model' | 'script', backend: BackendName, e: unknown): RespaiError {
    const err = clientError(e);
    this.log.debug(`${backend} refused the ${what}`, { reason: boundedMessage(err.message, 512) });
    return err;
  }

  /** The script at `key` or `ERR script key is empty` (WRONGTYPE for another type). */
  script(key: Key): Script {
    const s = this.keyspace.getTyped(key, 'script');
    if (s === undefined) fail(E.scriptEmpty);
    return s;
  }

  private readonly lanes = new Map<string, Lane>();

  /** The run queue's view of a backend: its name and how many runs of a slot it queues itself. */
  private lane(b: Backend): Lane {
    let l = this.lanes.get(b.name);
    if (l === undefined || l.runsPerSlot !== Math.max(1, b.runsPerSlot ?? 1)) {
      l = { name: b.name, runsPerSlot: Math.max(1, b.runsPerSlot ?? 1) };
      this.lanes.set(b.name, l);
    }
    return l;
  }

  private queue(device: string): RunQueue {
    let q = this.queues.get(device);
    if (q === undefined) {
      q = new RunQueue(device, this.config.threadsPerQueue);
      q.observer = this.runObserver;
      this.queues.set(device, q);
    }
    return q;
  }

  /** Per device, for INFO: requests waiting, slots running, and the batches BATCHSIZE models formed. */
  queueStats(): { device: string; queued: number; running: number; batchRuns: number; batchRequests: number }[] {
    return [...this.queues.values()].map((q) => ({
      device: q.device,
      queued: q.length,
      running: q.busy,
      batchRuns: q.batchRuns,
      batchRequests: q.batchRequests,
    }));
  }

  /**
   * Runs a DAG. Everything that can be checked is checked before any op runs (missing keys,
   * models, names); then ops run as soon as their inputs are ready, in parallel across devices.
   * PERSIST writes happen together, after every op succeeded.
   */
  runDag(req: DagRequest): Promise<DagResult> {
    const plan = this.plan(req);
    return this.execute(req, plan);
  }

  /** Resolves LOAD keys, models and DAG names on the event loop, before anything is queued. */
  private plan(req: DagRequest): Plan {
    const names = new Map<string, Cell>();
    const checkKey = req.checkKey;
    if (checkKey !== undefined) checkDagKeys(req, checkKey);
    for (const key of req.load) {
      const t = this.keyspace.getTyped(key, 'tensor');
      if (t === undefined) fail(E.tensorEmpty);
      names.set(key, Cell.of(t));
    }
    const cell = (name: string): Cell => {
      let c = names.get(name);
      if (c === undefined && req.implicitLoad) {
        // One-op commands read their inputs straight from the keyspace.
        checkKey?.(name);
        const t = this.keyspace.getTyped(name, 'tensor');
        if (t === undefined) fail(E.tensorEmpty);
        c = Cell.of(t);
        names.set(name, c);
      }
      if (c === undefined) fail(E.dagInputMissing);
      return c;
    };
    const planned: PlannedOp[] = [];
    const models: (Model | Script)[] = [];
    try {
      for (const op of req.ops) {
        switch (op.op) {
          case 'tensorset': {
            const out = Cell.of(op.tensor);
            names.set(op.output, out);
            planned.push({ op, inputs: [], outputs: [out] });
            break;
          }
          case 'tensorget':
            planned.push({ op, inputs: [cell(op.input)], outputs: [] });
            break;
          case 'modelexecute': {
            const model = this.model(op.key);
            if (op.inputs.length !== model.meta.inputs.length) fail(E.inputCountMismatch);
            if (op.outputs.length !== model.meta.outputs.length) fail(E.outputCountMismatch);
            models.push(model.retain());
            const inputs = op.inputs.map(cell);
            const outputs = op.outputs.map(() => new Cell());
            op.outputs.forEach((n, i) => names.set(n, outputs[i]!));
            planned.push({ op, inputs, outputs, model });
            break;
          }
          case 'scriptexecute': {
            const script = this.script(op.key);
            const bound = bindScriptArgs(script, op.fn, op.inputs, op.keys, op.args, cell);
            models.push(script.retain());
            const outputs = op.outputs.map(() => new Cell());
            op.outputs.forEach((n, i) => names.set(n, outputs[i]!));
            planned.push({ op, inputs: bound.cells, outputs, script, bind: bound.bind });
            break;
          }
        }
      }
      for (const key of req.persist) {
        if (!names.has(key)) fail(E.dagPersistMissing);
        this.keyspace.getTyped(key, 'tensor');
      }
    } catch (e) {
      for (const m of models) m.release();
      throw e;
    }
    // The version each PERSIST name has at the end of the DAG is the one written.
    return { ops: planned, persist: req.persist.map((k) => [k, names.get(k)!] as const) };
  }

  private execute(req: DagRequest, plan: Plan): Promise<DagResult> {
    return new Promise<DagResult>((resolve, reject) => new DagRun(this, req, plan, resolve, reject).start());
  }

  /** Queues a model run of a DAG op. */
  enqueueModel(model: Model, inputs: Tensor[], deadline: number, settle: (out: Tensor[] | undefined, error: unknown) => void, key = ''): Job {
    const job: ModelJob = {
      kind: 'model',
      key,
      model,
      inputs,
      lane: model.lane,
      enqueuedAt: Date.now(),
      deadline,
      cancelled: false,
      resolve: (t) => {
        if (t.length !== model.meta.outputs.length) {
          settle(undefined, new RespaiError(E.modelOutputCount(t.length, model.meta.outputs.length)));
        } else settle(t, undefined);
      },
      reject: (e) => settle(undefined, e),
    };
    this.queue(model.meta.device.name).push(job);
    return job;
  }

  /** Queues a script function run of a DAG op. */
  enqueueScript(
    caller: unknown,
    script: Script,
    op: Extract<DagOp, { op: 'scriptexecute' }>,
    args: ScriptArg[],
    deadline: number,
    settle: (out: Tensor[] | undefined, error: unknown) => void,
    checkKey?: (key: string) => void,
  ): Job {
    const host = this.scriptHost(op.keys, caller, checkKey);
    const job: TaskJob = {
      kind: 'task',
      key: op.key,
      lane: script.lane,
      enqueuedAt: Date.now(),
      deadline,
      cancelled: false,
      stats: script.stats,
      run: async (slot, queued) => {
        const out = await script.handle.run(op.fn, args, op.keys, host, queued === undefined ? { slot } : { slot, queued });
        if (out.length < op.outputs.length) {
          fail(E.scriptOutputCount(op.fn, out.length, op.outputs.length));
        }
        return out.length === op.outputs.length ? out : out.slice(0, op.outputs.length);
      },
      resolve: (t) => settle(t, undefined),
      reject: (e) => settle(undefined, e),
    };
    this.queue(script.meta.device.name).push(job);
    return job;
  }

  private scriptHost(keys: readonly string[], caller: unknown, checkKey: ((key: string) => void) | undefined): ScriptHost {
    return {
      execute: (cmd) => {
        if (this.scriptCommands === undefined) return Promise.reject(new Error('redis.execute is not available here'));
        return this.scriptCommands(cmd, keys, caller);
      },
      modelExecute: async (key, inputs, nOutputs) => {
        checkKey?.(key);
        const m = this.model(key);
        if (inputs.length !== m.meta.inputs.length) fail(E.inputCountMismatch);
        // Straight to the runtime: queueing behind the script that waits for it would deadlock.
        const out = await m.handle.run(inputs, { slot: 0 });
        if (out.length !== nOutputs) fail(E.scriptModelOutputCount(key, out.length, nOutputs));
        return out;
      },
    };
  }

  /** Stops every queue (shutdown) and frees the backends. */
  async close(): Promise<void> {
    for (const q of this.queues.values()) q.clear(new Cancelled());
    await this.registry.dispose();
  }
}

/**
 * A DAG-local tensor version: set once by the op producing it (null when that op failed or never
 * ran). Ops waiting for it are told by index, not through promises: a one-op command pays nothing.
 */
class Cell {
  /** undefined: not produced yet; null: its op failed. */
  value: Tensor | null | undefined;
  /** Indices of the ops that wait for this cell. */
  waiters: number[] | undefined;

  static of(t: Tensor): Cell {
    const c = new Cell();
    c.value = t;
    return c;
  }
}

interface PlannedOp {
  op: DagOp;
  inputs: Cell[];
  outputs: Cell[];
  model?: Model;
  script?: Script;
  /** Scripts: builds the function's arguments from the resolved input tensors. */
  bind?: (tensors: Tensor[]) => ScriptArg[];
}

const ENTRY_POINT_SIGNATURE = ['List[Tensor]', 'List[str]', 'List[str]'];

/**
 * Binds AI.SCRIPTEXECUTE's INPUTS / LIST_INPUTS / KEYS / ARGS to the function's parameters by
 * type: tensor parameters take DAG tensor names, the others literals. Entry points of signature
 * (tensors: List[Tensor], keys: List[str], args: List[str]) take every input as a tensor.
 */
function bindScriptArgs(
  script: Script,
  fn: string,
  inputs: readonly ScriptInput[],
  keys: readonly string[],
  args: readonly string[],
  cell: (name: string) => Cell,
): { cells: Cell[]; bind: (tensors: Tensor[]) => ScriptArg[] } {
  const sig = script.handle.signature(fn);
  if (sig === undefined) fail(E.functionMissing(fn));
  const cells: Cell[] = [];
  const tensorAt = (name: string): number => cells.push(cell(name)) - 1;
  if (sig.length === 3 && sig.every((t, i) => t === ENTRY_POINT_SIGNATURE[i])) {
    const idx = inputs.flatMap((x) => ('value' in x ? [x.value] : x.list)).map(tensorAt);
    return { cells, bind: (t) => [idx.map((i) => t[i]!), [...keys], [...args]] };
  }
  if (inputs.length !== sig.length) {
    fail(E.scriptInputCount(fn, sig.length, inputs.length));
  }
  const binders = sig.map((type, n): ((t: Tensor[]) => ScriptArg) => {
    const input = inputs[n]!;
    const values = 'value' in input ? [input.value] : input.list;
    const one = (): string => {
      if (!('value' in input)) fail(E.scriptArgListGiven(n + 1, fn));
      return input.value;
    };
    switch (type as ScriptParamType) {
      case 'Tensor': {
        const i = tensorAt(one());
        return (t) => t[i]!;
      }
      case 'List[Tensor]': {
        const idx = values.map(tensorAt);
        return (t) => idx.map((i) => t[i]!);
      }
      case 'int':
      case 'bool': {
        const v = literalInt(one(), fn, n);
        return () => v;
      }
      case 'float': {
        const v = literalFloat(one(), fn, n);
        return () => v;
      }
      case 'List[int]': {
        const v = values.map((x) => literalInt(x, fn, n));
        return () => v;
      }
      case 'List[float]': {
        const v = values.map((x) => literalFloat(x, fn, n));
        return () => v;
      }
      case 'List[str]': {
        const v = [...values];
        return () => v;
      }
      default: {
        const v = one();
        return () => v;
      }
    }
  });
  return { cells, bind: (t) => binders.map((b) => b(t)) };
}

function literalInt(s: string, fn: string, n: number): number {
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) fail(E.scriptArgNotInt(n + 1, fn, s));
  return Number(s);
}

function literalFloat(s: string, fn: string, n: number): number {
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) fail(E.scriptArgNotFloat(n + 1, fn, s));
  return v;
}

/**
 * [acl] The keyspace keys a DAG names, checked before anything runs: LOAD and PERSIST keys,
 * models, scripts and a script op's KEYS (one-op commands' inputs are checked as they are read).
 */
function checkDagKeys(req: DagRequest, check: (key: string) => void): void {
  req.load.forEach(check);
  req.persist.forEach(check);
  for (const op of req.ops) {
    if (op.op === 'modelexecute') check(op.key);
    else if (op.op === 'scriptexecute') {
      check(op.key);
      op.keys.forEach(check);
    }
  }
}

interface Plan {
  ops: PlannedOp[];
  persist: (readonly [string, Cell])[];
}

/**
 * One DAG in flight: starts each op when its inputs are ready (ops on different devices run in
 * parallel), writes the PERSIST keys in one synchronous step once every op succeeded, and ends
 * early when its client goes away or its TIMEOUT passes with an op not started.
 */
class DagRun {
  private readonly results: OpResult[];
  private readonly jobs: (Job | undefined)[];
  /** Per op: inputs not produced yet, then -1 once started, -2 once done. */
  private readonly pending: number[];
  private remaining: number;
  private failed = false;
  private finished = false;
  private readonly deadline: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.finish({ timedOut: true });

  constructor(
    private readonly engine: Engine,
    private readonly req: DagRequest,
    private readonly plan: Plan,
    private readonly resolve: (r: DagResult) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    const n = plan.ops.length;
    this.results = new Array<OpResult>(n);
    this.jobs = new Array<Job | undefined>(n);
    this.pending = new Array<number>(n);
    this.remaining = n;
    this.deadline = req.timeoutMs !== undefined && req.timeoutMs > 0 ? Date.now() + req.timeoutMs : Infinity;
  }

  start(): void {
    const { req, plan } = this;
    if (plan.ops.length === 0) return this.finish({ timedOut: false, results: [] });
    if (req.signal?.aborted === true) return this.onAbort();
    req.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (req.owner !== undefined) req.owner.cancel = this.onAbort;
    if (this.deadline !== Infinity) {
      this.timer = setTimeout(() => this.onDeadline(), this.deadline - Date.now());
      this.timer.unref();
    }
    plan.ops.forEach((p, i) => {
      this.results[i] = NA;
      let waiting = 0;
      for (const c of p.inputs) {
        if (c.value !== undefined) continue;
        waiting++;
        (c.waiters ??= []).push(i);
      }
      this.pending[i] = waiting;
    });
    for (let i = 0; i < plan.ops.length && !this.finished; i++) if (this.pending[i] === 0) this.startOp(i);
  }

  /** Ops that have not started by the deadline never will: the DAG times out. */
  private onDeadline(): void {
    this.timer = undefined;
    let notStarted = false;
    this.plan.ops.forEach((_, i) => {
      if (this.pending[i]! >= 0) notStarted = true;
      else if (this.pending[i] === -1) {
        const job = this.jobs[i];
        if (job !== undefined && withdrawJob(job)) notStarted = true;
      }
    });
    if (notStarted) this.finish({ timedOut: true });
  }

  private startOp(i: number): void {
    this.pending[i] = -1;
    const p = this.plan.ops[i]!;
    const inputs = p.inputs.map((c) => c.value);
    if (this.failed || inputs.some((t) => t === null)) return this.opDone(i, undefined, undefined);
    const tensors = inputs as Tensor[];
    const op = p.op;
    switch (op.op) {
      case 'tensorset':
        return this.opDone(i, [op.tensor], undefined);
      case 'tensorget':
        this.results[i] = { ok: true, tensor: tensors[0]!, format: op.format };
        return this.opDone(i, [], undefined);
      case 'modelexecute':
        this.jobs[i] = this.engine.enqueueModel(p.model!, tensors, this.deadline, (out, e) => this.opDone(i, out, e), op.key);
        return;
      case 'scriptexecute':
        this.jobs[i] = this.engine.enqueueScript(
          this.req.caller,
          p.script!,
          op,
          p.bind!(tensors),
          this.deadline,
          (out, e) => this.opDone(i, out, e),
          this.req.checkKey,
        );
        return;
    }
  }

  /** An op ended: with outputs, with an error, or (neither) not run because an input is missing. */
  private opDone(i: number, out: Tensor[] | undefined, error: unknown): void {
    if (this.finished || this.pending[i] === -2) return;
    this.pending[i] = -2;
    const p = this.plan.ops[i]!;
    if (error instanceof TimedOut || error instanceof Cancelled) return this.finish({ timedOut: true });
    if (out === undefined) {
      if (error !== undefined) {
        this.failed = true;
        this.results[i] = { ok: false, error: error as Error };
      }
    } else if (this.results[i] === NA) this.results[i] = OK_RESULT;
    p.outputs.forEach((c, n) => {
      c.value = out?.[n] ?? null;
      for (const w of c.waiters ?? []) if (--this.pending[w]! === 0 && !this.finished) this.startOp(w);
    });
    if (--this.remaining === 0) this.complete();
  }

  private complete(): void {
    if (this.finished) return;
    try {
      if (!this.failed) {
        // All or nothing, in one synchronous step: no client sees some keys written and not others.
        const ks = this.engine.keyspace;
        for (const [key, c] of this.plan.persist) ks.set(key, { type: 'tensor', value: c.value! });
      }
    } catch (e) {
      this.finish(undefined);
      this.reject(e);
      return;
    }
    this.finish({ timedOut: false, results: this.results });
  }

  /** Ends the DAG once: drops what has not started, frees its models, answers (unless `r` is undefined). */
  private finish(r: DagResult | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.req.signal?.removeEventListener('abort', this.onAbort);
    if (this.req.owner !== undefined && this.req.owner.cancel === this.onAbort) this.req.owner.cancel = undefined;
    for (let i = 0; i < this.jobs.length; i++) {
      const job = this.jobs[i];
      if (job !== undefined && this.pending[i] !== -2) withdrawJob(job);
    }
    for (const p of this.plan.ops) (p.model ?? p.script)?.release();
    if (r !== undefined) this.resolve(r);
  }
}

const NA: OpResult = { ok: 'NA' };
const OK_RESULT: OpResult = { ok: true };
