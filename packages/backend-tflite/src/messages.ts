import type { DType } from '@respai/core';

/** TFLite's own text as one RESP error line. */
export function cleanTfliteMessage(message: string): string {
  return message.replace(/\r?\n/g, ' ').trim();
}

const quantHint = (scale: number, zeroPoint: number) =>
  scale > 0 ? ` (quantized: scale ${scale}, zero point ${zeroPoint}; send q = round(x / scale) + zero point)` : '';

/** Every text this backend replies with besides TFLite's own. */
export const TFLITE_ERR = {
  runtime: (message: string) => `ERR ${cleanTfliteMessage(message)}`,
  notTflite: 'ERR Invalid TFLITE model: the bytes are not a TFLite flatbuffer (no TFL3 file identifier)',
  invalid: (why: string) => `ERR Invalid TFLITE model: ${cleanTfliteMessage(why)}`,
  crashed: (signal: string) =>
    `ERR Invalid TFLITE model: TFLite crashed reading it (${signal}); the flatbuffer passes TFLite's verifier but its contents are inconsistent`,
  unsupportedType: (what: 'input' | 'output', name: string, type: string) =>
    `ERR TFLITE model ${what} '${name}' has type ${type}, which no respai dtype holds`,
  /** The original's text for this case. */
  inputCount: (expected: number, got: number) => `ERR Expected ${expected} inputs but got ${got}`,
  inputDtype: (name: string, expected: DType, got: DType, scale: number, zeroPoint: number) =>
    `ERR TFLITE model input '${name}' expects ${expected}, got ${got}${quantHint(scale, zeroPoint)}`,
  inputSize: (name: string, dims: readonly number[], got: readonly number[]) =>
    `ERR TFLITE model input '${name}' has shape [${dims.join(', ')}] and cannot take a tensor of shape [${got.join(', ')}]`,
  emptyOutput: (name: string, dims: readonly number[]) =>
    `ERR TFLITE model output '${name}' is empty (shape [${dims.join(', ')}]); respai tensors need every dimension > 0`,
} as const;
