import { createRequire } from 'node:module';
import {
  E,
  Tensor,
  WorkerBackend,
  WorkerModel,
  WorkerModels,
  builtModuleUrl,
  fail,
  ownBuffer,
  workerRuntimeError,
  type BackendSettings,
  type LoadedModel,
  type ModelLoadRequest,
  type TensorSpec,
  type WorkerModelCodec,
} from '@respai/core';
import { ONNX_ERR } from './messages.js';
import { TO_ORT, dtypeOfOrt, type WireModelInfo, type WireTensor, type WireValueInfo, type WorkerSettings } from './protocol.js';

/** The onnxruntime-node version this backend runs (AI.INFO, INFO). */
export const ORT_VERSION: string = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;

export interface OnnxBackendOptions {
  /** The worker module (default: `worker.js` of this package's build). */
  readonly workerUrl?: URL;
}

/**
 * The ONNX backend: every onnxruntime session lives in a worker thread, THREADS_PER_QUEUE workers
 * per device, each holding a session of every model stored on that device, so engine slot k of a
 * device runs on its worker k without waiting for the others (`WorkerModels` of @respai/core).
 */
export class OnnxBackend extends WorkerBackend {
  readonly name = 'ONNX' as const;
  readonly version = ORT_VERSION;

  constructor(private readonly options: OnnxBackendOptions = {}) {
    super();
  }

  async loadModel(request: ModelLoadRequest): Promise<LoadedModel> {
    if (!this.supportsDevice(request.device)) fail(E.noGpu('ONNX'));
    const { ref, value } = await this.models.load(request.device.name, request.blob, describe);
    return new WorkerModel(this.models, ref, value.inputs, value.outputs, codec(value));
  }

  protected workerModels(s: BackendSettings): WorkerModels {
    const workerData: WorkerSettings = { intraOpNumThreads: s.intraOpParallelism, interOpNumThreads: s.interOpParallelism };
    return new WorkerModels({
      backend: 'ONNX',
      url: this.options.workerUrl ?? builtModuleUrl(import.meta.url, 'worker.js'),
      workerData,
      settings: s,
      runtimeError: ortError,
      holders: 'sessions',
    });
  }
}

/** Inputs to the worker (dtypes checked, bytes copied and moved), outputs back as tensors. */
function codec(spec: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }): WorkerModelCodec<WireTensor[], WireTensor[]> {
  return {
    encode(inputs) {
      if (inputs.length !== spec.inputs.length) fail(ONNX_ERR.inputCount(spec.inputs.length, inputs.length));
      const wire = inputs.map((t, i): WireTensor => {
        const s = spec.inputs[i];
        if (s?.dtype !== undefined && s.dtype !== t.dtype) fail(ONNX_ERR.inputDtype(s.name, s.dtype, t.dtype));
        return { type: TO_ORT[t.dtype], dims: [...t.shape], data: ownBuffer(t) };
      });
      return { wire, transfer: wire.map((t) => t.data) };
    },
    decode(out) {
      return out.map((o, i) => {
        const name = spec.outputs[i]?.name ?? String(i);
        const dtype = dtypeOfOrt(o.type);
        if (dtype === undefined) fail(ONNX_ERR.unsupportedType('output', name, o.type));
        if (o.dims.some((d) => d === 0)) fail(ONNX_ERR.emptyOutput(name, o.dims));
        return Tensor.fromBlob(dtype, o.dims, Buffer.from(o.data));
      });
    },
  };
}

/** onnxruntime's error as the client's reply. */
const ortError = workerRuntimeError(ONNX_ERR.ort);

/** The specs respai reports, refusing what it could never feed or return. */
function describe(info: WireModelInfo): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const spec = (what: 'input' | 'output', m: WireValueInfo): TensorSpec => {
    if (!m.isTensor) fail(what === 'input' ? ONNX_ERR.nonTensorInput(m.name) : ONNX_ERR.nonTensorOutput(m.name));
    const dtype = dtypeOfOrt(m.type ?? '');
    if (dtype === undefined) fail(ONNX_ERR.unsupportedType(what, m.name, m.type ?? 'unknown'));
    // onnxruntime reports an unknown shape and a scalar alike (empty): leave the shape out then.
    if (m.shape === undefined || m.shape.length === 0) return { name: m.name, dtype };
    // A free dimension without a name comes as '': the SPI says -1.
    return { name: m.name, dtype, shape: m.shape.map((d) => (d === '' ? -1 : d)) };
  };
  return { inputs: info.inputs.map((m) => spec('input', m)), outputs: info.outputs.map((m) => spec('output', m)) };
}
