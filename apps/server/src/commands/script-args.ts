import { E, fail, type ScriptInput } from '@respai/core';
import { is, parseInt64 } from './args.js';
import { parseTimeout } from './model-args.js';

export interface ScriptExecuteArgs {
  key: string;
  fn: string;
  keys: string[];
  inputs: ScriptInput[];
  args: string[];
  outputs: string[];
  timeoutMs?: number;
}

const str = (b: Buffer) => b.toString('latin1');

/** KEYS n key...: the keys a DAG or a script may touch. */
export function parseKeysScope(args: readonly Buffer[], i: number): string[] {
  if (args.length - i < 3) fail('ERR Missing arguments after KEYS keyword');
  const n = parseInt64(args[i + 1]!);
  if (n === undefined || n <= 0n) fail('ERR Invalid or negative value found in number of KEYS');
  const out: string[] = [];
  for (let k = 0; k < Number(n); k++) {
    const a = args[i + 2 + k];
    if (a === undefined || is(a, '|>')) fail('ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments');
    out.push(str(a));
  }
  return out;
}

const KEYWORDS = ['KEYS', 'INPUTS', 'LIST_INPUTS', 'ARGS', 'OUTPUTS', 'TIMEOUT'];

/**
 * AI.SCRIPTEXECUTE's arguments after the command name:
 * `key fn [KEYS n k...] [INPUTS n v...] [LIST_INPUTS n v...]* [ARGS n a...] [OUTPUTS n o...] [TIMEOUT t]`.
 * KEYS (or INPUTS) must come first outside a DAG; inside a DAG, KEYS belongs to the DAG.
 */
export function parseScriptExecute(args: readonly Buffer[], opts: { inDag: boolean }): ScriptExecuteArgs {
  if (args.length < 2) fail(E.arity('ai.scriptexecute'));
  const out: ScriptExecuteArgs = { key: str(args[0]!), fn: args[1]!.toString(), keys: [], inputs: [], args: [], outputs: [] };
  let i = 2;
  const unexpected = (a: Buffer) => fail(`ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ${a.toString()}`);
  if (!opts.inDag && i < args.length && !is(args[i], 'KEYS') && !is(args[i], 'INPUTS') && !is(args[i], 'LIST_INPUTS')) {
    if (KEYWORDS.some((k) => is(args[i], k))) fail('ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command');
    unexpected(args[i]!);
  }
  const section = (what: string): string[] => {
    const n = parseInt64(args[i + 1] ?? Buffer.alloc(0));
    if (n === undefined || n <= 0n) fail(`ERR Invalid argument for ${what.toLowerCase()}_count`);
    const items = args.slice(i + 2, i + 2 + Number(n));
    if (items.length !== Number(n)) fail(`ERR number of ${what.toLowerCase()} keys to AI.SCRIPTEXECUTE command does not match the number of given arguments`);
    i += 2 + items.length;
    return items.map(str);
  };
  let seenOutputs = false;
  while (i < args.length) {
    const a = args[i]!;
    if (is(a, 'KEYS')) {
      if (opts.inDag || out.keys.length > 0) fail('ERR Already encountered KEYS scope in current command');
      out.keys = parseKeysScope(args, i);
      i += 2 + out.keys.length;
    } else if (is(a, 'INPUTS') && !seenOutputs) {
      for (const v of section('INPUT')) out.inputs.push({ value: v });
    } else if (is(a, 'LIST_INPUTS') && !seenOutputs) {
      out.inputs.push({ list: section('INPUT') });
    } else if (is(a, 'ARGS') && !seenOutputs) {
      out.args.push(...section('ARG'));
    } else if (is(a, 'OUTPUTS') && !seenOutputs) {
      out.outputs = section('OUTPUT');
      seenOutputs = true;
    } else if (is(a, 'TIMEOUT') && !opts.inDag) {
      out.timeoutMs = parseTimeout(args[i + 1]);
      i += 2;
      if (i < args.length) unexpected(args[i]!);
    } else {
      unexpected(a);
    }
  }
  return out;
}

/**
 * The deprecated AI.SCRIPTRUN: `key fn [TIMEOUT t] INPUTS v... [$ v...] OUTPUTS o...`; the
 * values after `$` form one List[Tensor] argument.
 */
export function parseScriptRun(args: readonly Buffer[]): ScriptExecuteArgs {
  if (args.length < 2) fail(E.arity('ai.scriptrun'));
  const out: ScriptExecuteArgs = { key: str(args[0]!), fn: args[1]!.toString(), keys: [], inputs: [], args: [], outputs: [] };
  let i = 2;
  if (is(args[i], 'TIMEOUT')) {
    out.timeoutMs = parseTimeout(args[i + 1]);
    i += 2;
  }
  if (!is(args[i], 'INPUTS')) fail(E.inputsNotSpecified);
  i++;
  let variadic: string[] | undefined;
  while (i < args.length && !is(args[i], 'OUTPUTS')) {
    const a = args[i++]!;
    if (a.length === 1 && a[0] === 0x24 /* $ */ && variadic === undefined) variadic = [];
    else if (variadic !== undefined) variadic.push(str(a));
    else out.inputs.push({ value: str(a) });
  }
  if (variadic !== undefined) out.inputs.push({ list: variadic });
  if (!is(args[i], 'OUTPUTS')) fail(E.outputsNotSpecified);
  out.outputs = args.slice(i + 1).map(str);
  return out;
}
