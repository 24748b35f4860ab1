import { E, fail } from '../errors.js';
import { DTYPES, isKeyword, parseDType, type DType } from './dtype.js';
import { checkSize, parseDim, Tensor, type TensorValue } from './tensor.js';

export interface TensorArgsOptions {
  /** Largest tensor accepted, in bytes (proto-max-bulk-len); checked before allocating. */
  maxBytes: number;
}

/**
 * Builds a tensor from the AI.TENSORSET arguments after the key (shared with the DAG parser):
 * `<type> <dim...> [BLOB <data> | VALUES <v...>]`.
 *
 * Checks run in the original's order, since it decides which error a client sees: the dtype;
 * then the arguments left to right, each dimension as it comes, and on reaching BLOB/VALUES
 * (case-insensitive) their arity (BLOB exactly one argument, VALUES exactly one per element);
 * then the size guard; then the data. No BLOB/VALUES gives zeros. A keyword right after the type
 * makes a scalar (empty shape), as in the original. Arity proper is the caller's: with no
 * arguments this says `E.invalidDataType`, with only a type `E.invalidShape`.
 */
export function tensorFromArgs(args: readonly Buffer[], opts: TensorArgsOptions): Tensor {
  const typeArg = args[0];
  if (typeArg === undefined) fail(E.invalidDataType);
  const dtype = parseDType(typeArg);

  const shape: number[] = [];
  // A float product is exact while it is a safe integer; past that, bigints decide.
  let elements = 1;
  let format: 'none' | 'blob' | 'values' = 'none';
  let at = 1;
  for (; at < args.length; at++) {
    const arg = args[at] as Buffer;
    if (isKeyword(arg, 'BLOB')) {
      if (args.length - at - 1 !== 1) fail(E.blobArgs);
      format = 'blob';
      at++;
      break;
    }
    if (isKeyword(arg, 'VALUES')) {
      const given = args.length - at - 1;
      if (given !== elements || (!Number.isSafeInteger(elements) && BigInt(given) !== shape.reduce((a, d) => a * BigInt(d), 1n))) fail(E.valuesCount);
      format = 'values';
      at++;
      break;
    }
    const dim = parseDim(arg);
    shape.push(dim);
    elements *= dim;
  }
  if (shape.length === 0 && format === 'none') fail(E.invalidShape);

  checkSize(dtype, shape, opts.maxBytes);

  if (format === 'blob') return Tensor.fromBlob(dtype, shape, args[at] as Buffer);
  if (format === 'values') return Tensor.fromValues(dtype, shape, args.slice(at));
  return Tensor.zeros(dtype, shape);
}

/** What AI.TENSORGET should reply with. */
export interface TensorGetFormat {
  meta: boolean;
  blob: boolean;
  values: boolean;
}

/**
 * Parses the AI.TENSORGET arguments after the key: META, BLOB, VALUES in any order and case
 * (repeats allowed, as in the original). None = META + BLOB. The first unknown word is
 * `E.unsupportedFormat`; BLOB with VALUES is `E.blobAndValues`. Arity is the caller's.
 */
export function parseTensorGetFormat(args: readonly Buffer[]): TensorGetFormat {
  if (args.length === 0) return { meta: true, blob: true, values: false };
  const fmt: TensorGetFormat = { meta: false, blob: false, values: false };
  for (const arg of args) {
    if (isKeyword(arg, 'META')) fmt.meta = true;
    else if (isKeyword(arg, 'BLOB')) fmt.blob = true;
    else if (isKeyword(arg, 'VALUES')) fmt.values = true;
    else fail(E.unsupportedFormat);
  }
  if (fmt.blob && fmt.values) fail(E.blobAndValues);
  return fmt;
}

/**
 * AI.TENSORGET's reply as plain data; the server encodes it. Layout (RESP2), as the original:
 * - `meta` set: an array `dtype, <dtype>, shape, [dims as integers]`, followed by
 *   `blob, <blob>` or `values, [values]` when either is present;
 * - no `meta`: the bare `blob` bulk string, or the bare `values` array.
 * In `values`, when `floats` is true every number is a float sent as a `%.17g` bulk string
 * (RESP2 double); otherwise numbers and bigints are RESP integers and Buffers (STRING
 * elements) bulk strings.
 */
export interface TensorGetResult {
  meta?: { dtype: DType; shape: readonly number[] };
  blob?: Buffer;
  values?: TensorValue[];
  floats: boolean;
}

export function tensorGetReply(t: Tensor, fmt: TensorGetFormat): TensorGetResult {
  const r: TensorGetResult = { floats: DTYPES[t.dtype].kind === 'float' };
  if (fmt.meta) r.meta = { dtype: t.dtype, shape: t.shape };
  if (fmt.blob) r.blob = t.data;
  else if (fmt.values) r.values = t.values();
  return r;
}
