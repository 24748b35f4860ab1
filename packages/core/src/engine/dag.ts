import type { Tensor, TensorGetFormat } from '../tensor/index.js';

/**
 * The operations of a DAG. MODELEXECUTE and SCRIPTEXECUTE commands are one-op DAGs; AI.DAGEXECUTE
 * is many. Names are DAG-local: each op output is a new version of its name.
 */
export type DagOp =
  | { readonly op: 'tensorset'; readonly output: string; readonly tensor: Tensor }
  | { readonly op: 'tensorget'; readonly input: string; readonly format: TensorGetFormat }
  | {
      readonly op: 'modelexecute';
      readonly key: string;
      readonly inputs: readonly string[];
      readonly outputs: readonly string[];
    }
  | {
      readonly op: 'scriptexecute';
      readonly key: string;
      readonly fn: string;
      /** KEYS: the keys the script may touch through redis.execute (and their hash tags). */
      readonly keys: readonly string[];
      /**
       * INPUTS values and LIST_INPUTS lists, in order. Each binds to the function's parameter at
       * its position: a tensor parameter takes it as a DAG tensor name, int/float/str as a literal.
       */
      readonly inputs: readonly ScriptInput[];
      /** ARGS: strings for entry points of signature (tensors, keys, args). */
      readonly args: readonly string[];
      readonly outputs: readonly string[];
    };

/** One INPUTS value, or one LIST_INPUTS list (also the deprecated `$` variadic tail). */
export type ScriptInput = { readonly value: string } | { readonly list: readonly string[] };

/** Who runs DAGs, one at a time (a connection): see {@link DagRequest.owner}. */
export interface RunOwner {
  cancel: (() => void) | undefined;
}

export interface DagRequest {
  /** Keys read from the keyspace into the DAG before any op runs. */
  readonly load: readonly string[];
  /** DAG names written back to the keyspace (same key name) after every op succeeded. */
  readonly persist: readonly string[];
  readonly ops: readonly DagOp[];
  /** ms; a DAG with an op still queued after this long replies TIMEDOUT. */
  readonly timeoutMs?: number;
  /** Aborted when the client goes away: queued work is dropped, the result discarded. */
  readonly signal?: AbortSignal;
  /**
   * The cheaper way to the same (a server's connection): while the DAG runs, the engine sets
   * `owner.cancel`; the owner calls it when it goes away.
   */
  readonly owner?: RunOwner;
  /**
   * One-op commands (MODELEXECUTE, SCRIPTEXECUTE): an input name not set in the DAG is read from
   * the keyspace (`ERR tensor key is empty or in a different shard` when missing).
   */
  readonly implicitLoad?: boolean;
  /** Handed back to the engine's `scriptCommands` hook: who runs `redis.execute`. */
  readonly caller?: unknown;
  /**
   * [acl] Called with every keyspace key the DAG touches (LOAD, implicit inputs, models, scripts,
   * a script op's KEYS, PERSIST) before anything runs; throws to refuse the DAG (the server's ACL).
   */
  readonly checkKey?: (key: string) => void;
}

/** One op's outcome: OK (tensorset, execute), a tensor (tensorget), an error, or NA (not run). */
export type OpResult =
  | { readonly ok: true; readonly tensor?: Tensor; readonly format?: TensorGetFormat }
  | { readonly ok: false; readonly error: Error }
  | { readonly ok: 'NA' };

export type DagResult = { readonly timedOut: true } | { readonly timedOut: false; readonly results: readonly OpResult[] };
