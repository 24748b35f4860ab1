import { fileURLToPath } from 'node:url';
import {
  E,
  Prober,
  boundedMessage,
  Tensor,
  WorkerBackend,
  WorkerModel,
  WorkerModels,
  builtModuleUrl,
  digest,
  fail,
  ownBuffer,
  probeChildProcess,
  workerRuntimeError,
  type BackendSettings,
  type LoadedModel,
  type ModelLoadRequest,
  type ProbeVerdict,
  type TensorSpec,
  type WorkerModelCodec,
  type WorkerModelRef,
} from '@respai/core';
import type { Choice } from './choose.js';
import { TFLITE_ERR } from './messages.js';
import { dtypeOf, typeName, type WireInput, type WireModelInfo, type WireOutput, type WireTensorInfo, type WorkerSettings } from './protocol.js';
import { isRuntimeId, library, runtimeLabel, type RuntimeId } from './runtimes.js';

const PROBE_TIMEOUT_MS = 60_000;
/** Choices remembered, by settings and digest (as many as the Prober remembers passes). */
const CHOICES_KEPT = 10_000;

/** The child's reason: TFLite's default reporter prints `ERROR: ...` (and XNNPACK `INFO: ...`) lines before it. */
const probeReason = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => !l.startsWith('ERROR: ') && !l.startsWith('INFO: '))
    .join(' ')
    .trim();

/** The runtimes a child reached (its `stage` lines) and its choice (its `result` line). */
function readChild(output: string | undefined): { last?: RuntimeId; choice?: Choice } {
  let last: RuntimeId | undefined;
  let choice: Choice | undefined;
  for (const line of (output ?? '').split('\n')) {
    if (line.startsWith('stage ')) {
      const r = line.slice(6);
      if (isRuntimeId(r)) last = r;
    } else if (line.startsWith('result ')) {
      choice = JSON.parse(line.slice(7)) as Choice;
    }
  }
  return { ...(last === undefined ? {} : { last }), ...(choice === undefined ? {} : { choice }) };
}

/**
 * Checks `blob` in a child process (probe.ts): bytes on which a runtime would abort kill the child,
 * not the server. A crash on a runtime other than the reference (TFLite 2.2) leaves that runtime out
 * and checks again, so a model that ran before keeps running; a crash on the reference refuses it.
 */
async function checkInChild(blob: Buffer, threads: number, resizable: boolean, excluded: readonly RuntimeId[]): Promise<{ verdict: ProbeVerdict; choice?: Choice }> {
  const module = fileURLToPath(builtModuleUrl(import.meta.url, 'probe.js'));
  const exclude: RuntimeId[] = [];
  for (;;) {
    const args = ['--threads', String(threads), '--exclude', excluded.join(','), '--crashed', exclude.join(','), ...(resizable ? ['--resizable'] : [])];
    const verdict = await probeChildProcess({ module, input: blob, timeoutMs: PROBE_TIMEOUT_MS, args });
    const { last, choice } = readChild('output' in verdict ? verdict.output : undefined);
    if (verdict.kind === 'crashed' && last !== undefined && last !== 'tflite-2.2' && !exclude.includes(last)) {
      exclude.push(last);
      continue;
    }
    if (verdict.kind === 'ok' && choice === undefined) return { verdict: { kind: 'unavailable', message: 'the check gave no result' } };
    return { verdict, ...(choice === undefined ? {} : { choice }) };
  }
}

/** The client's error for a check that did not pass. */
function refusal(v: Exclude<ProbeVerdict, { kind: 'ok' }>): never {
  switch (v.kind) {
    case 'timedOut':
      fail(TFLITE_ERR.invalid(`building it and running it once took over ${PROBE_TIMEOUT_MS / 1000} s`));
    case 'crashed':
      fail(TFLITE_ERR.crashed(boundedMessage(v.message, 256)));
    case 'refused':
      fail(TFLITE_ERR.invalid(boundedMessage(probeReason(v.message)) || 'the model check refused it'));
    case 'unavailable':
      fail(TFLITE_ERR.invalid(`could not check the model in a child process: ${v.message}`));
  }
}

export interface TfliteBackendOptions {
  /** The worker module (default: `worker.js` of this package's build). */
  readonly workerUrl?: URL;
  /** Runtimes never to use (tests; an operator ruling one out); TFLite 2.2 stays the reference when present. */
  readonly exclude?: readonly RuntimeId[];
}

/** An input as the model declares it, with what respai needs to feed it. */
interface InputSpec extends TensorSpec {
  readonly dtype: NonNullable<TensorSpec['dtype']>;
  readonly dims: readonly number[];
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * The TFLITE backend: every model runs on the fastest of several TFLite runtimes that gives the
 * same outputs as TFLite 2.2 (runtimes.ts; chosen when the model is stored, by the check in a child
 * process), one interpreter per model per worker thread, THREADS_PER_QUEUE workers per device.
 * INTRA_OP_PARALLELISM sets the interpreters' thread count.
 */
export class TfliteBackend extends WorkerBackend {
  readonly name = 'TFLITE' as const;
  /** Models that passed the check in a child process, by digest. */
  readonly prober = new Prober();
  /** What the checks chose, by settings and digest. */
  private readonly choices = new Map<string, Choice>();

  constructor(private readonly options: TfliteBackendOptions = {}) {
    super();
  }

  /** The newest TFLite C library's version (AI.INFO, INFO); each model's runtime is in INFO's ai_model_runtimes. */
  get version(): string {
    return library('2.9').version;
  }

  override init(settings: BackendSettings): void {
    super.init(settings);
    library('2.2');
    library('2.9');
  }

  async loadModel(request: ModelLoadRequest): Promise<LoadedModel> {
    if (!this.supportsDevice(request.device)) fail(E.noGpu('TFLITE'));
    const blob = request.blob;
    // The flatbuffer's file identifier, bytes 4..8: refuse other formats before TFLite reads them.
    if (blob.length < 8 || blob.toString('latin1', 4, 8) !== 'TFL3') fail(TFLITE_ERR.notTflite);
    const threads = this.settings.intraOpParallelism;
    const choice = await this.choose(blob, threads, request.batchSize > 0);
    // Specs from the check's reference runtime (its names, quantization); refused types unload the model.
    const { ref, value } = await this.models.load(request.device.name, blob, () => describe(choice.info, request.batchSize), [choice.runtime]);
    const { inputs, outputs } = value;
    const runtime: Record<string, string | number> = { runtime: choice.runtime, label: runtimeLabel(choice.runtime, threads) };
    for (const c of choice.candidates) runtime[c.runtime] = c.us !== undefined ? `${c.us}us` : c.status;
    return new TfliteModel(this.models, ref, inputs, outputs, codec(inputs, outputs), runtime);
  }

  /**
   * The runtime for `blob`: checked once per distinct bytes and settings (about 0.2-1 s: a Node
   * start, every runtime built and run, the agreeing ones timed), then remembered.
   */
  private async choose(blob: Buffer, threads: number, resizable: boolean): Promise<Choice> {
    const kind = `model:threads=${threads}${resizable ? ':resizable' : ''}:exclude=${(this.options.exclude ?? []).join(',')}`;
    const key = `${kind}:${await digest(blob)}`;
    const known = this.choices.get(key);
    if (known !== undefined) return known;
    const remember = (c: Choice) => {
      this.choices.set(key, c);
      if (this.choices.size > CHOICES_KEPT) this.choices.delete(this.choices.keys().next().value!);
      return c;
    };
    const v = await this.prober.check(
      kind,
      blob,
      async () => {
        const r = await checkInChild(blob, threads, resizable, this.options.exclude ?? []);
        if (r.choice !== undefined) remember(r.choice);
        return r.verdict;
      },
      PROBE_TIMEOUT_MS,
    );
    if (v.kind !== 'ok') refusal(v);
    const shared = this.choices.get(key);
    if (shared !== undefined) return shared;
    // Passed before, but its choice was dropped since (Prober.clear, or a full cache): check again.
    const again = await checkInChild(blob, threads, resizable, this.options.exclude ?? []);
    if (again.verdict.kind !== 'ok') refusal(again.verdict);
    return remember(again.choice!);
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

/** A TFLITE model: a worker model that says which runtime runs it. */
class TfliteModel extends WorkerModel<WireInput[], WireOutput[]> {
  constructor(
    models: WorkerModels,
    ref: WorkerModelRef,
    inputs: readonly TensorSpec[],
    outputs: readonly TensorSpec[],
    codec: WorkerModelCodec<WireInput[], WireOutput[]>,
    readonly runtime: Readonly<Record<string, string | number>>,
  ) {
    super(models, ref, inputs, outputs, codec);
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
