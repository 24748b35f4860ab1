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

/**
 * KEYS n key... (at `i`, the KEYS keyword): the keys a DAG or a script may touch. The original's
 * checks (ValidateKeysArgs): fewer than a count and one key, a count that is no positive integer,
 * fewer keys than the count.
 */
export function parseKeysScope(args: readonly Buffer[], i: number): string[] {
  if (args.length - i < 3) fail(E.keysMissingArguments);
  const n = parseInt64(args[i + 1]!);
  if (n === undefined || n <= 0n) fail(E.keysCountInvalid);
  const out: string[] = [];
  for (let k = 0; k < Number(n); k++) {
    const a = args[i + 2 + k];
    if (a === undefined || is(a, '|>')) fail(E.keysCountMismatch);
    out.push(str(a));
  }
  return out;
}

/**
 * AI.SCRIPTEXECUTE's arguments after the command name:
 * `key fn [KEYS n k...] [INPUTS n v...] [LIST_INPUTS n v...]* [ARGS n a...] [OUTPUTS n o...] [TIMEOUT t]`,
 * with the original's texts in its order of checks (the script key is checked before this, by the
 * caller). Outside a DAG the first section must be KEYS or INPUTS (or respai's LIST_INPUTS);
 * KEYS, INPUTS, ARGS and OUTPUTS come at most once each, in any order; TIMEOUT ends the command
 * and is refused inside a DAG (after the op parsed, as the original checks it).
 */
export function parseScriptExecute(args: readonly Buffer[], opts: { inDag: boolean }): ScriptExecuteArgs {
  if (args.length < 2) fail(E.aiArity('AI.SCRIPTEXECUTE'));
  const out: ScriptExecuteArgs = { key: str(args[0]!), fn: args[1]!.toString(), keys: [], inputs: [], args: [], outputs: [] };
  let i = 2;
  const seen = new Set<string>();

  /** `count item...` after a section keyword at i - 1; i moves past the items. */
  const section = (what: 'inputs' | 'outputs' | 'args'): string[] => {
    if (i >= args.length) fail(E.scriptExecuteInvalidArguments);
    const n = parseInt64(args[i]!);
    // ARGS's count has the original's text for a keys count.
    if (n === undefined) fail(E.scriptExecuteCountInvalid(what === 'args' ? 'keys' : what));
    if (n < 0n || i + 1 + Number(n) > args.length) fail(E.scriptExecuteCountMismatch(what));
    const items = args.slice(i + 1, i + 1 + Number(n)).map(str);
    i += 1 + items.length;
    return items;
  };
  const keys = () => {
    out.keys = parseKeysScope(args, i - 1);
    i += 1 + out.keys.length;
  };

  if (!opts.inDag) {
    const first = args[i];
    if (!is(first, 'KEYS') && !is(first, 'INPUTS') && !is(first, 'LIST_INPUTS')) fail(E.scriptExecuteKeysOrInputsFirst);
  }
  while (i < args.length) {
    const a = args[i++]!;
    if (is(a, 'TIMEOUT')) {
      if (i >= args.length) fail(E.scriptExecuteTimeoutMissing);
      out.timeoutMs = parseTimeout(args[i++]);
      // Nothing may follow TIMEOUT.
      if (i !== args.length) fail(E.scriptExecuteTrailing);
      break;
    }
    const scope = ['KEYS', 'ARGS', 'INPUTS', 'OUTPUTS'].find((k) => is(a, k));
    if (scope !== undefined) {
      if (seen.has(scope)) fail(E.scriptExecuteScopeAgain(scope));
      seen.add(scope);
      if (scope === 'KEYS') keys();
      else if (scope === 'ARGS') out.args = section('args');
      else if (scope === 'INPUTS') for (const v of section('inputs')) out.inputs.push({ value: v });
      else out.outputs = section('outputs');
    } else if (is(a, 'LIST_INPUTS')) {
      // respai's: one List[Tensor] argument per LIST_INPUTS, at its place among the inputs.
      out.inputs.push({ list: section('inputs') });
    } else {
      fail(E.scriptExecuteUnexpected(a));
    }
  }
  if (opts.inDag && out.timeoutMs !== undefined) fail(E.timeoutInDag);
  return out;
}

/**
 * The deprecated AI.SCRIPTRUN: `key fn [TIMEOUT t] INPUTS v... [$ v...] OUTPUTS o...`; the
 * values after `$` form one List[Tensor] argument. Walked as the original walks it, with its
 * texts (a missing INPUTS or OUTPUTS section is no error there: the run then has none).
 */
export function parseScriptRun(args: readonly Buffer[], opts: { inDag: boolean } = { inDag: false }): ScriptExecuteArgs {
  if (args.length < 2) fail(E.aiArity('AI.SCRIPTRUN'));
  const out: ScriptExecuteArgs = { key: str(args[0]!), fn: args[1]!.toString(), keys: [], inputs: [], args: [], outputs: [] };
  let section: 'none' | 'inputs' | 'outputs' = 'none';
  let inputsDone = false;
  let variadic: string[] | undefined;
  for (let i = 2; i < args.length; i++) {
    const a = args[i]!;
    if (is(a, 'TIMEOUT')) {
      if (out.timeoutMs !== undefined) fail(E.scriptRunTimeoutAgain);
      out.timeoutMs = parseTimeout(args[++i] ?? Buffer.alloc(0));
    } else if (is(a, 'INPUTS')) {
      if (inputsDone) fail(E.scriptRunInputsAfterOutputs);
      if (section === 'inputs') fail(E.scriptRunInputsAgain);
      section = 'inputs';
    } else if (is(a, 'OUTPUTS')) {
      if (section === 'outputs') fail(E.scriptRunOutputsAgain);
      section = 'outputs';
      inputsDone = true;
    } else if (a.length === 1 && a[0] === 0x24 /* $ */) {
      if (section !== 'inputs') fail(E.scriptRunListOutsideInputs);
      if (variadic !== undefined) fail(E.scriptRunListAgain);
      variadic = [];
    } else if (section === 'inputs') {
      if (variadic !== undefined) variadic.push(str(a));
      else out.inputs.push({ value: str(a) });
    } else if (section === 'outputs') {
      out.outputs.push(str(a));
    } else {
      fail(E.scriptRunUnrecognized);
    }
  }
  if (variadic !== undefined) out.inputs.push({ list: variadic });
  if (opts.inDag && out.timeoutMs !== undefined) fail(E.timeoutInDag);
  return out;
}
