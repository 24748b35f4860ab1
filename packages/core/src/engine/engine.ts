import { E, RespaiError, boundedMessage, clientError, fail } from '../errors.js';
import { BackendLoadError, BackendRegistry } from '../backend/registry.js';
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
import type { Key, Keyspace } from '../keyspace/keyspace.js';
import type { Tensor } from '../tensor/index.js';
import type { DagOp, DagRequest, DagResult, OpResult, ScriptInput } from './dag.js';
import { Model, type ModelMeta } from './model.js';
import { Script } from './script.js';
import { Cancelled, RunQueue, TimedOut, type Job } from './queue.js';

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

export const DEFAULT_ENGINE_CONFIG: Readonly<Omit<EngineConfig, 'backendsPath'>> = {
  modelChunkSize: 535822336,
  threadsPerQueue: 1,
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 5000,
  backendMemoryLimitMb: 0,
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
    return new Model(meta, spec.blob, handle);
  }

  /** AI.MODELSTORE: WRONGTYPE unless the key is empty or a model; replaces atomically when loaded. */
  async storeModel(key: Key, spec: ModelSpec): Promise<void> {
    this.keyspace.getTyped(key, 'model');
    const model = await this.createModel(spec);
    this.keyspace.set(key, { type: 'model', value: model });
  }

  /** The model at `key` or `ERR model key is empty` (WRONGTYPE for another type). */
  model(key: Key): Model {
    const m = this.keyspace.getTyped(key, 'model');
    if (m === undefined) fail(E.modelEmpty);
    return m;
  }

  /** AI.SCRIPTSTORE / AI.SCRIPTSET: compiles through TORCH; WRONGTYPE unless empty or a script. */
  async storeScript(key: Key, spec: ScriptSpec): Promise<void> {
    this.keyspace.getTyped(key, 'script');
    this.keyspace.set(key, { type: 'script', value: await this.createScript(spec) });
  }

  /** Compiles a script through TORCH (checking its entry points), without storing it. */
  async createScript(spec: ScriptSpec): Promise<Script> {
    const backend = await this.backend('TORCH');
    if (backend.loadScript === undefined) fail('ERR the loaded TORCH backend does not run scripts');
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
      fail(`ERR Function ${missing[0]} does not exist in the given script.`);
    }
    return new Script(spec, spec.source, handle);
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

  private queue(device: string): RunQueue {
    let q = this.queues.get(device);
    if (q === undefined) {
      q = new RunQueue(device, this.config.threadsPerQueue);
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
    for (const key of req.load) {
      const t = this.keyspace.getTyped(key, 'tensor');
      if (t === undefined) fail(E.tensorEmpty);
      names.set(key, Cell.of(t));
    }
    const cell = (name: string): Cell => {
      let c = names.get(name);
      if (c === undefined && req.implicitLoad) {
        // One-op commands read their inputs straight from the keyspace.
        const t = this.keyspace.getTyped(name, 'tensor');
        if (t === undefined) fail(E.tensorEmpty);
        c = Cell.of(t);
        names.set(name, c);
      }
      if (c === undefined) fail('ERR INPUT key cannot be found in DAG');
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
        if (!names.has(key)) fail('ERR PERSIST key cannot be found in DAG');
        this.keyspace.getTyped(key, 'tensor');
      }
    } catch (e) {
      for (const m of models) m.release();
      throw e;
    }
    // The version each PERSIST name has at the end of the DAG is the one written.
    return { ops: planned, persist: req.persist.map((k) => [k, names.get(k)!] as const) };
  }

  private execute(req: DagRequest, { ops: planned, persist }: Plan): Promise<DagResult> {
    return new Promise<DagResult>((resolveDag) => {
      const results: OpResult[] = planned.map(() => ({ ok: 'NA' }));
      const jobs = new Set<Job>();
      let failed = false;
      let finished = false;
      let started = 0;
      let remaining = planned.length;
      const deadline = req.timeoutMs !== undefined && req.timeoutMs > 0 ? Date.now() + req.timeoutMs : Infinity;
      let timer: NodeJS.Timeout | undefined;

      const finish = (r: DagResult) => {
        if (finished) return;
        finished = true;
        if (timer !== undefined) clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        for (const j of jobs) j.cancelled = true;
        for (const p of planned) (p.model ?? p.script)?.release();
        resolveDag(r);
      };
      const complete = () => {
        if (--remaining > 0 || finished) return;
        if (!failed) {
          // All or nothing, in one synchronous step: no client sees some keys written and not others.
          for (const [key, c] of persist) this.keyspace.set(key, { type: 'tensor', value: c.value! });
        }
        finish({ timedOut: false, results });
      };
      const onAbort = () => finish({ timedOut: true });
      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== Infinity) {
        timer = setTimeout(() => {
          // Ops that have not started by the deadline never will: the DAG times out.
          if (started < planned.length) finish({ timedOut: true });
        }, deadline - Date.now());
        timer.unref();
      }

      planned.forEach((p, i) => {
        void Promise.all(p.inputs.map((c) => c.ready)).then(async (inputs) => {
          if (finished) return;
          if (failed || inputs.some((t) => t === undefined)) {
            started++; // never queued: it must not make the DAG time out
            p.outputs.forEach((c) => c.set(undefined));
            complete();
            return;
          }
          try {
            const out = await this.runOp(p, inputs as Tensor[], deadline, jobs, () => started++, req.caller);
            out.forEach((t, n) => p.outputs[n]!.set(t));
            results[i] = p.op.op === 'tensorget' ? { ok: true, tensor: inputs[0]!, format: p.op.format } : { ok: true };
          } catch (e) {
            if (e instanceof TimedOut) return finish({ timedOut: true });
            // Cancelled by close(): settle the DAG (finish ignores repeats after a client abort).
            if (e instanceof Cancelled) return finish({ timedOut: true });
            failed = true;
            results[i] = { ok: false, error: e as Error };
            p.outputs.forEach((c) => c.set(undefined));
          }
          complete();
        });
      });
      if (planned.length === 0) finish({ timedOut: false, results });
    });
  }

  private runOp(
    p: PlannedOp,
    inputs: Tensor[],
    deadline: number,
    jobs: Set<Job>,
    onStart: () => void,
    caller: unknown,
  ): Promise<Tensor[]> {
    const op = p.op;
    if (op.op === 'tensorset') {
      onStart();
      return Promise.resolve([op.tensor]);
    }
    if (op.op === 'scriptexecute' && p.script !== undefined && p.bind !== undefined) {
      return this.runScript(caller, p.script, op, p.bind(inputs), deadline, jobs, onStart);
    }
    if (op.op === 'tensorget' || p.model === undefined) {
      onStart();
      return Promise.resolve([]);
    }
    const model = p.model;
    return new Promise<Tensor[]>((resolve, reject) => {
      const job: Job = {
        kind: 'model',
        model,
        inputs,
        enqueuedAt: Date.now(),
        deadline,
        cancelled: false,
        onStart,
        resolve: (t) => {
          jobs.delete(job);
          if (t.length !== model.meta.outputs.length) {
            reject(new RespaiError(`ERR model returned ${t.length} outputs, expected ${model.meta.outputs.length}`));
          } else resolve(t);
        },
        reject: (e) => {
          jobs.delete(job);
          reject(e);
        },
      };
      jobs.add(job);
      this.queue(model.meta.device.name).push(job);
    });
  }

  private runScript(
    caller: unknown,
    script: Script,
    op: Extract<DagOp, { op: 'scriptexecute' }>,
    args: ScriptArg[],
    deadline: number,
    jobs: Set<Job>,
    onStart: () => void,
  ): Promise<Tensor[]> {
    const host: ScriptHost = {
      execute: (cmd) => {
        if (this.scriptCommands === undefined) return Promise.reject(new Error('redis.execute is not available here'));
        return this.scriptCommands(cmd, op.keys, caller);
      },
      modelExecute: async (key, inputs, nOutputs) => {
        const m = this.model(key);
        if (inputs.length !== m.meta.inputs.length) fail(E.inputCountMismatch);
        // Straight to the runtime: queueing behind the script that waits for it would deadlock.
        const out = await m.handle.run(inputs, { slot: 0 });
        if (out.length !== nOutputs) fail(`ERR model ${key} returned ${out.length} outputs, ${nOutputs} expected`);
        return out;
      },
    };
    return new Promise<Tensor[]>((resolve, reject) => {
      const stats = script.stats;
      const job: Job = {
        kind: 'task',
        enqueuedAt: Date.now(),
        deadline,
        cancelled: false,
        onStart,
        run: async (slot) => {
          const t0 = process.hrtime.bigint();
          stats.calls++;
          try {
            const out = await script.handle.run(op.fn, args, op.keys, host, { slot });
            if (out.length < op.outputs.length) {
              fail(`ERR function ${op.fn} returned ${out.length} tensors, ${op.outputs.length} OUTPUTS given`);
            }
            return out.slice(0, op.outputs.length);
          } catch (e) {
            stats.errors++;
            throw clientError(e);
          } finally {
            stats.durationUs += Number((process.hrtime.bigint() - t0) / 1000n);
          }
        },
        resolve: (t) => {
          jobs.delete(job);
          resolve(t);
        },
        reject: (e) => {
          jobs.delete(job);
          reject(e);
        },
      };
      jobs.add(job);
      this.queue(script.meta.device.name).push(job);
    });
  }

  /** Stops every queue (shutdown) and frees the backends. */
  async close(): Promise<void> {
    for (const q of this.queues.values()) q.clear(new Cancelled());
    await this.registry.dispose();
  }
}

/** A DAG-local tensor version: set once by the op producing it (undefined if that op failed). */
class Cell {
  value: Tensor | undefined;
  readonly ready: Promise<Tensor | undefined>;
  private resolveReady!: (t: Tensor | undefined) => void;
  constructor() {
    this.ready = new Promise((r) => (this.resolveReady = r));
  }
  static of(t: Tensor): Cell {
    const c = new Cell();
    c.set(t);
    return c;
  }
  set(t: Tensor | undefined): void {
    this.value = t;
    this.resolveReady(t);
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
  if (sig === undefined) fail(`ERR Function ${fn} does not exist in the given script.`);
  const cells: Cell[] = [];
  const tensorAt = (name: string): number => cells.push(cell(name)) - 1;
  if (sig.length === 3 && sig.every((t, i) => t === ENTRY_POINT_SIGNATURE[i])) {
    const idx = inputs.flatMap((x) => ('value' in x ? [x.value] : x.list)).map(tensorAt);
    return { cells, bind: (t) => [idx.map((i) => t[i]!), [...keys], [...args]] };
  }
  if (inputs.length !== sig.length) {
    fail(`ERR Wrong number of inputs provided to function ${fn}: it takes ${sig.length}, ${inputs.length} given`);
  }
  const binders = sig.map((type, n): ((t: Tensor[]) => ScriptArg) => {
    const input = inputs[n]!;
    const values = 'value' in input ? [input.value] : input.list;
    const one = (): string => {
      if (!('value' in input)) fail(`ERR argument ${n + 1} of ${fn} takes one value, a list was given`);
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
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) fail(`ERR argument ${n + 1} of ${fn} must be an int, got '${s}'`);
  return Number(s);
}

function literalFloat(s: string, fn: string, n: number): number {
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) fail(`ERR argument ${n + 1} of ${fn} must be a float, got '${s}'`);
  return v;
}
interface Plan {
  ops: PlannedOp[];
  persist: (readonly [string, Cell])[];
}
