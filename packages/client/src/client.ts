import { Dag, type DagOptions } from './dag.js';
import type { DType, Tensor, TensorInput } from './dtype.js';
import { blobOf, field, list, num, pairs, status, tensorReply, text } from './replies.js';
import { counted, modelStoreArgs, scriptArgs, tensorSetArgs } from './args.js';
import { transportFor, type Arg, type Connection, type RawReply, type Transport } from './transport.js';

/** The model runtimes the server knows. */
export type Backend = 'TF' | 'TFLITE' | 'TORCH' | 'ONNX';

/** `CPU`, `GPU`, or one device of several (`CPU:1`, `GPU:0`). */
export type Device = 'CPU' | 'GPU' | `CPU:${number}` | `GPU:${number}` | (string & {});

/** Options of {@link RespaiClient.tensorSet}. */
export interface TensorSetOptions {
  /** The dimensions; default: one dimension of the data's length. */
  shape?: readonly number[];
  /** The data type; default: the typed array's own (Float32Array: FLOAT), STRING for strings, BOOL for booleans. */
  dtype?: DType;
}

/** What {@link RespaiClient.modelStore} stores. */
export interface ModelStoreOptions {
  backend: Backend;
  /** Default `CPU`. */
  device?: Device;
  /** The serialized model (an ONNX file, a frozen TF GraphDef, a TFLite flatbuffer, a TorchScript archive). */
  blob: Uint8Array;
  /** Any string, such as a version. */
  tag?: string;
  /** Auto-batching: requests are merged along dimension 0 up to this many rows (0: off). */
  batchSize?: number;
  /** Hold a batch until it has this many rows (needs batchSize). */
  minBatchSize?: number;
  /** ms after which a batch below minBatchSize runs anyway (needs minBatchSize). */
  minBatchTimeout?: number;
  /** Input node names: TF only (required there; the other backends read them from the model). */
  inputs?: readonly string[];
  /** Output node names: TF only. */
  outputs?: readonly string[];
}

/** A stored model's settings, as AI.MODELGET returns them. */
export interface ModelInfo {
  backend: Backend;
  device: string;
  tag: string;
  batchSize: number;
  minBatchSize: number;
  minBatchTimeout: number;
  inputs: string[];
  outputs: string[];
}

/** Options of {@link RespaiClient.modelExecute}. */
export interface ModelExecuteOptions {
  /** Tensor keys, one per model input, in the model's order. */
  inputs: readonly string[];
  /** Keys the outputs are stored under, one per model output. */
  outputs: readonly string[];
  /** ms the request may wait in the queue; past it the call rejects with a `TIMEDOUT` RespaiError. */
  timeout?: number;
}

/** What {@link RespaiClient.scriptStore} stores. */
export interface ScriptStoreOptions {
  /** Default `CPU`. */
  device?: Device;
  tag?: string;
  /** The functions that may be called. */
  entryPoints: readonly string[];
  /** TorchScript source. */
  source: string;
}

/** A stored script, as AI.SCRIPTGET returns it. */
export interface ScriptInfo {
  device: string;
  tag: string;
  entryPoints: string[];
  source: string;
}

/** Arguments of a script function, as AI.SCRIPTEXECUTE takes them. */
export interface ScriptArgs {
  /** Bound to the function's parameters by position: tensor keys, or int/float/str values. */
  inputs?: readonly (string | number)[];
  /** One list per `List[Tensor]` parameter, after the plain inputs. */
  listInputs?: readonly (readonly string[])[];
  /** Strings for entry points of signature `(tensors: List[Tensor], keys: List[str], args: List[str])`. */
  args?: readonly (string | number)[];
  /** Keys the returned tensors are stored under. */
  outputs?: readonly string[];
}

/** Options of {@link RespaiClient.scriptExecute}. */
export interface ScriptExecuteOptions extends ScriptArgs {
  /** Keys the script may touch through `redis.execute` (or a hash tag `{t}` they share). */
  keys?: readonly string[];
  /** ms the request may wait in the queue. */
  timeout?: number;
}

/** A model's or script's run statistics (AI.INFO key). */
export interface RunInfo {
  key: string;
  type: 'MODEL' | 'SCRIPT';
  backend: string;
  device: string;
  tag: string;
  /** Cumulative run time, microseconds. */
  duration: number;
  /** Rows (dimension 0) processed; -1 for scripts. */
  samples: number;
  calls: number;
  errors: number;
  /** respai only: backend runs (a batch of requests is one run). */
  runs?: number;
  /** respai only: requests per run. */
  avgBatchSize?: number;
  /** respai only: how many runs had each batch size. */
  batchSizes?: Map<number, number>;
}

/** Settings AI.CONFIG changes. */
export interface ConfigOptions {
  backendsPath?: string;
  modelChunkSize?: number;
}

/** The chunk size the reference uses when a server does not say (511 MiB). */
export const DEFAULT_MODEL_CHUNK_SIZE = 511 * 1024 * 1024;

/**
 * A typed client for respai (and RedisAI) over a connection you already have: a node-redis 5
 * client or cluster, or an ioredis 5 Redis or Cluster, speaking RESP2 or RESP3. It sends the
 * AI.* commands and turns their replies into typed values; it never opens or closes the
 * connection.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RespaiClient } from '@respai/client';
 *
 * const redis = await createClient({ url: 'redis://localhost:6379' }).connect();
 * const ai = new RespaiClient(redis);
 * await ai.tensorSet('x', new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
 * const x = await ai.tensorGet('x'); // { dtype: 'FLOAT', shape: [2, 2], data: Float32Array [1, 2, 3, 4] }
 * ```
 */
export class RespaiClient {
  /** How commands reach the server; exposed for the DAG builder. */
  readonly transport: Transport;

  constructor(connection: Connection) {
    this.transport = transportFor(connection);
  }

  /** Sends one command; `key` routes it in a cluster. */
  send(args: readonly Arg[], key?: string, readonly = false): Promise<RawReply> {
    return this.transport.send(args, { key, readonly });
  }

  /**
   * Stores a tensor (AI.TENSORSET ... BLOB). Typed arrays of the dtype's own class go out without
   * a copy.
   *
   * @example
   * ```ts
   * await ai.tensorSet('a', new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
   * await ai.tensorSet('ids', new BigInt64Array([1n, 2n]));          // INT64
   * await ai.tensorSet('b', [1, 2, 3], { dtype: 'INT16' });           // plain numbers need a dtype
   * await ai.tensorSet('words', ['hello', 'world']);                   // STRING
   * await ai.tensorSet('mask', [true, false]);                         // BOOL
   * await ai.tensorSet('copy', await ai.tensorGet('a'));               // a tensor as tensorGet returns it
   * ```
   */
  async tensorSet(key: string, data: TensorInput | Tensor, options: TensorSetOptions = {}): Promise<void> {
    status(await this.send(tensorSetArgs('AI.TENSORSET', key, data, options), key), 'AI.TENSORSET');
  }

  /**
   * Reads a tensor (AI.TENSORGET key META BLOB). Numeric data is a typed-array view over the
   * reply's bytes (no copy when they are aligned); BOOL comes back as `boolean[]`, STRING as
   * `string[]`. Narrow the union on `dtype`, or name the dtype you expect:
   *
   * @example
   * ```ts
   * const t = await ai.tensorGet('x');
   * if (t.dtype === 'FLOAT') console.log(t.data[0]); // t.data: Float32Array
   * const y = await ai.tensorGet('y', 'INT64');     // y.data: BigInt64Array; rejects if y is not INT64
   * ```
   */
  async tensorGet<D extends DType = DType>(key: string, dtype?: D): Promise<Tensor<D>> {
    const t = tensorReply(await this.send(['AI.TENSORGET', key, 'META', 'BLOB'], key, true));
    if (dtype !== undefined && t.dtype !== dtype) throw new TypeError(`tensor ${key} is ${t.dtype}, not ${dtype}`);
    return t as Tensor<D>;
  }

  /** The server's MODEL_CHUNK_SIZE (AI.CONFIG GET MODEL_CHUNK_SIZE), or the reference's default when it has none. */
  async modelChunkSize(key?: string): Promise<number> {
    const r = await this.send(['AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE'], key, true);
    return r === null ? DEFAULT_MODEL_CHUNK_SIZE : num(r);
  }

  /**
   * Stores a model (AI.MODELSTORE). The blob goes out in chunks of the server's MODEL_CHUNK_SIZE,
   * read first with AI.CONFIG GET, so models larger than one bulk string may be stored.
   *
   * @example
   * ```ts
   * await ai.modelStore('mnist', { backend: 'ONNX', blob: readFileSync('mnist.onnx'), tag: 'v1' });
   * ```
   */
  async modelStore(key: string, options: ModelStoreOptions): Promise<void> {
    const chunkSize = await this.modelChunkSize(key);
    status(await this.send(modelStoreArgs(key, options, chunkSize), key), 'AI.MODELSTORE');
  }

  /** A model's settings (AI.MODELGET key META). */
  async modelGet(key: string): Promise<ModelInfo>;
  /** A model's settings and its blob (AI.MODELGET key META BLOB), chunks joined. */
  async modelGet(key: string, options: { blob: true }): Promise<ModelInfo & { blob: Buffer }>;
  async modelGet(key: string, options: { blob?: boolean } = {}): Promise<ModelInfo & { blob?: Buffer }> {
    const args: Arg[] = ['AI.MODELGET', key, 'META'];
    if (options.blob) args.push('BLOB');
    return parseModelGet(await this.send(args, key, true));
  }

  /** Deletes a model (AI.MODELDEL); `ERR model key is empty` when there is none. */
  async modelDel(key: string): Promise<void> {
    status(await this.send(['AI.MODELDEL', key], key), 'AI.MODELDEL');
  }

  /**
   * Runs a model on stored tensors and stores its outputs (AI.MODELEXECUTE).
   *
   * @example
   * ```ts
   * await ai.modelExecute('mnist', { inputs: ['image'], outputs: ['scores'], timeout: 1000 });
   * ```
   */
  async modelExecute(key: string, options: ModelExecuteOptions): Promise<void> {
    const args: Arg[] = ['AI.MODELEXECUTE', key, ...counted('INPUTS', options.inputs), ...counted('OUTPUTS', options.outputs)];
    if (options.timeout !== undefined) args.push('TIMEOUT', String(options.timeout));
    status(await this.send(args, key), 'AI.MODELEXECUTE');
  }

  /** Every model's key and tag (AI._MODELSCAN). */
  async modelScan(): Promise<{ key: string; tag: string }[]> {
    return list(await this.send(['AI._MODELSCAN'], undefined, true)).map((e) => {
      const [key, tag] = list(e);
      return { key: text(key!), tag: text(tag!) };
    });
  }

  /**
   * Stores a TorchScript script (AI.SCRIPTSTORE).
   *
   * @example
   * ```ts
   * await ai.scriptStore('s', { entryPoints: ['addtwo'], source: 'def addtwo(a, b):\n    return a + b\n' });
   * ```
   */
  async scriptStore(key: string, options: ScriptStoreOptions): Promise<void> {
    const args: Arg[] = ['AI.SCRIPTSTORE', key, options.device ?? 'CPU'];
    if (options.tag !== undefined) args.push('TAG', options.tag);
    args.push(...counted('ENTRY_POINTS', options.entryPoints), 'SOURCE', options.source);
    status(await this.send(args, key), 'AI.SCRIPTSTORE');
  }

  /** A script's device, tag, entry points and source (AI.SCRIPTGET). */
  async scriptGet(key: string): Promise<ScriptInfo> {
    const m = pairs(await this.send(['AI.SCRIPTGET', key, 'META', 'SOURCE'], key, true));
    return {
      device: text(field(m, 'device')),
      tag: text(field(m, 'tag')),
      entryPoints: list(m.get('entry_points') ?? []).map((e) => text(e)),
      source: text(field(m, 'source')),
    };
  }

  /** Deletes a script (AI.SCRIPTDEL). */
  async scriptDel(key: string): Promise<void> {
    status(await this.send(['AI.SCRIPTDEL', key], key), 'AI.SCRIPTDEL');
  }

  /**
   * Runs a script function (AI.SCRIPTEXECUTE).
   *
   * @example
   * ```ts
   * await ai.scriptExecute('s', 'addtwo', { inputs: ['a', 'b'], outputs: ['c'] });
   * ```
   */
  async scriptExecute(key: string, fn: string, options: ScriptExecuteOptions = {}): Promise<void> {
    const args: Arg[] = ['AI.SCRIPTEXECUTE', key, fn];
    if (options.keys !== undefined) args.push(...counted('KEYS', options.keys));
    args.push(...scriptArgs(options));
    if (options.timeout !== undefined) args.push('TIMEOUT', String(options.timeout));
    status(await this.send(args, key), 'AI.SCRIPTEXECUTE');
  }

  /** The server's and its loaded backends' versions (AI.INFO), by the server's labels. */
  async info(): Promise<Record<string, string>>;
  /** A model's or script's run statistics (AI.INFO key). */
  async info(key: string): Promise<RunInfo>;
  async info(key?: string): Promise<Record<string, string> | RunInfo> {
    if (key === undefined) return parseVersions(await this.send(['AI.INFO'], undefined, true));
    return parseRunInfo(await this.send(['AI.INFO', key], key, true));
  }

  /** Zeroes a model's or script's run statistics (AI.INFO key RESETSTAT). */
  async resetStat(key: string): Promise<void> {
    status(await this.send(['AI.INFO', key, 'RESETSTAT'], key), 'AI.INFO');
  }

  /** Changes BACKENDSPATH and/or MODEL_CHUNK_SIZE (AI.CONFIG), one command each. */
  async config(options: ConfigOptions): Promise<void> {
    if (options.backendsPath !== undefined)
      status(await this.send(['AI.CONFIG', 'BACKENDSPATH', options.backendsPath]), 'AI.CONFIG');
    if (options.modelChunkSize !== undefined)
      status(await this.send(['AI.CONFIG', 'MODEL_CHUNK_SIZE', String(options.modelChunkSize)]), 'AI.CONFIG');
  }

  /** AI.CONFIG GET: a setting's value, or undefined for one the server does not know. */
  async configGet(name: 'BACKENDSPATH' | 'MODEL_CHUNK_SIZE' | (string & {})): Promise<string | number | undefined> {
    const r = await this.send(['AI.CONFIG', 'GET', name], undefined, true);
    if (r === null) return undefined;
    return typeof r === 'number' ? r : text(r);
  }

  /** Loads a backend from a path or package name (AI.CONFIG LOADBACKEND). */
  async loadBackend(backend: Backend, path: string): Promise<void> {
    status(await this.send(['AI.CONFIG', 'LOADBACKEND', backend, path]), 'AI.CONFIG');
  }

  /**
   * Starts a DAG (AI.DAGEXECUTE, or AI.DAGEXECUTE_RO with `readOnly`): chain ops, then `run()`,
   * which resolves one typed result per op.
   *
   * @example
   * ```ts
   * const [, , scores] = await ai
   *   .dag({ routing: 'mnist' })
   *   .tensorSet('image', pixels, { shape: [1, 1, 28, 28] })
   *   .modelExecute('mnist', { inputs: ['image'], outputs: ['scores'] })
   *   .tensorGet('scores')
   *   .run();
   * ```
   */
  dag(options: DagOptions = {}): Dag<[]> {
    return new Dag(this, options);
  }
}

export function parseModelGet(r: RawReply): ModelInfo & { blob?: Buffer } {
  const m = pairs(r);
  const info: ModelInfo & { blob?: Buffer } = {
    backend: text(field(m, 'backend')) as Backend,
    device: text(field(m, 'device')),
    tag: text(field(m, 'tag')),
    batchSize: num(field(m, 'batchsize')),
    minBatchSize: num(field(m, 'minbatchsize')),
    minBatchTimeout: num(m.get('minbatchtimeout') ?? 0),
    inputs: list(field(m, 'inputs')).map((x) => text(x)),
    outputs: list(field(m, 'outputs')).map((x) => text(x)),
  };
  const blob = m.get('blob');
  if (blob !== undefined) info.blob = blobOf(blob);
  return info;
}

export function parseRunInfo(r: RawReply): RunInfo {
  const m = pairs(r);
  const info: RunInfo = {
    key: text(field(m, 'key')),
    type: text(field(m, 'type')) as RunInfo['type'],
    backend: text(field(m, 'backend')),
    device: text(field(m, 'device')),
    tag: text(field(m, 'tag')),
    duration: num(field(m, 'duration')),
    samples: num(field(m, 'samples')),
    calls: num(field(m, 'calls')),
    errors: num(field(m, 'errors')),
  };
  if (m.has('runs')) info.runs = num(m.get('runs')!);
  if (m.has('avg_batch_size')) info.avgBatchSize = num(m.get('avg_batch_size')!);
  if (m.has('batch_sizes')) {
    const flat = list(m.get('batch_sizes')!).map((x) => num(x));
    info.batchSizes = new Map();
    for (let i = 0; i + 1 < flat.length; i += 2) info.batchSizes.set(flat[i]!, flat[i + 1]!);
  }
  return info;
}

/** AI.INFO without a key: `[label, value, ...]`, labels kept as the server writes them. */
export function parseVersions(r: RawReply): Record<string, string> {
  const a = list(r);
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < a.length; i += 2) {
    const v = a[i + 1]!;
    out[text(a[i]!)] = typeof v === 'number' ? String(v) : text(v);
  }
  return out;
}
