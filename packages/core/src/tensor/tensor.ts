import { constants as bufferConstants } from 'node:buffer';
import { E, fail } from '../errors.js';
import { DTYPES, type DType, type TensorView } from './dtype.js';
import { parseDoubleBytes, parseInteger, parseSmallInteger } from './numbers.js';

/** One element of `Tensor.values()`: floats as numbers, INT64 as bigint, other ints and BOOL as numbers, STRING as bytes. */
export type TensorValue = number | bigint | Buffer;

/**
 * An immutable n-dimensional array. `data` holds the elements back to back in row-major order and
 * in machine byte order (little-endian wherever Node runs; RedisAI blobs are the same), or for
 * STRING, NUL-terminated strings back to back. Nothing here writes into `data` after creation,
 * and callers must not either: tensors share buffers (BLOB arguments, split parts, views).
 * An empty shape is a scalar of one element, as the original allowed (`FLOAT VALUES 1`).
 */
export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Buffer;
  readonly #length: number;

  private constructor(dtype: DType, shape: readonly number[], data: Buffer, length: number) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
    this.#length = length;
    Object.freeze(this);
  }

  /** Element count (the product of the shape). */
  get length(): number {
    return this.#length;
  }

  get byteLength(): number {
    return this.data.length;
  }

  /** A tensor of zeros; STRING: `length` empty strings. */
  static zeros(dtype: DType, shape: readonly number[]): Tensor {
    const s = validShape(shape);
    checkSize(dtype, s, bufferConstants.MAX_LENGTH);
    const n = product(s);
    return new Tensor(dtype, s, Buffer.alloc(n * (DTYPES[dtype].size || 1)), n);
  }

  /**
   * A tensor over `blob` as given (no copy, except the rule in `own`). Numeric blobs must hold
   * exactly length x size bytes, BOOL bytes must be 0/1, STRING blobs exactly `length`
   * NUL-terminated strings.
   */
  static fromBlob(dtype: DType, shape: readonly number[], blob: Buffer): Tensor {
    const s = validShape(shape);
    const info = DTYPES[dtype];
    // bigint: a huge shape must not wrap into a product that happens to match the blob.
    const n = elementCount(s);
    if (info.kind === 'string') {
      if (BigInt(countStrings(blob)) !== n) fail(E.stringCount);
    } else {
      if (BigInt(blob.length) !== n * BigInt(info.size)) fail(E.blobLength);
      // Unlike the original, which skipped the last byte, every byte is checked.
      if (info.kind === 'bool' && !allBits(blob)) fail(E.boolValue);
    }
    return new Tensor(dtype, s, own(blob), Number(n));
  }

  /**
   * A tensor from VALUES arguments: floats like strtod, ints like strtoll range-checked for the
   * dtype (negatives accepted for signed types, unlike the original), BOOL 0/1, STRING raw bytes
   * (one trailing NUL is dropped, as the original allowed; any other NUL is an error).
   */
  static fromValues(dtype: DType, shape: readonly number[], values: readonly Buffer[]): Tensor {
    const s = validShape(shape);
    if (values.length !== product(s) || BigInt(values.length) !== elementCount(s)) fail(E.valuesCount);
    const n = values.length;
    const info = DTYPES[dtype];
    if (info.kind === 'string') return new Tensor(dtype, s, joinStrings(values), n);

    const arr = new info.array(n);
    if (info.kind === 'float') {
      const out = arr as Float32Array | Float64Array;
      for (let i = 0; i < n; i++) {
        const v = parseDoubleBytes(values[i]!);
        if (v === undefined) fail(E.invalidValue);
        out[i] = v; // a Float32Array store rounds to float32, like the original's C cast
      }
    } else {
      const { min, max } = info.range as { min: bigint; max: bigint };
      const lo = Number(min);
      const hi = Number(max);
      const big = arr instanceof BigInt64Array;
      for (let i = 0; i < n; i++) {
        // Up to 15 digits as a plain number (exact); longer ones (INT64's range) as a bigint.
        const small = parseSmallInteger(values[i]!);
        if (small !== undefined) {
          // BOOL 2 is `ERR invalid value` here, as in the original; E.boolValue is for BLOB bytes.
          if (small < lo || small > hi) fail(E.invalidValue);
          if (big) (arr as BigInt64Array)[i] = BigInt(small);
          else (arr as Exclude<TensorView, BigInt64Array>)[i] = small;
          continue;
        }
        const v = parseInteger(values[i]!.toString('latin1'));
        if (v === undefined || v < min || v > max) fail(E.invalidValue);
        if (big) (arr as BigInt64Array)[i] = v;
        else (arr as Exclude<TensorView, BigInt64Array>)[i] = Number(v);
      }
    }
    return new Tensor(dtype, s, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength), n);
  }

  /** The elements: floats as numbers (float32 widened exactly), INT64 as bigint, other ints/BOOL as numbers, STRING as Buffers (views into `data`, without the NUL). */
  values(): TensorValue[] {
    if (DTYPES[this.dtype].kind === 'string') return splitStrings(this.data);
    return Array.from(this.view() as ArrayLike<number | bigint>);
  }

  /**
   * The matching typed array over `data` (STRING: its bytes as Uint8Array). Shares memory when
   * `data` is aligned for the element size; otherwise (a blob at an odd offset in a socket chunk)
   * returns a view over an aligned copy, since typed arrays cannot be unaligned.
   */
  view(): TensorView {
    const ctor = DTYPES[this.dtype].array;
    const el = ctor.BYTES_PER_ELEMENT;
    let d = this.data;
    if (d.byteOffset % el !== 0) {
      const c = Buffer.allocUnsafeSlow(d.length);
      d.copy(c);
      d = c;
    }
    return new ctor(d.buffer, d.byteOffset, d.length / el);
  }
}

/**
 * Parses shape arguments: each a decimal integer > 0 within int64, written as Redis's
 * string2ll accepts it (no sign, space, leading zero, or fraction); else `E.invalidShape`.
 * Dimensions past 2^53 come back rounded: `checkSize` rejects them anyway.
 */
export function parseShape(args: readonly Buffer[]): number[] {
  return args.map(parseDim);
}

const DIM = /^[1-9][0-9]{0,18}$/;
const INT64_MAX = (1n << 63n) - 1n;

/** One shape argument; see `parseShape`. */
export function parseDim(arg: Buffer): number {
  const s = arg.length <= 19 ? arg.toString('latin1') : '';
  if (!DIM.test(s) || (s.length === 19 && BigInt(s) > INT64_MAX)) fail(E.invalidShape);
  return Number(s);
}

/**
 * Throws before anything is allocated when a tensor of this dtype and shape would not fit in
 * `maxBytes` (STRING: more elements than `maxBytes`, since each takes at least its NUL), or in a
 * Node Buffer. Exact for any dims: the product is taken in bigint and stops once over the limit.
 */
export function checkSize(dtype: DType, shape: readonly number[], maxBytes: number): void {
  const limit = Math.min(maxBytes, bufferConstants.MAX_LENGTH);
  const max = Math.max(0, Math.floor(limit));
  // Plain numbers suffice: `bytes` stays <= max (far below 2^53) before each product, and a
  // product past max is refused whatever its rounding.
  let bytes = DTYPES[dtype].size || 1;
  if (bytes > max) fail(E.tensorTooLarge(limit));
  for (const d of shape) {
    if (!Number.isInteger(d) || d <= 0) fail(E.invalidShape);
    bytes *= d;
    if (bytes > max) fail(E.tensorTooLarge(limit));
  }
}

/**
 * Joins tensors along dim 0 (auto-batching). All must share the dtype and every dimension after
 * the first; a lone tensor is returned as is.
 */
export function concat(tensors: readonly Tensor[]): Tensor {
  const first = tensors[0];
  if (first === undefined || first.shape.length === 0) fail(E.batchMismatch);
  if (tensors.length === 1) return first;
  const rest = first.shape.slice(1);
  let dim0 = 0;
  let bytes = 0;
  let len = 0;
  for (const t of tensors) {
    if (t.dtype !== first.dtype || t.shape.length !== first.shape.length) fail(E.batchMismatch);
    for (let i = 0; i < rest.length; i++) if (t.shape[i + 1] !== rest[i]) fail(E.batchMismatch);
    dim0 += t.shape[0] as number;
    bytes += t.byteLength;
    len += t.length;
  }
  // Own allocation rather than Buffer.concat, whose small results would share Node's pool slab.
  const data = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (const t of tensors) at += t.data.copy(data, at);
  return newTensor(first.dtype, Object.freeze([dim0, ...rest]), data, len);
}

/**
 * Splits along dim 0 into parts of `sizes` rows each (auto-batching); the sizes must be positive
 * and add up to dim 0. STRING tensors split at element boundaries. Parts share `t.data` unless that
 * would pin much more memory than they hold (see `own`).
 */
export function split(t: Tensor, sizes: readonly number[]): Tensor[] {
  const dim0 = t.shape[0];
  if (dim0 === undefined) fail(E.batchSplit);
  let sum = 0;
  for (const s of sizes) {
    if (!Number.isSafeInteger(s) || s <= 0) fail(E.batchSplit);
    sum += s;
  }
  if (sum !== dim0) fail(E.batchSplit);
  if (sizes.length === 1) return [t];

  const rest = t.shape.slice(1);
  const rowLen = t.length / dim0;
  const info = DTYPES[t.dtype];
  // Byte offset of each row boundary, in order.
  const bounds: number[] = [0];
  if (info.kind === 'string') {
    const starts = stringStarts(t.data);
    let row = 0;
    for (const s of sizes) {
      row += s;
      bounds.push(row === dim0 ? t.data.length : (starts[row * rowLen] as number));
    }
  } else {
    let row = 0;
    for (const s of sizes) {
      row += s;
      bounds.push(row * rowLen * info.size);
    }
  }
  return sizes.map((s, i) =>
    newTensor(
      t.dtype,
      Object.freeze([s, ...rest]),
      own(t.data.subarray(bounds[i], bounds[i + 1])),
      s * rowLen,
    ),
  );
}

// ---- internals ------------------------------------------------------------------------------

// Reaches the private constructor for the module's own functions without widening the public API.
const newTensor = (dtype: DType, shape: readonly number[], data: Buffer, length: number): Tensor =>
  new (Tensor as unknown as new (d: DType, s: readonly number[], b: Buffer, n: number) => Tensor)(
    dtype,
    shape,
    data,
    length,
  );

function validShape(shape: readonly number[]): readonly number[] {
  for (const d of shape) if (!Number.isSafeInteger(d) || d <= 0) fail(E.invalidShape);
  return Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
}

function elementCount(shape: readonly number[]): bigint {
  let n = 1;
  for (const d of shape) n *= d;
  if (Number.isSafeInteger(n)) return BigInt(n);
  let big = 1n;
  for (const d of shape) big *= BigInt(d);
  return big;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The buffer to keep for a tensor. Arguments arrive as views into the parser's read chunks (or
 * into Node's 8 KiB pool slab); a stored tensor keeps its buffer alive as long as the key lives,
 * so a small view would pin the whole chunk. When the backing store is more than twice the view,
 * copy into an allocation of exactly its size (allocUnsafeSlow: never the shared pool).
 */
function own(b: Buffer): Buffer {
  if (b.buffer.byteLength <= 2 * b.length) return b;
  const c = Buffer.allocUnsafeSlow(b.length);
  b.copy(c);
  return c;
}

function allBits(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if ((b[i] as number) > 1) return false;
  return true;
}

/** Number of NUL-terminated strings in a STRING blob; -1 when it does not end with a NUL. */
function countStrings(b: Buffer): number {
  if (b.length === 0 || b[b.length - 1] !== 0) return -1;
  let n = 0;
  for (let at = b.indexOf(0); at !== -1; at = b.indexOf(0, at + 1)) n++;
  return n;
}

/** Start offset of each string in a (valid) STRING blob. */
function stringStarts(b: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 0; at < b.length; ) {
    starts.push(at);
    const end = b.indexOf(0, at);
    if (end === -1) break;
    at = end + 1;
  }
  return starts;
}

function splitStrings(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; ) {
    const found = b.indexOf(0, at);
    const end = found === -1 ? b.length : found;
    out.push(b.subarray(at, end));
    at = end + 1;
  }
  return out;
}

function joinStrings(values: readonly Buffer[]): Buffer {
  const parts = values.map((v) => (v.length > 0 && v[v.length - 1] === 0 ? v.subarray(0, -1) : v));
  let total = 0;
  for (const p of parts) {
    if (p.includes(0)) fail(E.stringValueNul);
    total += p.length + 1;
  }
  const data = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of parts) {
    at += p.copy(data, at);
    data[at++] = 0;
  }
  return data;
}
