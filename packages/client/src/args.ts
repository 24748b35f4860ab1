/** Command arguments shared by the client's methods and the DAG builder: pure, unit-tested alone. */
import type { ModelStoreOptions, ScriptArgs, TensorSetOptions } from './client.js';
import type { Tensor, TensorInput } from './dtype.js';
import { encodeTensor } from './tensor.js';
import type { Arg } from './transport.js';

/** `NAME n a b c`, the counted-list form of the AI.* commands. */
export function counted(name: string, items: readonly (string | number)[]): Arg[] {
  return [name, String(items.length), ...items.map(String)];
}

/** AI.TENSORSET's arguments (also a DAG op's). */
export function tensorSetArgs(command: string, key: string, data: TensorInput | Tensor, options: TensorSetOptions): Arg[] {
  const t = isTensor(data)
    ? encodeTensor(data.data, { dtype: options.dtype ?? data.dtype, shape: options.shape ?? data.shape })
    : encodeTensor(data, options);
  const args: Arg[] = [command, key, t.dtype];
  for (const d of t.shape) args.push(String(d));
  args.push('BLOB', t.blob);
  return args;
}

function isTensor(x: TensorInput | Tensor): x is Tensor {
  return !Array.isArray(x) && !ArrayBuffer.isView(x) && typeof x === 'object' && 'dtype' in x && 'data' in x;
}

/** AI.MODELSTORE's arguments, the blob cut into chunks of `chunkSize` bytes (views, no copies). */
export function modelStoreArgs(key: string, o: ModelStoreOptions, chunkSize: number): Arg[] {
  const args: Arg[] = ['AI.MODELSTORE', key, o.backend, o.device ?? 'CPU'];
  if (o.tag !== undefined) args.push('TAG', o.tag);
  if (o.batchSize !== undefined) args.push('BATCHSIZE', String(o.batchSize));
  if (o.minBatchSize !== undefined) args.push('MINBATCHSIZE', String(o.minBatchSize));
  if (o.minBatchTimeout !== undefined) args.push('MINBATCHTIMEOUT', String(o.minBatchTimeout));
  if (o.inputs !== undefined) args.push(...counted('INPUTS', o.inputs));
  if (o.outputs !== undefined) args.push(...counted('OUTPUTS', o.outputs));
  args.push('BLOB');
  const blob = Buffer.from(o.blob.buffer, o.blob.byteOffset, o.blob.byteLength);
  if (!(chunkSize > 0)) throw new RangeError(`MODEL_CHUNK_SIZE must be positive, got ${chunkSize}`);
  for (let off = 0; off < blob.length || off === 0; off += chunkSize) args.push(blob.subarray(off, off + chunkSize));
  return args;
}

/** INPUTS / LIST_INPUTS / ARGS / OUTPUTS of AI.SCRIPTEXECUTE (also inside a DAG). */
export function scriptArgs(o: ScriptArgs): Arg[] {
  const args: Arg[] = [];
  if (o.inputs !== undefined) args.push(...counted('INPUTS', o.inputs));
  for (const l of o.listInputs ?? []) args.push(...counted('LIST_INPUTS', l));
  if (o.args !== undefined) args.push(...counted('ARGS', o.args));
  if (o.outputs !== undefined) args.push(...counted('OUTPUTS', o.outputs));
  return args;
}

