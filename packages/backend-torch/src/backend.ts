import {
  BACKEND_API_VERSION,
  E,
  RunControl,
  RunNotStarted,
  Tensor,
  echo,
  fail,
  type Backend,
  type BackendLogger,
  type BackendSettings,
  type Device,
  type LoadedModel,
  type LoadedScript,
  type ModelLoadRequest,
  type RunContext,
  type ScriptArg,
  type ScriptHost,
  type ScriptLoadRequest,
  type ScriptParamType,
  type TensorSpec,
} from '@respai/core';
import { bindArgs } from './bind.js';
import { compileError, torchError } from './messages.js';
import { HOST_EXECUTE, addon, type HostCallback, type NativeFunction, type NativeParam, type RawTensor } from './native.js';

/** libtorch's version (AI.INFO, INFO). */
export const TORCH_VERSION: string = addon.version;

const silent: BackendLogger = { debug() {}, info() {}, warn() {} };

const toTensor = (r: RawTensor): Tensor => Tensor.fromBlob(r[0], r[1], r[2]);
const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };

function checkDevice(device: Device): void {
  if (device.type !== 'CPU') fail(E.noGpu('TORCH'));
}

/** Runs of one engine slot the addon's lane for that slot holds at once (its backlog). */
export const TORCH_RUNS_PER_SLOT = 4;

/**
 * The engine's queued runs, as the addon's lanes see them: one record per run in flight in core's
 * RunControl (a SharedArrayBuffer the lanes read): a lane claims a run before it starts it, the
 * engine may withdraw it until then; the lane writes the run's compute time beside it.
 */
class TorchRuns {
  private readonly control = new RunControl();
  /** Lane number per `device#slot`: each slot of each device its own thread. */
  private readonly lanes = new Map<string, number>();

  constructor() {
    addon.setRunControl(new Int32Array(this.control.sab), this.control.size);
  }

  lane(device: Device, slot: number): number {
    const k = `${device.name}#${slot}`;
    let l = this.lanes.get(k);
    if (l === undefined) {
      l = this.lanes.size;
      this.lanes.set(k, l);
    }
    return l;
  }

  /**
   * Calls `submit(lane, cell, deadline)` for a queued run and wires its record to `q`; a run
   * without `q` (a script's model_execute, outside the engine's queue) goes to the pool (lane -1).
   */
  run<T>(device: Device, ctx: RunContext | undefined, submit: (lane: number, cell: number, deadline: number) => Promise<T>): Promise<T> {
    const q = ctx?.queued;
    if (q === undefined) return submit(-1, -1, 0);
    const cell = this.control.acquire(q);
    const deadline = q.deadline === Infinity ? 0 : q.deadline;
    return submit(this.lane(device, ctx!.slot), cell, deadline).then(
      (v) => {
        this.control.release(cell, q);
        return v;
      },
      (e: unknown) => {
        this.control.release(cell, q);
        throw notStarted(e) ?? e;
      },
    );
  }
}

/** The addon's "did not start" rejection as the SPI's RunNotStarted. */
function notStarted(e: unknown): RunNotStarted | undefined {
  const why = (e as { respaiNotStarted?: string } | null)?.respaiNotStarted;
  return why === 'timeout' || why === 'withdrawn' ? new RunNotStarted(why) : undefined;
}

let runs: TorchRuns | undefined;
/** One per process: the addon holds one registered record buffer. */
const runControl = (): TorchRuns => (runs ??= new TorchRuns());

/**
 * The TORCH backend: TorchScript models (`torch.jit.save` archives) and TorchScript source
 * scripts on libtorch. Loads, compiles and runs happen on the addon's own threads, never on the
 * event loop; any number run at once (each on its own thread), so the engine's slots need no mapping.
 */
export class TorchBackend implements Backend {
  readonly apiVersion = BACKEND_API_VERSION;
  readonly name = 'TORCH' as const;
  readonly version = TORCH_VERSION;
  /** The engine hands each slot's lane several runs at once (see RunControl). */
  readonly runsPerSlot = TORCH_RUNS_PER_SLOT;
  #log: BackendLogger = silent;

  init(settings: BackendSettings): void {
    this.#log = settings.log;
    for (const w of addon.init(settings.intraOpParallelism, settings.interOpParallelism)) this.#log.warn(w);
    const { intraOp, interOp } = addon.threads();
    this.#log.info('TORCH backend ready', { version: this.version, intraOpThreads: intraOp, interOpThreads: interOp });
    if (settings.backendMemoryLimitMb > 0) this.#log.warn('TORCH does not enforce BACKEND_MEMORY_LIMIT');
  }

  /** CPU only: Debian's libtorch is built without CUDA. */
  supportsDevice(device: Device): boolean {
    return device.type === 'CPU';
  }

  async loadModel(request: ModelLoadRequest): Promise<LoadedModel> {
    checkDevice(request.device);
    const { handle, inputs, nOutputs } = await addon.loadModel(request.blob);
    return new TorchModel(handle, inputs, nOutputs, request.device);
  }

  async loadScript(request: ScriptLoadRequest): Promise<LoadedScript> {
    checkDevice(request.device);
    // TorchScript's lexer wants the last line ended: sources sent as strings often are not.
    const source = request.source.endsWith('\n') ? request.source : `${request.source}\n`;
    const { handle, functions } = await addon.compileScript(source).catch((e: unknown) => Promise.reject(compileError(e)));
    const script = new TorchScript(handle, functions, request.device);
    const missing = request.entryPoints.find((f) => !script.functions.includes(f));
    if (missing !== undefined) {
      script.dispose();
      throw new Error(`Function ${echo(missing)} does not exist in the given script.`);
    }
    return script;
  }

  dispose(): void {}
}

export class TorchModel implements LoadedModel {
  readonly inputs: readonly TensorSpec[];
  /** TorchScript outputs have no names: one '' per output, as RedisAI reported them. */
  readonly outputs: readonly TensorSpec[];

  constructor(
    private readonly handle: object,
    inputNames: readonly string[],
    nOutputs: number,
    private readonly device: Device = CPU,
  ) {
    this.inputs = Object.freeze(inputNames.map((name) => Object.freeze({ name })));
    this.outputs = Object.freeze(Array.from({ length: nOutputs }, () => Object.freeze({ name: '' })));
  }

  async run(inputs: readonly Tensor[], ctx?: RunContext): Promise<Tensor[]> {
    let out: Tensor[];
    try {
      const raw = await runControl().run(this.device, ctx, (lane, cell, deadline) => addon.runModel(this.handle, inputs, lane, cell, deadline));
      out = raw.map(toTensor);
    } catch (e) {
      if (e instanceof RunNotStarted) throw e;
      throw torchError(e);
    }
    if (out.length !== this.outputs.length) {
      throw new Error(`the model returned ${out.length} tensors, but its forward declares ${this.outputs.length}`);
    }
    return out;
  }

  dispose(): void {
    addon.disposeModel(this.handle);
  }
}

/** Set by the addon on a run's error when a redis.execute / model_execute call failed it. */
interface HostFailure extends Error {
  respaiHostError?: boolean;
}

export class TorchScript implements LoadedScript {
  readonly functions: readonly string[];
  readonly #params: ReadonlyMap<string, readonly NativeParam[]>;

  constructor(
    private readonly handle: object,
    functions: readonly NativeFunction[],
    private readonly device: Device = CPU,
  ) {
    this.functions = Object.freeze(functions.map((f) => f.name));
    this.#params = new Map(functions.map((f) => [f.name, f.params]));
  }

  signature(fn: string): readonly ScriptParamType[] | undefined {
    return this.#params.get(fn)?.map((p) => p.kind);
  }

  /** Parameter names and TorchScript types of `fn` (diagnostics). */
  params(fn: string): readonly NativeParam[] | undefined {
    return this.#params.get(fn);
  }

  async run(fn: string, args: readonly ScriptArg[], keys: readonly string[], host: ScriptHost, ctx?: RunContext): Promise<Tensor[]> {
    const params = this.#params.get(fn);
    if (params === undefined) throw new Error(`Function ${fn} does not exist in the given script.`);
    const wire = bindArgs(fn, params, args, keys);
    // The host's own error (a RespaiError with its exact reply text) is what the caller gets.
    let hostError: unknown;
    const callback: HostCallback = (kind, name, payload, nOutputs, done) => {
      let p: Promise<unknown>;
      try {
        p =
          kind === HOST_EXECUTE
            ? host.execute([name, ...(payload as Buffer[])])
            : host.modelExecute(name, (payload as RawTensor[]).map(toTensor), nOutputs);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => done(null, v),
        (e: unknown) => {
          hostError = e;
          done(e instanceof Error ? e.message : String(e));
        },
      );
    };
    try {
      return (await runControl().run(this.device, ctx, (lane, cell, deadline) => addon.runScript(this.handle, fn, wire, callback, lane, cell, deadline))).map(
        toTensor,
      );
    } catch (e) {
      if (e instanceof RunNotStarted) throw e;
      if ((e as HostFailure).respaiHostError === true && hostError !== undefined) throw hostError;
      throw torchError(e);
    }
  }

  dispose(): void {
    addon.disposeScript(this.handle);
  }
}
