import type { DType } from '@respai/core';

/** onnxruntime-node's tensor type names for the dtypes respai has. */
export type OrtType = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'bool' | 'string';

export const TO_ORT: { readonly [K in DType]: OrtType } = {
  FLOAT: 'float32',
  DOUBLE: 'float64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  UINT8: 'uint8',
  UINT16: 'uint16',
  BOOL: 'bool',
  STRING: 'string',
};

const fromOrt = new Map<string, DType>(Object.entries(TO_ORT).map(([d, o]) => [o, d as DType]));

/** The respai dtype of an onnxruntime type name, if respai has one (no float16, uint32, ...). */
export function dtypeOfOrt(type: string): DType | undefined {
  return fromOrt.get(type);
}

/**
 * A tensor crossing the thread boundary: `data` is an ArrayBuffer of its own (moved, not copied);
 * numeric types little-endian back to back, `string` as NUL-terminated UTF-8 strings back to back.
 */
export interface WireTensor {
  readonly type: OrtType;
  readonly dims: readonly number[];
  readonly data: ArrayBuffer;
}

/** An input or output as onnxruntime's session metadata describes it. */
export interface WireValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  /** onnxruntime's type name (tensors only), e.g. 'float32', 'float16'. */
  readonly type?: string;
  /** Dimensions, symbolic ones by name; empty when unknown or a scalar. */
  readonly shape?: readonly (number | string)[];
}

export interface WireModelInfo {
  readonly inputs: readonly WireValueInfo[];
  readonly outputs: readonly WireValueInfo[];
}

/** What every ONNX worker is started with. */
export interface WorkerSettings {
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: number;
}
