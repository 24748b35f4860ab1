import { echo, type DType } from '@respai/core/worker';

/** Every text this backend replies with besides tfjs's own and WorkerModels' (timeouts, lost workers, the memory limit). */
export const TF_ERR = {
  /** A tfjs error, or one of the worker's messages below, as one RESP error line. */
  runtime: (message: string) => `ERR ${message.replace(/\r?\n/g, ' ')}`,
  /**
   * The reply for a blob that is no usable GraphDef: TensorFlow's own text, which clients compare
   * exactly (redisai-py does). What the blob seemed to be goes to the server log.
   */
  invalidGraphDef: 'ERR Invalid GraphDef',
  /** TensorFlow's texts for INPUTS/OUTPUTS the graph lacks (the input's with a period, the output's without). */
  inputNotFound: (name: string) => `ERR Input node named "${echo(name)}" not found in TF graph.`,
  outputNotFound: (name: string) => `ERR Output node named "${echo(name)}" not found in TF graph`,
  inputCount: (expected: number, got: number) =>
    `ERR the TF model takes ${expected} input${expected === 1 ? '' : 's'}, got ${got}`,
  inputDtype: (name: string, expected: DType, got: DType) =>
    `ERR Input node "${name}" of the TF graph expects ${expected}, got ${got}`,

  // Messages of the Errors a worker throws while it prepares a graph: the reply is `runtime(message)`.
  inputTwice: (name: string) => `Input node "${name}" is given twice in INPUTS`,
  /** `names`: the placeholders' node names. */
  unfedPlaceholders: (names: readonly string[]) =>
    `Placeholder${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')} ` +
    `must be fed to compute the OUTPUTS, but ${names.length > 1 ? 'are' : 'is'} not among the INPUTS`,
  /** `ops`: each op with the nodes using it; `calls`: a function call op is among them. */
  unsupportedOps: (converterVersion: string, ops: readonly string[], calls: boolean) =>
    `TF graph uses ops the TF backend (tfjs-converter ${converterVersion}) cannot run: ${ops.join('; ')}` +
    (calls ? '; inline function calls when freezing (convert_variables_to_constants_v2)' : ''),
  /** `dtype`: TensorFlow's name of it (`DT_...`). */
  unsupportedDtype: (isInput: boolean, name: string, dtype: string) =>
    `${isInput ? 'Input' : 'Output'} node "${name}" has dtype ${dtype}, which respai tensors cannot hold`,
} as const;
