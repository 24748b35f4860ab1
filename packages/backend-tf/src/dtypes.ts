import type { DType } from '@respai/core';
import { DT } from './proto.js';

/**
 * dtypes across the three worlds: TensorFlow's `DataType`, respai's `DType`, and the four dtypes
 * tfjs computes in (float32, int32, bool, string; complex64 internally). Every narrowing is
 * range-checked: a value that does not fit is an error, never a silent wrap.
 */

export type TfjsDType = 'float32' | 'int32' | 'bool' | 'string' | 'complex64';

/** The respai dtype a TF dtype is reported as, or undefined when respai has none for it. */
export function respaiDType(dt: number): DType | undefined {
  switch (dt) {
    case DT.FLOAT:
    case DT.HALF: // respai has no 16-bit float: fed and returned as FLOAT
    case DT.BFLOAT16:
      return 'FLOAT';
    case DT.DOUBLE:
      return 'DOUBLE';
    case DT.INT32:
      return 'INT32';
    case DT.INT64:
      return 'INT64';
    case DT.INT8:
      return 'INT8';
    case DT.INT16:
      return 'INT16';
    case DT.UINT8:
      return 'UINT8';
    case DT.UINT16:
      return 'UINT16';
    case DT.BOOL:
      return 'BOOL';
    case DT.STRING:
      return 'STRING';
    default:
      return undefined;
  }
}

/** The TF dtype the executor computes a TF dtype in, or undefined when tfjs cannot hold it. */
export function executorDT(dt: number): number | undefined {
  switch (dt) {
    case DT.FLOAT:
    case DT.DOUBLE:
    case DT.HALF:
    case DT.BFLOAT16:
      return DT.FLOAT;
    case DT.INT32:
    case DT.INT64:
    case DT.INT8:
    case DT.INT16:
    case DT.UINT8:
    case DT.UINT16:
    case DT.UINT32:
    case DT.UINT64:
      return DT.INT32;
    case DT.BOOL:
    case DT.STRING:
    case DT.COMPLEX64:
      return dt;
    case DT.COMPLEX128:
      return DT.COMPLEX64;
    // Graph plumbing (TensorList handles, resources) that tfjs keeps in JS objects, not tensors.
    case DT.VARIANT:
    case DT.RESOURCE:
      return dt;
    default:
      return undefined;
  }
}

/** The respai dtype a tfjs result is reported as when the graph does not declare one. */
export function respaiFromTfjs(d: string): DType | undefined {
  switch (d) {
    case 'float32':
      return 'FLOAT';
    case 'int32':
      return 'INT32';
    case 'bool':
      return 'BOOL';
    case 'string':
      return 'STRING';
    default:
      return undefined;
  }
}

const FLT_MAX = 3.4028234663852886e38;
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

/** Tensor data ready for tfjs: a typed array (or string bytes) in the tfjs dtype. */
export interface TfjsData {
  readonly dtype: TfjsDType;
  readonly values: Float32Array | Int32Array | Uint8Array | Uint8Array[];
}

/**
 * Converts respai tensor bytes (little-endian, `dtype`) to what tfjs takes. DOUBLE narrows to
 * float32 (an error for a finite value beyond float32's range), INT64 narrows to int32 (an error
 * beyond it), the small integer types widen to int32, STRING splits at the NULs. `what` names the
 * tensor in errors.
 */
export function toTfjs(dtype: DType, data: Uint8Array, what: string): TfjsData {
  const ab = data.buffer;
  const off = data.byteOffset;
  const aligned = (size: number) => off % size === 0;
  const view = <T>(C: new (b: ArrayBufferLike, o: number, n: number) => T, size: number): T =>
    aligned(size) ? new C(ab, off, data.byteLength / size) : new C(data.slice().buffer, 0, data.byteLength / size);
  switch (dtype) {
    case 'FLOAT':
      return { dtype: 'float32', values: view(Float32Array, 4) };
    case 'DOUBLE': {
      const src = view(Float64Array, 8);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (Math.abs(v) > FLT_MAX && Number.isFinite(v)) {
          throw new Error(`${what}: DOUBLE value ${v} at index ${i} does not fit in float32, the widest float tfjs computes in`);
        }
        out[i] = v;
      }
      return { dtype: 'float32', values: out };
    }
    case 'INT32':
      return { dtype: 'int32', values: view(Int32Array, 4) };
    case 'INT64': {
      const src = view(BigInt64Array, 8);
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v < -2147483648n || v > 2147483647n) {
          throw new Error(`${what}: INT64 value ${v} at index ${i} does not fit in int32, the widest integer tfjs computes in`);
        }
        out[i] = Number(v);
      }
      return { dtype: 'int32', values: out };
    }
    case 'INT8':
      return { dtype: 'int32', values: Int32Array.from(new Int8Array(ab, off, data.byteLength)) };
    case 'UINT8':
      return { dtype: 'int32', values: Int32Array.from(data) };
    case 'INT16':
      return { dtype: 'int32', values: Int32Array.from(view(Int16Array, 2)) };
    case 'UINT16':
      return { dtype: 'int32', values: Int32Array.from(view(Uint16Array, 2)) };
    case 'BOOL':
      return { dtype: 'bool', values: data };
    case 'STRING': {
      const parts: Uint8Array[] = [];
      for (let at = 0; at < data.length; ) {
        let end = data.indexOf(0, at);
        if (end === -1) end = data.length;
        parts.push(data.subarray(at, end));
        at = end + 1;
      }
      return { dtype: 'string', values: parts };
    }
  }
}

/**
 * Converts a tfjs result to respai bytes of `dtype` (the graph's declared dtype, or the tfjs
 * dtype's counterpart when the graph declares none). Narrowing to the small integer types checks
 * every value; INT64 and DOUBLE widen exactly.
 */
export function fromTfjs(
  src: ArrayLike<number> | Uint8Array[],
  srcDtype: string,
  dtype: DType,
  what: string,
): Uint8Array {
  if (srcDtype === 'string') {
    if (dtype !== 'STRING') throw new Error(`${what}: the graph computed strings, but declares ${dtype}`);
    const parts = src as Uint8Array[];
    let total = 0;
    for (const p of parts) {
      if (p.includes(0)) throw new Error(`${what}: a string result contains a NUL byte, which respai STRING tensors cannot hold`);
      total += p.length + 1;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length + 1;
    }
    return out;
  }
  if (dtype === 'STRING') throw new Error(`${what}: the graph declares STRING but computed ${srcDtype}`);
  const nums = src as ArrayLike<number>;
  const n = nums.length;
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const checked = <T extends Int8Array | Int16Array | Uint8Array | Uint16Array | Int32Array>(
    C: new (n: number) => T,
    min: number,
    max: number,
  ): Uint8Array => {
    const out = new C(n);
    for (let i = 0; i < n; i++) {
      const v = nums[i]!;
      if (!(v >= min && v <= max)) throw new Error(`${what}: value ${v} at index ${i} does not fit in ${dtype}`);
      out[i] = v;
    }
    return bytes(out);
  };
  switch (dtype) {
    case 'FLOAT':
      return bytes(nums instanceof Float32Array ? nums : Float32Array.from(nums));
    case 'DOUBLE':
      return bytes(Float64Array.from(nums));
    case 'INT32':
      return nums instanceof Int32Array ? bytes(nums) : checked(Int32Array, I32_MIN, I32_MAX);
    case 'INT64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = nums[i]!;
        if (!Number.isInteger(v)) throw new Error(`${what}: value ${v} at index ${i} is not an integer`);
        out[i] = BigInt(v);
      }
      return bytes(out);
    }
    case 'INT8':
      return checked(Int8Array, -128, 127);
    case 'INT16':
      return checked(Int16Array, -32768, 32767);
    case 'UINT8':
      return checked(Uint8Array, 0, 255);
    case 'UINT16':
      return checked(Uint16Array, 0, 65535);
    case 'BOOL':
      return checked(Uint8Array, 0, 1);
  }
}
