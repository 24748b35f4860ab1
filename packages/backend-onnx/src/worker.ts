/**
 * The ONNX worker thread: holds onnxruntime sessions and runs them, so the synchronous
 * `session.run` of onnxruntime-node never blocks the server's event loop.
 */
import * as ort from 'onnxruntime-node';
import { serveWorker, transfer, workerInput } from '@respai/core/worker';
import type { OrtType, WireModelInfo, WireTensor, WorkerSettings } from './protocol.js';
import { flattenZipMaps } from './zipmap.js';

const settings = workerInput<WorkerSettings>();

const options: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  // onnxruntime logs warnings (e.g. unused initializers) to stderr; errors reach the client anyway.
  logSeverityLevel: 3,
  ...(settings.intraOpNumThreads > 0 ? { intraOpNumThreads: settings.intraOpNumThreads } : {}),
  // onnxruntime uses inter-op threads only in parallel execution mode.
  ...(settings.interOpNumThreads > 0 ? { interOpNumThreads: settings.interOpNumThreads } : {}),
  ...(settings.interOpNumThreads > 1 ? { executionMode: 'parallel' as const } : {}),
};

const sessions = new Map<number, Promise<ort.InferenceSession>>();

async function load(id: number, bytes: Uint8Array): Promise<WireModelInfo> {
  // Idempotent: a respawned worker's reload and the load that raced it share one session.
  let s = sessions.get(id);
  if (s === undefined) {
    // A classifier's ZipMap output (a sequence of maps) becomes its FLOAT [N, classes] tensor.
    s = ort.InferenceSession.create(flattenZipMaps(bytes).bytes, options);
    sessions.set(id, s);
    s.catch(() => sessions.delete(id));
  }
  const session = await s;
  return {
    inputs: session.inputMetadata.map((m) => ({ ...m })),
    outputs: session.outputMetadata.map((m) => ({ ...m })),
  };
}

async function run(id: number, inputs: readonly WireTensor[]) {
  const s = sessions.get(id);
  if (s === undefined) throw new Error(`model #${id} is not loaded in this worker`);
  const session = await s;
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((name, i) => {
    const t = inputs[i];
    if (t !== undefined) feeds[name] = toOrt(t);
  });
  const results = await session.run(feeds);
  const outputs = session.outputNames.map((name) => {
    const v = results[name];
    if (!(v instanceof ort.Tensor)) throw new Error(`output '${name}' is not a tensor (a sequence or map)`);
    return fromOrt(v);
  });
  return transfer(outputs, [...new Set(outputs.map((o) => o.data))]);
}

async function unload(id: number): Promise<void> {
  const s = sessions.get(id);
  sessions.delete(id);
  await (await s?.catch(() => undefined))?.release();
}

type Typed = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
const arrays: { readonly [K in Exclude<OrtType, 'string'>]: new (b: ArrayBuffer) => Typed } = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  bool: Uint8Array,
};

function toOrt(t: WireTensor): ort.Tensor {
  if (t.type === 'string') return new ort.Tensor('string', splitStrings(t.data), t.dims);
  return new ort.Tensor(t.type, new arrays[t.type](t.data) as never, t.dims);
}

function fromOrt(t: ort.Tensor): WireTensor {
  const dims = [...t.dims];
  if (t.type === 'string') return { type: 'string', dims, data: joinStrings(t.data as string[]) };
  const a = t.data as Typed;
  // onnxruntime-node gives each output an ArrayBuffer of its own: move it when the view covers it.
  const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
  const data = whole ? (a.buffer as ArrayBuffer) : a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength);
  return { type: t.type as OrtType, dims, data: data as ArrayBuffer };
}

function splitStrings(data: ArrayBuffer): string[] {
  const b = Buffer.from(data);
  const out: string[] = [];
  for (let at = 0; at < b.length; ) {
    const nul = b.indexOf(0, at);
    const end = nul === -1 ? b.length : nul;
    out.push(b.toString('utf8', at, end));
    at = end + 1;
  }
  return out;
}

function joinStrings(strings: readonly string[]): ArrayBuffer {
  let total = 0;
  for (const s of strings) total += Buffer.byteLength(s, 'utf8') + 1;
  const data = new ArrayBuffer(total);
  const b = Buffer.from(data);
  let at = 0;
  for (const s of strings) {
    at += b.write(s, at, 'utf8');
    b[at++] = 0;
  }
  return data;
}

serveWorker({ load, run, unload });
