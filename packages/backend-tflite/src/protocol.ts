import type { DType } from '@respai/core';

/** TfLiteType of the C API (tensorflow/lite/c/common.h, TFLite 2.2). */
export const TfLiteType = {
  NoType: 0,
  Float32: 1,
  Int32: 2,
  UInt8: 3,
  Int64: 4,
  String: 5,
  Bool: 6,
  Int16: 7,
  Complex64: 8,
  Int8: 9,
  Float16: 10,
} as const;

const NAMES = ['NOTYPE', 'FLOAT32', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8', 'FLOAT16'];

/** TFLite's name of a type, as error texts show it. */
export function typeName(type: number): string {
  return NAMES[type] ?? `type ${type}`;
}

const TO_DTYPE = new Map<number, DType>([
  [TfLiteType.Float32, 'FLOAT'],
  [TfLiteType.Int32, 'INT32'],
  [TfLiteType.UInt8, 'UINT8'],
  [TfLiteType.Int64, 'INT64'],
  [TfLiteType.Bool, 'BOOL'],
  [TfLiteType.Int16, 'INT16'],
  [TfLiteType.Int8, 'INT8'],
]);

/** The respai dtype holding a TFLite type byte for byte; undefined for STRING, FLOAT16, COMPLEX64. */
export function dtypeOf(type: number): DType | undefined {
  return TO_DTYPE.get(type);
}

/** One input or output tensor as the interpreter describes it. */
export interface WireTensorInfo {
  readonly name: string;
  readonly type: number;
  readonly dims: readonly number[];
  /** Quantization of uint8 / int8 tensors (scale 0: not quantized). */
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface WireModelInfo {
  readonly inputs: readonly WireTensorInfo[];
  readonly outputs: readonly WireTensorInfo[];
}

/** An input crossing to the worker: the dims the interpreter's tensor must have, and its bytes (moved). */
export interface WireInput {
  readonly dims: readonly number[];
  readonly data: ArrayBuffer;
}

/** An output from the worker. */
export interface WireOutput extends WireTensorInfo {
  readonly data: ArrayBuffer;
}

/** What every TFLITE worker is started with. */
export interface WorkerSettings {
  /** TfLiteInterpreterOptionsSetNumThreads; 0 = TFLite's default. */
  readonly numThreads: number;
}
