/**
 * How the runtime of a model is chosen (pure functions; probe.ts runs them in the checking child):
 * the first runtime that loads the model is the reference; another runtime qualifies when it has
 * the same inputs and outputs and gives the same outputs on the same inputs (integer tensors byte
 * for byte, float32 within 1e-5 relative); the fastest qualified one runs the model, the reference
 * unless another is clearly faster.
 */
import type { RuntimeId } from './runtimes.js';
import { TfLiteType, type WireModelInfo, type WireOutput, type WireTensorInfo } from './protocol.js';

/** How much faster than the reference another runtime must be to be chosen instead (noise margin). */
export const SWITCH_MARGIN = 0.9;
/** Float outputs agree when |a - b| <= FLOAT_TOLERANCE * max(|a|, |b|). */
export const FLOAT_TOLERANCE = 1e-5;

/** One runtime's part in a choice, as INFO and the log report it. */
export interface CandidateReport {
  readonly runtime: RuntimeId;
  /** ok: qualified (timed); refused: did not load the model; mismatch: other interface or outputs; failed: broke while checked. */
  readonly status: 'ok' | 'refused' | 'mismatch' | 'failed' | 'skipped';
  /** Median time of one run (us), when timed. */
  readonly us?: number;
  readonly reason?: string;
}

/** What the check found: the runtime to run the model on, the model's interface (the reference's), every candidate. */
export interface Choice {
  readonly runtime: RuntimeId;
  readonly info: WireModelInfo;
  readonly candidates: readonly CandidateReport[];
}

export type Feed = { dims: readonly number[]; data: Uint8Array }[];

const BYTES: Record<number, number> = {
  [TfLiteType.Float32]: 4,
  [TfLiteType.Int32]: 4,
  [TfLiteType.UInt8]: 1,
  [TfLiteType.Int64]: 8,
  [TfLiteType.Bool]: 1,
  [TfLiteType.Int16]: 2,
  [TfLiteType.Int8]: 1,
  [TfLiteType.Float16]: 2,
};

/** A small seeded generator (mulberry32): the same inputs on every run of the check. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pseudo-random contents for one tensor: floats in [0, 1), 8- and 16-bit integers over their range, wider ones in [0, 4) (indices). */
function randomTensor(t: WireTensorInfo, r: () => number): Uint8Array {
  const n = t.dims.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(n * (BYTES[t.type] ?? 1));
  const v = new DataView(data.buffer);
  for (let i = 0; i < n; i++) {
    switch (t.type) {
      case TfLiteType.Float32:
        v.setFloat32(4 * i, r(), true);
        break;
      case TfLiteType.UInt8:
      case TfLiteType.Int8:
        data[i] = Math.floor(r() * 256);
        break;
      case TfLiteType.Int16:
        v.setUint16(2 * i, Math.floor(r() * 65536), true);
        break;
      case TfLiteType.Int32:
        v.setInt32(4 * i, Math.floor(r() * 4), true);
        break;
      case TfLiteType.Int64:
        v.setBigInt64(8 * i, BigInt(Math.floor(r() * 4)), true);
        break;
      case TfLiteType.Bool:
        data[i] = r() < 0.5 ? 0 : 1;
        break;
    }
  }
  return data;
}

/** The inputs every runtime is checked on, at the declared shapes: zeros, then two pseudo-random sets. */
export function checkInputs(info: WireModelInfo): Feed[] {
  const zeros = info.inputs.map((t) => ({ dims: t.dims, data: new Uint8Array(t.dims.reduce((a, b) => a * b, 1) * (BYTES[t.type] ?? 1)) }));
  const sets: Feed[] = [zeros];
  for (const seed of [1, 2]) {
    const r = random(seed);
    sets.push(info.inputs.map((t) => ({ dims: t.dims, data: randomTensor(t, r) })));
  }
  return sets;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Why `other` does not have `reference`'s inputs and outputs (names, types, shapes, in order), or undefined. */
export function interfaceDifference(reference: WireModelInfo, other: WireModelInfo): string | undefined {
  for (const what of ['inputs', 'outputs'] as const) {
    const a = reference[what];
    const b = other[what];
    if (a.length !== b.length) return `${a.length} ${what} where the reference has ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (x.name !== y.name || x.type !== y.type || !same(x.dims, y.dims)) {
        return `${what} ${i} is '${y.name}' type ${y.type} [${y.dims.join(',')}] where the reference has '${x.name}' type ${x.type} [${x.dims.join(',')}]`;
      }
    }
  }
  return undefined;
}

/** Why outputs `b` differ from the reference's `a`, or undefined when they agree. */
export function outputDifference(a: readonly WireOutput[], b: readonly WireOutput[]): string | undefined {
  if (a.length !== b.length) return `${b.length} outputs where the reference gives ${a.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.type !== y.type || !same(x.dims, y.dims)) return `output ${i} is type ${y.type} [${y.dims.join(',')}] where the reference gives type ${x.type} [${x.dims.join(',')}]`;
    if (x.data.byteLength !== y.data.byteLength) return `output ${i} has ${y.data.byteLength} bytes where the reference has ${x.data.byteLength}`;
    if (x.type === TfLiteType.Float32) {
      const p = new Float32Array(x.data);
      const q = new Float32Array(y.data);
      for (let k = 0; k < p.length; k++) {
        const u = p[k]!;
        const v = q[k]!;
        if (u === v || (Number.isNaN(u) && Number.isNaN(v))) continue;
        if (!(Math.abs(u - v) <= FLOAT_TOLERANCE * Math.max(Math.abs(u), Math.abs(v)))) return `output ${i}[${k}] is ${v} where the reference gives ${u}`;
      }
    } else {
      const p = new Uint8Array(x.data);
      const q = new Uint8Array(y.data);
      const k = p.findIndex((byte, j) => byte !== q[j]);
      if (k >= 0) return `output ${i} differs from the reference's at byte ${k}`;
    }
  }
  return undefined;
}

/** The median of some timings. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The runtime to use among those timed (median us per run): the fastest, unless it is not at least
 * {@link SWITCH_MARGIN} times the reference's time (then the reference stays).
 */
export function pick(reference: RuntimeId, timings: ReadonlyMap<RuntimeId, number>): RuntimeId {
  let best = reference;
  let bestUs = timings.get(reference) ?? Infinity;
  for (const [runtime, us] of timings) {
    if (us < bestUs) {
      best = runtime;
      bestUs = us;
    }
  }
  const refUs = timings.get(reference);
  if (refUs !== undefined && best !== reference && bestUs > refUs * SWITCH_MARGIN) return reference;
  return best;
}
