import {
  NUMERIC,
  dtypeOfArray,
  isNumericDType,
  type DType,
  type NumericArray,
  type Tensor,
  type TensorInput,
} from './dtype.js';

/** A tensor ready for the wire: AI.TENSORSET's dtype, dimensions and BLOB. */
export interface EncodedTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly blob: Buffer;
}

/** Tensor blobs are little-endian on the wire (RedisAI stores machine order, and every host it ran on is LE). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const utf8 = new TextDecoder('utf-8');

function isNumericArray(x: unknown): x is NumericArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Byte-swaps a copy of `bytes` in place for elements of `width` bytes (big-endian hosts only). */
function swapped(bytes: Buffer, width: number): Buffer {
  const copy = Buffer.from(bytes);
  if (width === 2) copy.swap16();
  else if (width === 4) copy.swap32();
  else if (width === 8) copy.swap64();
  return copy;
}

/** A Buffer over the same memory as `view` (no copy). */
export function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[]): void {
  if (shape.length === 0) throw new TypeError('a tensor needs at least one dimension');
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new TypeError(`tensor dimensions are positive integers, got ${d}`);
  }
}

/**
 * Turns user data into AI.TENSORSET's dtype, shape and blob. Typed arrays of the dtype's own class
 * are sent as they are (a view, no copy); other arrays are converted to the dtype first.
 */
export function encodeTensor(data: TensorInput, options: { dtype?: DType; shape?: readonly number[] } = {}): EncodedTensor {
  if (Buffer.isBuffer(data)) return encodeBytes(data, options.dtype ?? 'UINT8', options.shape);
  const dtype = options.dtype ?? inferDType(data);
  const length = data.length;
  const shape = options.shape ?? [length];
  checkShape(shape);
  if (elementCount(shape) !== length) {
    throw new TypeError(`shape [${shape.join(', ')}] holds ${elementCount(shape)} elements, the data has ${length}`);
  }
  return { dtype, shape, blob: encodeData(dtype, data) };
}

/**
 * A Node Buffer is the tensor's bytes as they go on the wire (AI.TENSORSET's BLOB): little-endian
 * elements of `dtype`, or NUL-terminated strings for STRING. The server checks the contents.
 */
function encodeBytes(blob: Buffer, dtype: DType, shape: readonly number[] | undefined): EncodedTensor {
  const width = dtype === 'STRING' ? 0 : dtype === 'BOOL' ? 1 : NUMERIC[dtype as keyof typeof NUMERIC]?.BYTES_PER_ELEMENT;
  if (width === undefined) throw new TypeError(`unknown dtype ${String(dtype)}`);
  let count = 0;
  if (width === 0) for (const b of blob) count += b === 0 ? 1 : 0;
  else {
    if (blob.length % width !== 0) throw new TypeError(`${blob.length} bytes are not a whole number of ${dtype} elements`);
    count = blob.length / width;
  }
  const s = shape ?? [count];
  checkShape(s);
  if (elementCount(s) !== count) {
    throw new TypeError(`shape [${s.join(', ')}] holds ${elementCount(s)} elements, the ${blob.length} bytes hold ${count} ${dtype} elements`);
  }
  return { dtype, shape: s, blob };
}

function inferDType(data: TensorInput): DType {
  if (isNumericArray(data)) return dtypeOfArray(data);
  const first = (data as readonly unknown[])[0];
  if (typeof first === 'string') return 'STRING';
  if (typeof first === 'boolean') return 'BOOL';
  if (typeof first === 'bigint') return 'INT64';
  throw new TypeError('pass a dtype for plain arrays of numbers (or use a typed array such as Float32Array)');
}

function encodeData(dtype: DType, data: TensorInput): Buffer {
  if (dtype === 'STRING') {
    const parts: Buffer[] = [];
    for (const s of data as readonly unknown[]) {
      if (typeof s !== 'string') throw new TypeError(`STRING tensors take strings, got ${typeof s}`);
      if (s.includes('\0')) throw new TypeError('STRING tensor elements cannot contain NUL characters');
      parts.push(Buffer.from(s, 'utf8'), Buffer.alloc(1));
    }
    return Buffer.concat(parts);
  }
  if (dtype === 'BOOL') {
    if (data instanceof Uint8Array) return bytesOf(data);
    const out = Buffer.alloc(data.length);
    (data as readonly unknown[]).forEach((v, i) => {
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw new TypeError(`BOOL tensors take booleans (or 0 and 1), got ${String(v)}`);
      out[i] = v ? 1 : 0;
    });
    return out;
  }
  if (!isNumericDType(dtype)) throw new TypeError(`unknown dtype ${String(dtype)}`);
  const Ctor = NUMERIC[dtype];
  let arr: NumericArray;
  if (data instanceof Ctor) arr = data as NumericArray;
  else if (dtype === 'INT64') arr = BigInt64Array.from(data as ArrayLike<number | bigint>, (v) => BigInt(v));
  else {
    const src = data as ArrayLike<unknown>;
    for (let i = 0; i < src.length; i++) {
      if (typeof src[i] !== 'number') throw new TypeError(`${dtype} tensors take numbers, got ${typeof src[i]}`);
    }
    arr = (Ctor as unknown as { from(a: ArrayLike<number>): NumericArray }).from(src as ArrayLike<number>);
  }
  const bytes = bytesOf(arr);
  return LITTLE_ENDIAN ? bytes : swapped(bytes, Ctor.BYTES_PER_ELEMENT);
}

/**
 * Builds a tensor from AI.TENSORGET's dtype, shape and blob. Numeric data is a typed-array view
 * over the reply's bytes when they are aligned for the dtype, otherwise a copy.
 */
export function decodeTensor(dtype: DType, shape: readonly number[], blob: Buffer): Tensor {
  if (dtype === 'STRING') {
    const data: string[] = [];
    let start = 0;
    for (let i = blob.indexOf(0); i !== -1; i = blob.indexOf(0, start)) {
      data.push(utf8.decode(blob.subarray(start, i)));
      start = i + 1;
    }
    return { dtype, shape, data };
  }
  if (dtype === 'BOOL') return { dtype, shape, data: Array.from(blob, (b) => b !== 0) };
  if (!isNumericDType(dtype)) throw new TypeError(`unknown dtype ${String(dtype)}`);
  const Ctor = NUMERIC[dtype];
  const width = Ctor.BYTES_PER_ELEMENT;
  if (blob.length % width !== 0) throw new TypeError(`a ${dtype} blob of ${blob.length} bytes is not a whole number of elements`);
  let bytes = LITTLE_ENDIAN ? blob : swapped(blob, width);
  if (bytes.byteOffset % width !== 0) bytes = Buffer.from(bytes);
  return { dtype, shape, data: new Ctor(bytes.buffer, bytes.byteOffset, bytes.length / width) } as Tensor;
}
