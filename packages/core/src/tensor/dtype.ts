import { E, fail } from '../errors.js';

/** What a dtype's elements are: decides how VALUES are parsed and how TENSORGET VALUES replies. */
export type DTypeKind = 'float' | 'int' | 'bool' | 'string';

/** Every typed array a tensor can be viewed as. */
export type TensorView =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array;

export interface TypedArrayCtor {
  new (length: number): TensorView;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorView;
  readonly BYTES_PER_ELEMENT: number;
}

export interface DTypeInfo {
  /** Bytes per element; 0 for STRING, whose elements are NUL-terminated and vary in size. */
  readonly size: number;
  readonly kind: DTypeKind;
  /** Inclusive VALUES range for int and bool dtypes (bool is 0..1, so one check serves both). */
  readonly range?: { readonly min: bigint; readonly max: bigint };
  /** Typed array over the data; STRING views as raw bytes. */
  readonly array: TypedArrayCtor;
}

const signed = (bits: number) => ({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n });
const unsigned = (bits: number) => ({ min: 0n, max: (1n << BigInt(bits)) - 1n });

// The single source of truth: `DType` and every per-dtype fact derive from this table.
const table = {
  FLOAT: { size: 4, kind: 'float', array: Float32Array },
  DOUBLE: { size: 8, kind: 'float', array: Float64Array },
  INT8: { size: 1, kind: 'int', range: signed(8), array: Int8Array },
  INT16: { size: 2, kind: 'int', range: signed(16), array: Int16Array },
  INT32: { size: 4, kind: 'int', range: signed(32), array: Int32Array },
  INT64: { size: 8, kind: 'int', range: signed(64), array: BigInt64Array },
  UINT8: { size: 1, kind: 'int', range: unsigned(8), array: Uint8Array },
  UINT16: { size: 2, kind: 'int', range: unsigned(16), array: Uint16Array },
  BOOL: { size: 1, kind: 'bool', range: unsigned(1), array: Uint8Array },
  STRING: { size: 0, kind: 'string', array: Uint8Array },
} satisfies Record<string, DTypeInfo>;

export type DType = keyof typeof table;
export const DTYPES: { readonly [K in DType]: DTypeInfo } = table;
/** All dtype names, in table order. */
export const DTYPE_NAMES = Object.freeze(Object.keys(table) as DType[]);

/** Upper-cases ASCII letters only: Unicode case mapping would let non-ASCII bytes match names. */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Case-insensitive ASCII match of an argument against an upper-case keyword, without decoding long args. */
export function isKeyword(arg: Buffer, keyword: string): boolean {
  return arg.length === keyword.length && asciiUpper(arg.toString('latin1')) === keyword;
}

const byName = new Map<string, DType>(DTYPE_NAMES.map((n) => [n, n]));
const longestName = Math.max(...DTYPE_NAMES.map((n) => n.length));

/** The dtype named by `arg`, case-insensitively; otherwise `ERR invalid data type`. */
export function parseDType(arg: Buffer | string): DType {
  if (arg.length > longestName) fail(E.invalidDataType);
  const s = typeof arg === 'string' ? arg : arg.toString('latin1');
  return byName.get(asciiUpper(s)) ?? fail(E.invalidDataType);
}
