import type { TfjsDType } from './dtypes.js';
import { DT, dtName, int64, type Int64, type TensorProtoMsg, type TensorShapeMsg } from './proto.js';

/**
 * A TensorProto (a Const node's value) decoded into a tfjs weight: its dtype, shape, and bytes in
 * the layout `io.decodeWeights` reads (float32/int32 little-endian, bool one byte, complex64 as
 * interleaved float32 pairs, strings as uint32 length + bytes).
 */
export interface Weight {
  readonly dtype: TfjsDType;
  readonly shape: number[];
  readonly bytes: Uint8Array;
}

const FLT_MAX = 3.4028234663852886e38;

/** Dims of a shape that must be fully known (Const values); throws otherwise. */
export function knownShape(s: TensorShapeMsg | null | undefined, what: string): number[] {
  if (s === null || s === undefined) return [];
  if (s.unknownRank) throw new Error(`${what} has a shape of unknown rank`);
  return s.dim.map((d) => {
    const v = int64(d.size);
    if (v < 0n || v > 0x7fffffffn) throw new Error(`${what} has an invalid dimension ${v}`);
    return Number(v);
  });
}

/** Shape with -1 for unknown dims; undefined for an unknown rank. */
export function partialShape(s: TensorShapeMsg | null | undefined): number[] | undefined {
  if (s === null || s === undefined) return undefined;
  if (s.unknownRank) return undefined;
  return s.dim.map((d) => {
    const v = int64(d.size);
    return v < 0n ? -1 : Number(v);
  });
}

/**
 * Decodes `t`. Numeric dtypes narrow to what tfjs computes in, with a range check: INT64/UINT32/
 * UINT64 must fit in int32, DOUBLE in float32 (precision is rounded, range is not clipped).
 */
export function decodeTensor(t: TensorProtoMsg, what: string): Weight {
  const shape = knownShape(t.tensorShape, what);
  const n = shape.reduce((a, b) => a * b, 1);
  const content = t.tensorContent;
  const hasContent = content !== undefined && content.length > 0;
  const dv = hasContent ? new DataView(content.buffer, content.byteOffset, content.byteLength) : undefined;

  const fromContent = (size: number): DataView | undefined => {
    if (dv === undefined) return undefined;
    if (dv.byteLength !== n * size) {
      throw new Error(`${what}: tensor_content holds ${dv.byteLength} bytes, but ${dtName(t.dtype)} ${fmtShape(shape)} needs ${n * size}`);
    }
    return dv;
  };
  // The *_val fields: an empty list means zeros; a shorter list repeats its last value (TF's rule).
  const fill = <V>(vals: ArrayLike<V>, get: (v: V) => number, out: { [i: number]: number; length: number }) => {
    if (vals.length > n) throw new Error(`${what}: ${vals.length} values for ${n} elements`);
    if (vals.length === 0) return;
    for (let i = 0; i < n; i++) out[i] = get(vals[Math.min(i, vals.length - 1)]!);
  };
  const int32Checked = (v: bigint | number, i: number): number => {
    if (v < -2147483648 || v > 2147483647) {
      throw new Error(`${what}: ${dtName(t.dtype)} value ${v} at index ${i} does not fit in int32, the widest integer tfjs computes in`);
    }
    return Number(v);
  };
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

  switch (t.dtype) {
    case DT.FLOAT: {
      const out = new Float32Array(n);
      const c = fromContent(4);
      if (c) for (let i = 0; i < n; i++) out[i] = c.getFloat32(i * 4, true);
      else fill(t.floatVal, (v) => v, out);
      return { dtype: 'float32', shape, bytes: bytes(out) };
    }
    case DT.DOUBLE: {
      const out = new Float32Array(n);
      const c = fromContent(8);
      const put = (v: number, i: number) => {
        if (Math.abs(v) > FLT_MAX && Number.isFinite(v)) {
          throw new Error(`${what}: DOUBLE value ${v} at index ${i} does not fit in float32, the widest float tfjs computes in`);
        }
        out[i] = v;
      };
      if (c) for (let i = 0; i < n; i++) put(c.getFloat64(i * 8, true), i);
      else {
        const tmp = new Float64Array(n);
        fill(t.doubleVal, (v) => v, tmp);
        tmp.forEach(put);
      }
      return { dtype: 'float32', shape, bytes: bytes(out) };
    }
    case DT.HALF:
    case DT.BFLOAT16: {
      const out = new Float32Array(n);
      const conv = t.dtype === DT.HALF ? halfToFloat : bfloat16ToFloat;
      const c = fromContent(2);
      if (c) for (let i = 0; i < n; i++) out[i] = conv(c.getUint16(i * 2, true));
      else fill(t.halfVal, (v) => conv(v & 0xffff), out);
      return { dtype: 'float32', shape, bytes: bytes(out) };
    }
    case DT.INT32:
    case DT.INT16:
    case DT.INT8:
    case DT.UINT8:
    case DT.UINT16: {
      const out = new Int32Array(n);
      const size = t.dtype === DT.INT32 ? 4 : t.dtype === DT.INT16 || t.dtype === DT.UINT16 ? 2 : 1;
      const c = fromContent(size);
      if (c) {
        const get =
          t.dtype === DT.INT32
            ? (i: number) => c.getInt32(i * 4, true)
            : t.dtype === DT.INT16
              ? (i: number) => c.getInt16(i * 2, true)
              : t.dtype === DT.UINT16
                ? (i: number) => c.getUint16(i * 2, true)
                : t.dtype === DT.INT8
                  ? (i: number) => c.getInt8(i)
                  : (i: number) => c.getUint8(i);
        for (let i = 0; i < n; i++) out[i] = get(i);
      } else fill(t.intVal, (v) => v, out);
      return { dtype: 'int32', shape, bytes: bytes(out) };
    }
    case DT.INT64:
    case DT.UINT64:
    case DT.UINT32: {
      const out = new Int32Array(n);
      const size = t.dtype === DT.UINT32 ? 4 : 8;
      const c = fromContent(size);
      if (c) {
        for (let i = 0; i < n; i++) {
          const v =
            t.dtype === DT.INT64 ? c.getBigInt64(i * 8, true) : t.dtype === DT.UINT64 ? c.getBigUint64(i * 8, true) : c.getUint32(i * 4, true);
          out[i] = int32Checked(v, i);
        }
      } else {
        const vals: ArrayLike<Int64 | number> = t.dtype === DT.INT64 ? t.int64Val : t.dtype === DT.UINT64 ? t.uint64Val : t.uint32Val;
        if (vals.length > n) throw new Error(`${what}: ${vals.length} values for ${n} elements`);
        for (let i = 0; i < n && vals.length > 0; i++) {
          const v = vals[Math.min(i, vals.length - 1)]!;
          out[i] = int32Checked(typeof v === 'number' ? v : int64(v), i);
        }
      }
      return { dtype: 'int32', shape, bytes: bytes(out) };
    }
    case DT.BOOL: {
      const out = new Uint8Array(n);
      const c = fromContent(1);
      if (c) for (let i = 0; i < n; i++) out[i] = c.getUint8(i) === 0 ? 0 : 1;
      else fill(t.boolVal, (v) => (v ? 1 : 0), out);
      return { dtype: 'bool', shape, bytes: out };
    }
    case DT.COMPLEX64:
    case DT.COMPLEX128: {
      const out = new Float32Array(2 * n);
      const c = fromContent(t.dtype === DT.COMPLEX64 ? 8 : 16);
      if (c) {
        for (let i = 0; i < 2 * n; i++) out[i] = t.dtype === DT.COMPLEX64 ? c.getFloat32(i * 4, true) : c.getFloat64(i * 8, true);
      } else {
        const vals = t.dtype === DT.COMPLEX64 ? t.scomplexVal : t.dcomplexVal;
        if (vals.length > 2 * n || vals.length % 2 !== 0) throw new Error(`${what}: ${vals.length} values for ${n} complex elements`);
        for (let i = 0; i < n && vals.length > 0; i++) {
          const j = Math.min(i, vals.length / 2 - 1);
          out[2 * i] = vals[2 * j]!;
          out[2 * i + 1] = vals[2 * j + 1]!;
        }
      }
      return { dtype: 'complex64', shape, bytes: bytes(out) };
    }
    case DT.STRING: {
      const vals = t.stringVal;
      if (vals.length > n) throw new Error(`${what}: ${vals.length} values for ${n} elements`);
      const strs = Array.from({ length: n }, (_, i) => (vals.length === 0 ? new Uint8Array(0) : vals[Math.min(i, vals.length - 1)]!));
      const out = new Uint8Array(strs.reduce((a, s) => a + 4 + s.length, 0));
      const view = new DataView(out.buffer);
      let at = 0;
      for (const s of strs) {
        view.setUint32(at, s.length, true);
        out.set(s, at + 4);
        at += 4 + s.length;
      }
      return { dtype: 'string', shape, bytes: out };
    }
    default:
      throw new Error(`${what} has dtype ${dtName(t.dtype)}, which tfjs cannot hold`);
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bfloat16ToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}
