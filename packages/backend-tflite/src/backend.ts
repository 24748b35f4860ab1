import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  type BackendSettings,
  type LoadedModel,
  type ModelLoadRequest,
  type TensorSpec,
  type WorkerModelCodec,
} from '@respai/core';
import { TFLITE_ERR } from './messages.js';
import { nativeAddon } from './native.js';
import { dtypeOf, typeName, type WireInput, type WireModelInfo, type WireOutput, type WireTensorInfo, type WorkerSettings } from './protocol.js';

const PROBE_TIMEOUT_MS = 60_000;

/**
 * Builds an interpreter for `blob` in a child process first (see probe.ts): bytes on which TFLite
 * would abort kill the child, not the server. About 150 ms per MODELSTORE (a Node start, one run).
 */
function probe(blob: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(builtModuleUrl(import.meta.url, 'probe.js'))], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, PROBE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RespaiError(TFLITE_ERR.invalid(`could not check the model in a child process: ${e.message}`)));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      // TFLite's default reporter prints model errors as `ERROR: ...` lines before ours.
      const reason = stderr.split('\n').filter((l) => !l.startsWith('ERROR: ')).join(' ').trim();
      if (timedOut) reject(new RespaiError(TFLITE_ERR.invalid(`building it and running it once took over ${PROBE_TIMEOUT_MS / 1000} s`)));
      else if (signal !== null) reject(new RespaiError(TFLITE_ERR.crashed(signal)));
      else reject(new RespaiError(TFLITE_ERR.invalid(reason || `the model check exited with code ${code}`)));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(blob);
  });
}

export interface TfliteBackendOptions {
  /** The worker module (default: `worker.js` of this package's build). */
  readonly workerUrl?: URL;
}

/** An input as the model declares it, with what respai needs to feed it. */
interface InputSpec extends TensorSpec {
  readonly dtype: NonNullable<TensorSpec['dtype']>;
  readonly dims: readonly number[];
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * The TFLITE backend: TensorFlow Lite 2.2's C library (shipped by the node-tflite package) through
 * respai's own small addon, one interpreter per model per worker thread, THREADS_PER_QUEUE workers
 * per device. INTRA_OP_PARALLELISM sets the interpreter's thread count.
 */
export class TfliteBackend extends WorkerBackend {
  readonly name = 'TFLITE' as const;

  constructor(private readonly options: TfliteBackendOptions = {}) {
    super();
  }

  /** TFLite's version (AI.INFO, INFO); the addon loads on first read. */
  get version(): string {
    return nativeAddon().version;
  }

  override init(settings: BackendSettings): void {
    super.init(settings);
    nativeAddon();
  }

  async loadModel(request: ModelLoadRequest): Promise<LoadedModel> {
    if (!this.supportsDevice(request.device)) fail(E.noGpu('TFLITE'));
    const blob = request.blob;
    // The flatbuffer's file identifier, bytes 4..8: refuse other formats before TFLite reads them.
    if (blob.length < 8 || blob.toString('latin1', 4, 8) !== 'TFL3') fail(TFLITE_ERR.notTflite);
    await probe(blob);
    const { ref, value } = await this.models.load(request.device.name, blob, (info: WireModelInfo) => describe(info, request.batchSize));
    return new WorkerModel(this.models, ref, value.inputs, value.outputs, codec(value.inputs, value.outputs));
  }

  protected workerModels(s: BackendSettings): WorkerModels {
    const workerData: WorkerSettings = { numThreads: s.intraOpParallelism };
    return new WorkerModels({
      backend: 'TFLITE',
      url: this.options.workerUrl ?? builtModuleUrl(import.meta.url, 'worker.js'),
      workerData,
      settings: s,
      runtimeError,
    });
  }
}

/** Inputs to the worker at the dims the interpreter needs (bytes copied and moved), outputs back as tensors. */
function codec(inputs: readonly InputSpec[], outputs: readonly TensorSpec[]): WorkerModelCodec<WireInput[], WireOutput[]> {
  return {
    encode(tensors) {
      if (tensors.length !== inputs.length) fail(TFLITE_ERR.inputCount(inputs.length, tensors.length));
      const wire = tensors.map((t, i): WireInput => {
        const spec = inputs[i]!;
        if (spec.dtype !== t.dtype) fail(TFLITE_ERR.inputDtype(spec.name, spec.dtype, t.dtype, spec.scale, spec.zeroPoint));
        return { dims: feedDims(spec, t.shape), data: ownBuffer(t) };
      });
      return { wire, transfer: wire.map((i) => i.data) };
    },
    decode(out) {
      return out.map((o, i) => {
        const name = outputs[i]?.name ?? o.name;
        const dtype = dtypeOf(o.type);
        if (dtype === undefined) fail(TFLITE_ERR.unsupportedType('output', name, typeName(o.type)));
        if (o.dims.some((d) => d === 0)) fail(TFLITE_ERR.emptyOutput(name, o.dims));
        return Tensor.fromBlob(dtype, o.dims, Buffer.from(o.data));
      });
    },
  };
}

const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * The dims the interpreter's input must have for a tensor of `shape`. A tensor with as many
 * elements as the declared input keeps the declared shape (TFLite reads the bytes as they come:
 * `FLOAT 1 1 28 28` feeds a `[1,28,28]` input, as RedisAI allowed). Otherwise the input is resized:
 * to `shape` when the ranks agree, else to `[n, ...declared[1:]]` when the elements make whole rows
 * (a batch of `[1,1,28,28]` requests into a `[1,28,28]` input), else it is refused.
 */
export function feedDims(spec: InputSpec, shape: readonly number[]): readonly number[] {
  const declared = spec.dims;
  const n = count(shape);
  if (n === count(declared)) return declared;
  if (shape.length === declared.length) return shape;
  const row = count(declared.slice(1));
  if (declared.length > 0 && row > 0 && n % row === 0) return [n / row, ...declared.slice(1)];
  fail(TFLITE_ERR.inputSize(spec.name, declared, shape));
}

/** TFLite's error (from the worker) as the client's reply. */
const runtimeError = workerRuntimeError(TFLITE_ERR.runtime);

/**
 * The specs respai reports, refusing what it could never feed or return. With BATCHSIZE, dim 0 is
 * reported free: TFLite resizes inputs, so requests may be merged along it.
 */
function describe(info: WireModelInfo, batchSize: number): { inputs: InputSpec[]; outputs: TensorSpec[] } {
  const spec = (what: 'input' | 'output', t: WireTensorInfo) => {
    const dtype = dtypeOf(t.type);
    if (dtype === undefined) fail(TFLITE_ERR.unsupportedType(what, t.name, typeName(t.type)));
    const shape = batchSize > 0 && t.dims.length > 0 ? [-1, ...t.dims.slice(1)] : [...t.dims];
    return { name: t.name, dtype, shape };
  };
  return {
    inputs: info.inputs.map((t) => ({ ...spec('input', t), dims: t.dims, scale: t.scale, zeroPoint: t.zeroPoint })),
    outputs: info.outputs.map((t) => spec('output', t)),
  };
}
