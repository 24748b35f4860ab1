/**
 * The tensor data types, by the names of the RedisAI reference, and the JavaScript type that holds
 * each one's elements.
 */

/** A tensor's data type, as the server names it. */
export type DType = 'FLOAT' | 'DOUBLE' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'UINT8' | 'UINT16' | 'BOOL' | 'STRING';

/**
 * What holds a tensor's elements, per dtype: a typed array of the dtype's width for numbers
 * (`BigInt64Array` for INT64, whose values do not fit a double), `boolean[]` for BOOL and
 * `string[]` for STRING (UTF-8 on the wire).
 */
export interface TensorDataMap {
  FLOAT: Float32Array;
  DOUBLE: Float64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  BOOL: boolean[];
  STRING: string[];
}

/** A tensor as `tensorGet` returns it and `tensorSet` accepts it, discriminated by `dtype`. */
export type Tensor<D extends DType = DType> = {
  [K in D]: {
    /** The data type. */
    readonly dtype: K;
    /** One entry per dimension; the product is the element count. */
    readonly shape: readonly number[];
    /** The elements in row-major order. */
    readonly data: TensorDataMap[K];
  };
}[D];

/** Typed arrays that map one to one onto a numeric dtype. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array;

/**
 * Anything `tensorSet` can store: typed arrays, `boolean[]`, `string[]`, `number[]` with a dtype,
 * or a Node `Buffer`, which is taken as the tensor's raw bytes (its BLOB) in the given dtype.
 */
export type TensorInput = NumericArray | readonly boolean[] | readonly string[] | readonly number[] | readonly bigint[];

type NumericDType = Exclude<DType, 'BOOL' | 'STRING'>;

interface ArrayCtor {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** Element width in bytes and typed-array class of each numeric dtype (BOOL is one byte). */
export const NUMERIC: { readonly [K in NumericDType]: ArrayCtor } = {
  FLOAT: Float32Array,
  DOUBLE: Float64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array as unknown as ArrayCtor,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
};

/** Every dtype name, in the reference's order. */
export const DTYPES: readonly DType[] = Object.freeze([
  'FLOAT',
  'DOUBLE',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'BOOL',
  'STRING',
]);

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

export function isNumericDType(d: DType): d is NumericDType {
  return d !== 'BOOL' && d !== 'STRING';
}

/** The dtype a typed array stands for (Uint8Array is UINT8; pass `dtype: 'BOOL'` for booleans). */
export function dtypeOfArray(a: NumericArray): NumericDType {
  if (a instanceof Float32Array) return 'FLOAT';
  if (a instanceof Float64Array) return 'DOUBLE';
  if (a instanceof Int8Array) return 'INT8';
  if (a instanceof Int16Array) return 'INT16';
  if (a instanceof Int32Array) return 'INT32';
  if (a instanceof BigInt64Array) return 'INT64';
  if (a instanceof Uint16Array) return 'UINT16';
  return 'UINT8';
}
