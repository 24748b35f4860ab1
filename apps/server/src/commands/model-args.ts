import { BACKEND_NAMES, E, fail, parseDevice, type BackendName, type ModelSpec } from '@respai/core';
import { is, parseInt64 } from './args.js';

/** A non-negative integer argument, or the given error. */
function count(arg: Buffer | undefined, error: string): number {
  const v = arg === undefined ? undefined : parseInt64(arg);
  if (v === undefined || v < 0n || v > 2n ** 31n) fail(error);
  return Number(v);
}

function parseBackend(arg: Buffer): BackendName {
  const name = arg.toString().toUpperCase();
  if (!BACKEND_NAMES.includes(name as BackendName)) fail(E.unsupportedBackend);
  return name as BackendName;
}

/**
 * AI.MODELSTORE's arguments after the key, in the original's order:
 * `backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT t]]]
 *  [INPUTS n name...] [OUTPUTS n name...] BLOB chunk...`.
 * `legacy` is the deprecated AI.MODELSET: INPUTS/OUTPUTS take names without a count.
 */
export function parseModelStore(args: readonly Buffer[], legacy = false): ModelSpec {
  const backend = parseBackend(args[0]!);
  const device = parseDevice(args[1]!.toString());
  let i = 2;
  let tag = Buffer.alloc(0);
  let batchSize = 0;
  let minBatchSize = 0;
  let minBatchTimeout = 0;
  if (is(args[i], 'TAG') && i + 1 < args.length) {
    tag = Buffer.from(args[i + 1]!);
    i += 2;
  }
  if (is(args[i], 'BATCHSIZE')) {
    batchSize = count(args[i + 1], E.batchSize);
    i += 2;
  }
  // AI.MODELSTORE refuses a non-zero MINBATCHSIZE without BATCHSIZE (and MINBATCHTIMEOUT without
  // MINBATCHSIZE) after reading the value: the original's own AOF rewrite writes `BATCHSIZE 0
  // MINBATCHSIZE 0 MINBATCHTIMEOUT 0`. The deprecated AI.MODELSET refused the keyword itself.
  if (is(args[i], 'MINBATCHSIZE')) {
    if (legacy && batchSize === 0) fail(E.minBatchWithoutBatch);
    minBatchSize = count(args[i + 1], E.minBatchSize);
    if (batchSize === 0 && minBatchSize > 0) fail(E.minBatchWithoutBatch);
    i += 2;
  }
  if (is(args[i], 'MINBATCHTIMEOUT')) {
    if (legacy && minBatchSize === 0) fail(E.minBatchTimeoutWithoutMin);
    minBatchTimeout = count(args[i + 1], E.minBatchTimeout);
    if (minBatchSize === 0 && minBatchTimeout > 0) fail(E.minBatchTimeoutWithoutMin);
    i += 2;
  }
  const names = (keyword: 'INPUTS' | 'OUTPUTS'): string[] => {
    if (!is(args[i], keyword)) {
      if (backend === 'TF') fail(keyword === 'INPUTS' ? E.tfInputs : E.tfOutputs);
      return [];
    }
    if (backend !== 'TF') fail(E.inputsNotForBackend);
    i++;
    const out: string[] = [];
    if (legacy) {
      const stop = keyword === 'INPUTS' ? 'OUTPUTS' : 'BLOB';
      while (i < args.length && !is(args[i], stop)) out.push(args[i++]!.toString());
    } else {
      const n = count(args[i], keyword === 'INPUTS' ? E.inputCountArg : E.outputCountArg);
      if (n === 0) fail(keyword === 'INPUTS' ? E.inputCountPositive : E.outputCountPositive);
      i++;
      for (let k = 0; k < n; k++) {
        const a = args[i++];
        if (a === undefined) fail(keyword === 'INPUTS' ? E.inputKeysCount('AI.MODELSTORE') : E.outputKeysCount('AI.MODELSTORE'));
        out.push(a.toString());
      }
    }
    if (out.length === 0) fail(keyword === 'INPUTS' ? E.tfInputs : E.tfOutputs);
    return out;
  };
  const inputs = names('INPUTS');
  const outputs = names('OUTPUTS');
  if (i >= args.length) fail(E.missingBlob);
  if (!is(args[i], 'BLOB')) fail(E.expectedBlob);
  const chunks = args.slice(i + 1);
  if (chunks.length === 0) fail(E.missingBlob);
  // A private copy: the chunks may be views into socket reads.
  const blob = Buffer.concat(chunks as Buffer[]);
  return { backend, device, tag, batchSize, minBatchSize, minBatchTimeout, inputs, outputs, blob };
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
 * AI.MODELEXECUTE's arguments after the key. The input and output counts are checked against the
 * model as soon as they are read, as the original does, so the model's counts come in.
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
 * counts are still checked against the model.
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
  if (inputs.length !== model.inputs) fail(E.inputCountMismatch);
  if (!is(args[i], 'OUTPUTS')) fail(E.outputsNotSpecified);
  const outputs = args.slice(i + 1).map((a) => a.toString('latin1'));
  if (outputs.length !== model.outputs) fail(E.outputCountMismatch);
  return { inputs, outputs, timeoutMs };
}
