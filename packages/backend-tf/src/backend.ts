import {
  E,
  RespaiError,
  Tensor,
  WorkerBackend,
  WorkerModel,
  WorkerModels,
  builtModuleUrl,
  fail,
  ownBuffer,
  workerRuntimeError,
  type Backend,
  type BackendSettings,
  type LoadedModel,
  type ModelLoadRequest,
  type TensorSpec,
  type WorkerModelCodec,
} from '@respai/core';
import { loadErrorReply, type IOSpec } from './graph.js';
import { TF_ERR } from './messages.js';
import { CONVERTER_VERSION } from './ops.js';
import type { ComputeBackend, LoadInfo, RuntimeInfo, WireTensor } from './runtime.js';
import type { TfWorkerData } from './worker.js';

export interface TfBackendOptions {
  /**
   * The tfjs backend models run on: `wasm` (default; XNNPACK kernels, SIMD) or `cpu` (plain JS).
   * Defaults to the RESPAI_TF_BACKEND environment variable, else `wasm`. Models using ops whose
   * kernels wasm lacks (FFT, Einsum, complex numbers) run on `cpu` either way.
   */
  readonly computeBackend?: ComputeBackend;
}

/**
 * The worker's module. Built, it is `worker.js` beside this file; from TypeScript sources (tests),
 * the package's build.
 */
const workerUrl = () => builtModuleUrl(import.meta.url, 'worker.js');

/** Makes a TF backend: frozen GraphDefs run by tfjs-converter in worker threads. */
export function createTfBackend(options: TfBackendOptions = {}): Backend {
  return new TfBackend(options.computeBackend ?? envBackend());
}

function envBackend(): ComputeBackend {
  const v = process.env['RESPAI_TF_BACKEND']?.toLowerCase();
  return v === 'cpu' ? 'cpu' : 'wasm';
}

/** A tfjs error (or the runtime's checks) as the client's reply. */
const runtimeError = workerRuntimeError(TF_ERR.runtime);

/**
 * The TF backend: every model lives in worker threads (`WorkerModels` of @respai/core),
 * THREADS_PER_QUEUE workers per device, each holding its own copy of every model of its device.
 */
class TfBackend extends WorkerBackend {
  readonly name = 'TF' as const;
  /** tfjs's version: tfjs-core, -converter and the compute backends are released together. */
  readonly version = CONVERTER_VERSION;

  constructor(private readonly compute: ComputeBackend) {
    super();
  }

  async loadModel(req: ModelLoadRequest): Promise<LoadedModel> {
    if (!this.supportsDevice(req.device)) fail(E.noGpu('TF'));
    // AI.MODELSTORE requires INPUTS and OUTPUTS for TF (checked when it is parsed), but models the
    // original engine saved at encoding version 0 may have none: they load (and cannot run).
    let loaded;
    try {
      loaded = await this.models.load(req.device.name, req.blob, (i: LoadInfo) => i, [req.inputs, req.outputs]);
    } catch (e) {
      // A blob that is no GraphDef gets exactly the original's text; the detail goes to the log.
      const inner = RespaiError.isInstance(e) && e.cause !== undefined ? e.cause : e;
      const reply = loadErrorReply(inner, this.settings.log);
      throw reply === inner ? e : reply;
    }
    const { ref, value: info } = loaded;
    const inputs = info.inputs.map(tensorSpec);
    const outputs = info.outputs.map(tensorSpec);
    return new WorkerModel(this.models, ref, inputs, outputs, codec(info.inputs));
  }

  protected workerModels(settings: BackendSettings): WorkerModels {
    let reported = false;
    return new WorkerModels({
      backend: 'TF',
      url: workerUrl(),
      workerData: { backend: this.compute } satisfies TfWorkerData,
      settings,
      runtimeError,
      // tfjs starts (0.5-2 s) before a worker takes any call: never inside a run's time limit.
      startup: async (call) => {
        const rt = (await call('info')) as RuntimeInfo;
        if (!reported) {
          reported = true;
          settings.log.info('TF backend ready', { ...rt, workersPerDevice: settings.threadsPerQueue });
        }
      },
    });
  }
}

/** Inputs checked against the graph's placeholders, copied and moved to the worker; outputs back as tensors. */
function codec(specs: readonly IOSpec[]): WorkerModelCodec<WireTensor[], WireTensor[]> {
  return {
    encode(inputs) {
      if (inputs.length !== specs.length) {
        fail(TF_ERR.inputCount(specs.length, inputs.length));
      }
      const wire = inputs.map((t, i): WireTensor => {
        const want = specs[i]!.dtype;
        if (want !== undefined && t.dtype !== want) fail(TF_ERR.inputDtype(specs[i]!.name, want, t.dtype));
        return { dtype: t.dtype, shape: [...t.shape], data: ownBuffer(t) };
      });
      return { wire, transfer: wire.map((w) => w.data) };
    },
    decode: (out) => out.map((o) => Tensor.fromBlob(o.dtype, o.shape, Buffer.from(o.data))),
  };
}

function tensorSpec(s: IOSpec): TensorSpec {
  return { name: s.name, ...(s.dtype === undefined ? {} : { dtype: s.dtype }), ...(s.shape === undefined ? {} : { shape: s.shape }) };
}
