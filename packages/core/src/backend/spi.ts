import type { DType, Tensor } from '../tensor/index.js';

/**
 * The Backend SPI: the contract between the respai engine and a model runtime.
 *
 * A backend is an npm package whose default export is a {@link Backend} object. The engine loads
 * it (AI.CONFIG LOADBACKEND, or lazily on first use), checks its shape and `apiVersion`, calls
 * `init` once, and from then on asks it to load models (and scripts, for TORCH) from bytes and
 * to run them. The engine owns scheduling (run queues, batching, timeouts, DAGs); the backend
 * owns computing. Every method may be called concurrently for different models.
 *
 * Errors: throw a `RespaiError` when the exact reply text matters; anything else thrown is sent
 * to the client as `ERR <message>`. A backend must never crash the process on bad input.
 */
export const BACKEND_API_VERSION = 1;

/** The backend identifiers of the RedisAI command set. */
export type BackendName = 'TF' | 'TFLITE' | 'TORCH' | 'ONNX';
export const BACKEND_NAMES: readonly BackendName[] = ['TF', 'TFLITE', 'TORCH', 'ONNX'];

/** A parsed device: `CPU`, `CPU:1`, `GPU`, `GPU:0`. `name` is the canonical upper-case string. */
export interface Device {
  readonly type: 'CPU' | 'GPU';
  /** Undefined for a bare `CPU` / `GPU`. */
  readonly index: number | undefined;
  /** Canonical (`CPU:1`): run queues are keyed by it. */
  readonly name: string;
  /**
   * The device as the client wrote it (`cpu`, `Gpu:01`), when it differs from `name`: replies and
   * persistence return it, as the original did (clients compare what they stored).
   */
  readonly written?: string;
}

/** Settings fixed at start (or by AI.CONFIG before a backend loads) and given to `init`. */
export interface BackendSettings {
  /** Threads a runtime may use inside one op; 0 = the runtime's default. */
  readonly intraOpParallelism: number;
  /** Threads a runtime may use across independent ops; 0 = the runtime's default. */
  readonly interOpParallelism: number;
  /** Runs longer than this (ms) are stopped where the runtime allows it; 0 = never. */
  readonly modelExecutionTimeoutMs: number;
  /** Memory the backend may use, in MB; 0 = unlimited. Enforced where the runtime allows it. */
  readonly backendMemoryLimitMb: number;
  /** How many runs the engine may have in flight per device queue (THREADS_PER_QUEUE). */
  readonly threadsPerQueue: number;
  /** Structured logging into the server's log. */
  readonly log: BackendLogger;
}

export interface BackendLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * The original engine's defaults (MODEL_EXECUTION_TIMEOUT 5000 ms, THREADS_PER_QUEUE 1, the
 * runtimes' own thread counts, no memory limit), logging nowhere: the one table the engine's and
 * the server's defaults take theirs from, and what a backend holds before `init`.
 */
export const DEFAULT_BACKEND_SETTINGS: BackendSettings = {
  intraOpParallelism: 0,
  interOpParallelism: 0,
  modelExecutionTimeoutMs: 5000,
  backendMemoryLimitMb: 0,
  threadsPerQueue: 1,
  log: { debug() {}, info() {}, warn() {} },
};

/** What a backend knows about one model input or output. */
export interface TensorSpec {
  /** The name in the model ('' where the format has none, as TorchScript outputs). */
  readonly name: string;
  /** The declared dtype, when the format declares one the engine can map. */
  readonly dtype?: DType;
  /** The declared shape; -1 (or a symbolic name) for a free dimension. */
  readonly shape?: readonly (number | string)[];
}

/** AI.MODELSTORE's request, after the engine parsed and checked it. */
export interface ModelLoadRequest {
  /** The serialized model, chunks already concatenated. */
  readonly blob: Buffer;
  readonly device: Device;
  /** Node names the user gave (INPUTS/OUTPUTS), required for TF, empty for the others. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** BATCHSIZE; a backend that cannot resize inputs refuses a model with batchSize > 0. */
  readonly batchSize: number;
}

/** Per-run information from the engine. */
export interface RunContext {
  /**
   * Which of the device queue's THREADS_PER_QUEUE slots runs this call (0-based). Backends with
   * their own threads map slot -> thread, so two slots of one queue never share a thread.
   */
  readonly slot: number;
  /** Present when the backend queues runs itself ({@link Backend.runsPerSlot} > 1). */
  readonly queued?: QueuedRun;
}

/**
 * A run given to a backend that queues a slot's runs itself ({@link Backend.runsPerSlot} > 1), so
 * that its thread starts the next run the moment one ends. Such a run may wait in the backend
 * before it starts. The backend starts a slot's runs one at a time, in the order it got them, and:
 * - never starts a run once `deadline` has passed: it rejects it with `new RunNotStarted('timeout')`;
 * - sets `withdraw` when it takes the run: the engine calls it to take back a run whose client went
 *   away or whose DAG ended; it returns true when the run will never start (the backend then
 *   rejects it with `new RunNotStarted('withdrawn')`), false when it has started;
 * - sets `computeUs` to the run's own time before settling it (AI.INFO's duration excludes the wait).
 */
export interface QueuedRun {
  /** ms since the epoch (Date.now()); Infinity for none. */
  readonly deadline: number;
  withdraw: (() => boolean) | undefined;
  computeUs: number | undefined;
}

/** How a backend rejects a queued run it did not start (see {@link QueuedRun}). */
export class RunNotStarted extends Error {
  override readonly name = 'RunNotStarted';
  constructor(readonly reason: 'timeout' | 'withdrawn') {
    super(reason === 'timeout' ? 'the run was still queued at its deadline' : 'the run was withdrawn before it started');
  }
}

/** A model loaded by a backend. Immutable once loaded; `run` may be called concurrently. */
export interface LoadedModel {
  /** Input specs, in the order MODELEXECUTE's INPUTS bind to. */
  readonly inputs: readonly TensorSpec[];
  /** Output specs, in the order MODELEXECUTE's OUTPUTS bind to. */
  readonly outputs: readonly TensorSpec[];
  /**
   * For a backend that chooses a runtime per model (TFLITE): `runtime` names the one this model
   * runs on, other fields say why (INFO's `ai_model_runtimes` section shows them).
   */
  readonly runtime?: Readonly<Record<string, string | number>>;
  /**
   * Runs the model. `inputs` has exactly `this.inputs.length` tensors (the engine checks the
   * count); the result must have exactly `this.outputs.length` tensors.
   */
  run(inputs: readonly Tensor[], ctx: RunContext): Promise<Tensor[]>;
  /** Frees the runtime's resources; called once, after the last run finished. */
  dispose(): Promise<void> | void;
}

/** A value passed to a script function: tensors, numbers and strings, or lists of them. */
export type ScriptArg = Tensor | number | string | readonly ScriptArg[];

/**
 * A Redis reply as a script sees it (`redis.execute`): nil, integer, bulk/simple string, array,
 * or an error (which the backend raises inside the script).
 */
export type ScriptReply = null | bigint | Buffer | string | readonly ScriptReply[] | { readonly error: string };

/** What a script may do to the keyspace while it runs (`redis.execute` in TorchScript). */
export interface ScriptHost {
  /**
   * Runs one Redis command on the caller's behalf (the engine checks it is allowed and touches
   * only declared keys) and resolves with its reply. Called from the backend's own threads via
   * the event loop; it never blocks the event loop.
   */
  execute(args: readonly (string | Buffer)[]): Promise<ScriptReply>;
  /** Runs a stored model (`redisAI.model_execute`); resolves with its outputs. */
  modelExecute(key: string, inputs: readonly Tensor[], nOutputs: number): Promise<Tensor[]>;
}

/**
 * A script function parameter's type, as far as binding AI.SCRIPTEXECUTE's arguments needs:
 * tensors come from keys, the rest are literals parsed from the command's strings.
 */
export type ScriptParamType = 'Tensor' | 'int' | 'float' | 'str' | 'bool' | 'List[Tensor]' | 'List[int]' | 'List[float]' | 'List[str]' | 'other';

/** AI.SCRIPTSTORE's request. */
export interface ScriptLoadRequest {
  readonly source: string;
  readonly device: Device;
  /** Entry points the user declared (empty for the deprecated AI.SCRIPTSET). */
  readonly entryPoints: readonly string[];
}

/** A compiled script (TORCH only). */
export interface LoadedScript {
  /** Functions defined by the script. */
  readonly functions: readonly string[];
  /** Parameter types of `fn`, in order; undefined when the script has no such function. */
  signature(fn: string): readonly ScriptParamType[] | undefined;
  run(fn: string, args: readonly ScriptArg[], keys: readonly string[], host: ScriptHost, ctx: RunContext): Promise<Tensor[]>;
  dispose(): Promise<void> | void;
}

/** The object a backend package exports by default. */
export interface Backend {
  /** Must equal {@link BACKEND_API_VERSION}; the loader refuses anything else. */
  readonly apiVersion: number;
  /** Which RedisAI backend this implements. */
  readonly name: BackendName;
  /** The runtime's version, reported by AI.INFO and INFO (e.g. onnxruntime's). */
  readonly version: string;
  /**
   * How many runs of one engine slot the backend takes at once, queueing them on the slot's thread
   * (default 1: the engine hands a slot its next run when the last one settled). See {@link QueuedRun}.
   */
  readonly runsPerSlot?: number;
  /** Called once before the first load, with the server's settings. */
  init?(settings: BackendSettings): Promise<void> | void;
  /**
   * Whether models can run on `device`. The engine refuses a GPU device at store time with
   * `ERR GPU requested but <NAME> has no GPU support here` when this returns false.
   */
  supportsDevice(device: Device): boolean;
  /** Loads (and validates) a model; throws with a clear message on bytes it cannot use. */
  loadModel(request: ModelLoadRequest): Promise<LoadedModel>;
  /** Compiles a script; only backends that run scripts (TORCH) implement it. */
  loadScript?(request: ScriptLoadRequest): Promise<LoadedScript>;
  /** Frees everything (server shutdown). */
  dispose?(): Promise<void> | void;
}
