import { E, fail, parseTensorGetFormat, tensorFromArgs, type DagOp, type DagRequest } from '@respai/core';
import { is, parseInt64 } from './args.js';
import { parseModelExecute, parseModelRun, parseTimeout } from './model-args.js';
import { parseKeysScope, parseScriptExecute, parseScriptRun } from './script-args.js';

export type DagCommand = 'AI.DAGEXECUTE' | 'AI.DAGEXECUTE_RO' | 'AI.DAGRUN' | 'AI.DAGRUN_RO';

/** What the DAG parser needs to know from the keyspace: a model's input and output counts. */
export interface DagLookups {
  model(key: string): { inputs: number; outputs: number };
  /**
   * Checks that a LOAD key holds a tensor (`ERR tensor key is empty or in a different shard`,
   * WRONGTYPE), as the original does while it reads the header: before later header errors and
   * before `ERR DAG is empty`.
   */
  tensor?(key: string): void;
  /** Checks that a script op's key holds a script, before its arguments are parsed (as the original). */
  script?(key: string): void;
}

export interface ParsedDag {
  request: Omit<DagRequest, 'signal' | 'owner'>;
}

const key = (b: Buffer) => b.toString('latin1');

/**
 * Parses a whole DAG command (the arguments after its name), with the original's texts and
 * order of checks: the header (LOAD, PERSIST, KEYS/ROUTING, TIMEOUT, each once, before the
 * first `|>`), then each op between `|>` separators.
 */
export function parseDag(cmd: DagCommand, args: readonly Buffer[], maxBytes: number, lookups: DagLookups): ParsedDag {
  const readOnly = cmd.endsWith('_RO');
  const deprecated = cmd.startsWith('AI.DAGRUN');
  // The smallest DAGs: `AI.DAGRUN |> AI.TENSORGET k`, `AI.DAGEXECUTE LOAD 1 k |> AI.TENSORGET k`.
  if (deprecated && args.length < 3) fail(E.aiArity(cmd));
  if (!deprecated && args.length < 5) fail(E.dagMissingArguments(cmd));
  let load: string[] | undefined;
  let persist: string[] | undefined;
  let keys: string[] | undefined;
  let timeoutMs: number | undefined;
  let i = 0;

  const list = (what: 'LOAD' | 'PERSIST'): string[] => {
    // The keyword needs a count and at least one key after it.
    if (args.length - i < 3) fail(E.dagScopeMissingArguments(what));
    const n = parseInt64(args[i + 1]!);
    if (n === undefined || n <= 0n) fail(E.dagScopeCountInvalid(what));
    const items: string[] = [];
    for (let k = 0; k < Number(n); k++) {
      const a = args[i + 2 + k];
      if (a === undefined || is(a, '|>')) {
        fail(what === 'LOAD' ? E.dagLoadCountMismatch : E.dagPersistCountMismatch);
      }
      items.push(key(a));
    }
    if (what === 'LOAD') for (const k of items) lookups.tensor?.(k);
    i += 2 + items.length;
    return items;
  };

  while (i < args.length && !is(args[i], '|>')) {
    const a = args[i]!;
    if (is(a, 'LOAD')) {
      if (load !== undefined) fail(E.dagScopeAgain('LOAD'));
      load = list('LOAD');
    } else if (is(a, 'PERSIST')) {
      if (readOnly) fail(E.dagPersistReadOnly);
      if (persist !== undefined) fail(E.dagScopeAgain('PERSIST'));
      persist = list('PERSIST');
      if (new Set(persist).size !== persist.length) fail(E.dagPersistNotUnique);
    } else if (is(a, 'KEYS')) {
      if (keys !== undefined) fail(E.dagScopeAgain('KEYS'));
      keys = parseKeysScope(args, i);
      i += 2 + keys.length;
    } else if (is(a, 'ROUTING')) {
      if (keys !== undefined) fail(E.dagScopeAgain('KEYS'));
      if (i + 1 >= args.length || is(args[i + 1], '|>')) fail(E.dagRoutingMissing);
      keys = [key(args[i + 1]!)];
      i += 2;
    } else if (is(a, 'TIMEOUT')) {
      if (timeoutMs !== undefined) fail(E.dagScopeAgain('TIMEOUT'));
      const v = args[i + 1];
      timeoutMs = parseTimeout(v === undefined || is(v, '|>') ? undefined : v);
      i += 2;
    } else {
      fail(E.dagUnexpected(a));
    }
  }
  if (!deprecated && load === undefined && persist === undefined && keys === undefined) {
    fail(E.dagNoKeys(cmd.replace('_RO', '')));
  }

  // Split the rest on `|>`; a `|>` that ends the command is an unexpected argument, as in the original.
  if (i < args.length && is(args[args.length - 1], '|>')) fail(E.dagUnexpected(args[args.length - 1]!));
  const opArgs: Buffer[][] = [];
  for (; i < args.length; i++) {
    if (is(args[i], '|>')) opArgs.push([]);
    else opArgs[opArgs.length - 1]!.push(args[i]!);
  }
  if (opArgs.length === 0) fail(E.dagEmpty);

  const ops: DagOp[] = opArgs.map((op) => parseOp(op, maxBytes, lookups, readOnly, deprecated));
  return {
    request: {
      load: load ?? [],
      persist: persist ?? [],
      ops,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
  };
}

function parseOp(
  op: readonly Buffer[],
  maxBytes: number,
  lookups: DagLookups,
  readOnly: boolean,
  deprecated: boolean,
): DagOp {
  const name = op[0]?.toString().toUpperCase() ?? '';
  const rest = op.slice(1);
  switch (name) {
    case 'AI.TENSORSET':
      if (rest.length < 3) fail(E.dagOpArity('AI.TENSORSET'));
      return { op: 'tensorset', output: key(rest[0]!), tensor: tensorFromArgs(rest.slice(1), { maxBytes }) };
    case 'AI.TENSORGET':
      if (rest.length < 1 || rest.length > 3) fail(E.dagOpArity('AI.TENSORGET'));
      return { op: 'tensorget', input: key(rest[0]!), format: parseTensorGetFormat(rest.slice(1)) };
    case 'AI.MODELEXECUTE':
    case 'AI.MODELRUN': {
      // The original's texts: the old ops are refused in the new DAG commands and the other way round.
      if (name === 'AI.MODELRUN' && !deprecated) fail(E.dagDeprecatedOp(name));
      if (name === 'AI.MODELEXECUTE' && deprecated) fail(E.dagOpInDeprecated(name));
      if (op.length < (name === 'AI.MODELRUN' ? 6 : 8)) fail(E.aiArity(name));
      const k = key(rest[0]!);
      const counts = lookups.model(k);
      const a = name === 'AI.MODELRUN' ? parseModelRun(rest.slice(1), counts) : parseModelExecute(rest.slice(1), counts);
      if (a.timeoutMs !== undefined) fail(E.timeoutInDag);
      return { op: 'modelexecute', key: k, inputs: a.inputs, outputs: a.outputs };
    }
    case 'AI.SCRIPTEXECUTE':
    case 'AI.SCRIPTRUN': {
      if (name === 'AI.SCRIPTRUN' && !deprecated) fail(E.dagDeprecatedOp(name));
      if (name === 'AI.SCRIPTEXECUTE' && deprecated) fail(E.dagOpInDeprecated(name));
      if (readOnly) fail(E.dagOpReadOnly(name));
      if (rest.length >= 2) lookups.script?.(key(rest[0]!));
      const s = name === 'AI.SCRIPTRUN' ? parseScriptRun(rest, { inDag: true }) : parseScriptExecute(rest, { inDag: true });
      return { op: 'scriptexecute', ...s };
    }
    default:
      fail(E.dagUnsupportedOp);
  }
}
