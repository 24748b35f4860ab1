import { BACKEND_NAMES, E, fail, parseDevice, type BackendName, type ModelSpec } from '@respai/core';
import { is, parseInt64 } from './args.js';

function parseBackend(arg: Buffer): BackendName {
  const name = arg.toString().toUpperCase();
  if (!BACKEND_NAMES.includes(name as BackendName)) fail(E.unsupportedBackend);
  return name as BackendName;
}

/** An unsigned integer option value (the original's AC_GetUnsignedLongLong), or the given error. */
function unsigned(arg: Buffer | undefined, error: string): number {
  const v = arg === undefined ? undefined : parseInt64(arg);
  if (v === undefined || v < 0n || v > 2n ** 31n) fail(error);
  return Number(v);
}

/** `backend device [TAG t] [BATCHSIZE n] [MINBATCHSIZE m] [MINBATCHTIMEOUT t]`, common to both forms. */
function parseModelOptions(args: readonly Buffer[], legacy: boolean) {
  const backend = parseBackend(args[0]!);
  const deviceArg = args[1]!.toString();
  // AI.MODELSET took any short word as a device, but not a keyword (`AI.MODELSET k TORCH BLOB ...`).
  if (legacy && ['INPUTS', 'OUTPUTS', 'TAG', 'BATCHSIZE', 'MINBATCHSIZE', 'MINBATCHTIMEOUT', 'BLOB'].some((k) => is(args[1], k))) {
    fail(E.invalidDevice);
  }
  const device = parseDevice(deviceArg);
  let i = 2;
  let tag = Buffer.alloc(0);
  let batchSize = 0;
  let minBatchSize = 0;
  let minBatchTimeout = 0;
  if (is(args[i], 'TAG')) {
    if (i + 1 < args.length) tag = Buffer.from(args[i + 1]!);
    i += 2;
  }
  if (is(args[i], 'BATCHSIZE')) {
    batchSize = unsigned(args[i + 1], E.batchSize);
    i += 2;
  }
  // MODELSTORE reads each value before checking what it depends on; MODELSET the other way round.
  if (is(args[i], 'MINBATCHSIZE')) {
    if (legacy && batchSize === 0) fail(E.minBatchWithoutBatch);
    minBatchSize = unsigned(args[i + 1], E.minBatchSize);
    if (batchSize === 0 && minBatchSize > 0) fail(E.minBatchWithoutBatch);
    i += 2;
  }
  if (is(args[i], 'MINBATCHTIMEOUT')) {
    if (legacy && batchSize === 0) fail(E.minBatchTimeoutWithoutBatch);
    if (legacy && minBatchSize === 0) fail(E.minBatchTimeoutWithoutMin);
    minBatchTimeout = unsigned(args[i + 1], E.minBatchTimeout);
    if (minBatchSize === 0 && minBatchTimeout > 0) fail(E.minBatchTimeoutWithoutMin);
    i += 2;
  }
  return { i: Math.min(i, args.length), spec: { backend, device, tag, batchSize, minBatchSize, minBatchTimeout } };
}

/**
 * AI.MODELSTORE's arguments after the key, with the original's texts in its order of checks:
 * `backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT t]]]
 *  [INPUTS n name... OUTPUTS n name...] BLOB chunk...` (INPUTS and OUTPUTS for TF only).
 * `legacy` is the deprecated AI.MODELSET: INPUTS/OUTPUTS take names without a count.
 */
export function parseModelStore(args: readonly Buffer[], legacy = false): ModelSpec {
  if (legacy) return parseModelSet(args);
  const { i: start, spec } = parseModelOptions(args, false);
  let i = start;
  if (i >= args.length) fail(E.missingBlob);
  let arg = args[i++]!;
  const tf = spec.backend === 'TF';
  const names = (isIn: boolean): string[] => {
    const n = parseInt64(args[i++] ?? Buffer.alloc(0));
    if (n === undefined || n <= 0n || n > 2n ** 31n) fail(isIn ? E.inputCountArg : E.outputCountArg);
    if (args.length - i < Number(n)) fail(E.modelNamesCountMismatch(isIn ? 'inputs' : 'outputs'));
    const out = args.slice(i, i + Number(n)).map((a) => a.toString());
    i += out.length;
    return out;
  };
  let inputs: string[] = [];
  let outputs: string[] = [];
  if (tf) {
    if (!is(arg, 'INPUTS')) fail(E.tfInputs);
    inputs = names(true);
    if (!is(args[i], 'OUTPUTS')) fail(E.tfOutputs);
    i++;
    outputs = names(false);
    // Nothing after the output names: the original compares its last word read, OUTPUTS, with BLOB.
    arg = args[i++] ?? arg;
  } else if (is(arg, 'INPUTS')) {
    fail(E.inputsNotForBackend);
  }
  if (!is(arg, 'BLOB')) fail(E.expectedBlob);
  const chunks = args.slice(i);
  if (chunks.length === 0) fail(E.missingBlob);
  // A private copy: the chunks may be views into socket reads.
  return { ...spec, inputs, outputs, blob: Buffer.concat(chunks as Buffer[]) };
}

/**
 * The deprecated AI.MODELSET, as the original walked it: the options, then everything up to
 * BLOB (for TF `INPUTS name... OUTPUTS name...`), then the blob chunks.
 */
function parseModelSet(args: readonly Buffer[]): ModelSpec {
  const { i: start, spec } = parseModelOptions(args, true);
  let i = start;
  if (i >= args.length) fail(E.missingBlob);
  let blobAt = args.findIndex((a, k) => k >= i && is(a, 'BLOB'));
  if (blobAt < 0) blobAt = args.length;
  const options = args.slice(i, blobAt);
  let inputs: string[] = [];
  let outputs: string[] = [];
  if (spec.backend === 'TF') {
    if (options.length === 0) fail(E.inputsOutputsNotSpecified);
    if (!is(options[0], 'INPUTS')) fail(E.inputsNotSpecified);
    const outAt = options.findIndex((a) => is(a, 'OUTPUTS'));
    if (outAt < 0) fail(E.outputsNotSpecified);
    inputs = options.slice(1, outAt).map((a) => a.toString());
    outputs = options.slice(outAt + 1).map((a) => a.toString());
  } else if (options.length > 0) {
    // The original ignored these words; respai says which one it did not expect.
    fail(is(options[0], 'INPUTS') ? E.inputsNotForBackend : blobAt < args.length ? E.expectedBlob : E.missingBlob);
  }
  i = blobAt + 1;
  const chunks = args.slice(i);
  if (blobAt >= args.length || chunks.length === 0) fail(E.missingBlob);
  return { ...spec, inputs, outputs, blob: Buffer.concat(chunks as Buffer[]) };
}

export interface ExecuteArgs {
  inputs: string[];
  outputs: string[];
  timeoutMs: number | undefined;
}

/** TIMEOUT's value: a positive integer (ms). */
export function parseTimeout(arg: Buffer | undefined): number {
  if (arg === undefined) fail(E.timeoutMissing);
  const v = parseInt64(arg);
  if (v === undefined || v <= 0n || v > 2n ** 52n) fail(E.timeoutInvalid);
  return Number(v);
}

/**
 * AI.MODELEXECUTE's arguments after the key, with the original's texts in its order of checks.
 * The input and output counts are checked against the model as soon as they are read, so the
 * model's counts come in (the caller looked the model up first, as the original does).
 * `cmd` names the command in the texts that mention it.
 */
export function parseModelExecute(
  args: readonly Buffer[],
  model: { inputs: number; outputs: number },
  cmd = 'AI.MODELEXECUTE',
): ExecuteArgs {
  let i = 0;
  const section = (keyword: 'INPUTS' | 'OUTPUTS'): string[] => {
    const isIn = keyword === 'INPUTS';
    if (!is(args[i], keyword)) fail(isIn ? E.inputsNotSpecified : E.outputsNotSpecified);
    const n = parseInt64(args[i + 1] ?? Buffer.alloc(0));
    if (n === undefined) fail(isIn ? E.inputCountArg : E.outputCountArg);
    if (n <= 0n) fail(isIn ? E.inputCountPositive : E.outputCountPositive);
    if (n !== BigInt(isIn ? model.inputs : model.outputs)) fail(isIn ? E.inputCountMismatch : E.outputCountMismatch);
    i += 2;
    const keys = args.slice(i, i + Number(n)).map((a) => a.toString('latin1'));
    if (keys.length !== Number(n)) fail(isIn ? E.inputKeysCount(cmd) : E.outputKeysCount(cmd));
    i += keys.length;
    return keys;
  };
  const inputs = section('INPUTS');
  const outputs = section('OUTPUTS');
  let timeoutMs: number | undefined;
  if (i < args.length && is(args[i], 'TIMEOUT')) {
    timeoutMs = parseTimeout(args[i + 1]);
    i += 2;
  }
  if (i < args.length) fail(E.invalidArgument(args[i]!.toString()));
  return { inputs, outputs, timeoutMs };
}

/**
 * The deprecated AI.MODELRUN: `[TIMEOUT t] INPUTS in... OUTPUTS out...` with no counts; the
 * counts are still checked against the model. As the original: after the first OUTPUTS every
 * argument is an output key, and a missing OUTPUTS is an output count that does not match.
 */
export function parseModelRun(args: readonly Buffer[], model: { inputs: number; outputs: number }): ExecuteArgs {
  let i = 0;
  let timeoutMs: number | undefined;
  if (is(args[i], 'TIMEOUT')) {
    timeoutMs = parseTimeout(args[i + 1]);
    i += 2;
  }
  if (!is(args[i], 'INPUTS')) fail(E.inputsNotSpecified);
  i++;
  const inputs: string[] = [];
  while (i < args.length && !is(args[i], 'OUTPUTS')) inputs.push(args[i++]!.toString('latin1'));
  const outputs = args.slice(i + 1).map((a) => a.toString('latin1'));
  if (inputs.length !== model.inputs) fail(E.inputCountMismatch);
  if (outputs.length !== model.outputs) fail(E.outputCountMismatch);
  return { inputs, outputs, timeoutMs };
}
