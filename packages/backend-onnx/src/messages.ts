import type { DType } from '@respai/core';

/**
 * onnxruntime's message as a client should see it: without the status-code prefixes some builds put
 * in front (`[ErrorCode:InvalidProtobuf] `, Python-style `[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : `)
 * and with line breaks as spaces (a RESP error is one line). The text itself is kept exactly, as
 * clients written against RedisAI compare it (e.g. `No graph was found in the protobuf.`).
 */
export function cleanOrtMessage(message: string): string {
  return message
    .replace(/^(?:\s*\[[A-Za-z]+(?::[A-Za-z_]+)?\](?:\s*:\s*\d+\s*:\s*[A-Z_]+\s*:)?\s*)+/, '')
    .replace(/\r?\n/g, ' ');
}

/** Every text this backend replies with besides onnxruntime's own and WorkerModels' (timeouts, lost workers, the memory limit). */
export const ONNX_ERR = {
  ort: (message: string) => `ERR ${cleanOrtMessage(message)}`,
  nonTensorOutput: (name: string) =>
    `ERR ONNX model output '${name}' is not a tensor but a sequence or map; respai returns tensors only (of those, it turns a classifier's final ZipMap into its probabilities tensor)`,
  nonTensorInput: (name: string) => `ERR ONNX model input '${name}' is not a tensor but a sequence or map; respai feeds tensors only`,
  unsupportedType: (what: 'input' | 'output', name: string, type: string) =>
    `ERR ONNX model ${what} '${name}' has type ${type}, which no respai dtype holds`,
  /** The original's text for this case. */
  inputCount: (expected: number, got: number) => `ERR Expected ${expected} inputs but got ${got}`,
  inputDtype: (name: string, expected: DType, got: DType) => `ERR ONNX model input '${name}' expects ${expected}, got ${got}`,
  emptyOutput: (name: string, dims: readonly number[]) =>
    `ERR ONNX model output '${name}' is empty (shape [${dims.join(', ')}]); respai tensors need every dimension > 0`,
} as const;
