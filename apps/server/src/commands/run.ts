import { E, errorText, type DagOp, type DagResult } from '@respai/core';
import { ErrorReply, OK, SimpleString, type Reply } from '../resp/reply.js';
import type { ExecContext } from './types.js';
import type { ExecuteArgs } from './model-args.js';
import { keyChecker } from '../acl/check.js';

export const TIMEDOUT = new SimpleString(E.timedOut);

/** The reply of a one-op DAG (MODELEXECUTE, SCRIPTEXECUTE): OK, TIMEDOUT, or the op's error. */
export function singleReply(r: DagResult): Reply {
  if (r.timedOut) return TIMEDOUT;
  const first = r.results[0];
  if (first === undefined || first.ok === true) return OK;
  if (first.ok === false) return new ErrorReply(errorText(first.error));
  return OK;
}

/** Runs a model as a one-op DAG: inputs load from the keyspace, outputs persist to it. */
export async function runModel(ctx: ExecContext, key: string, a: ExecuteArgs): Promise<Reply> {
  const op: DagOp = { op: 'modelexecute', key, inputs: a.inputs, outputs: a.outputs };
  return runSingle(ctx, op, a.outputs, a.timeoutMs);
}

/** Runs one op as a DAG whose inputs come from the keyspace and whose outputs persist to it. */
export async function runSingle(ctx: ExecContext, op: DagOp, outputs: readonly string[], timeoutMs: number | undefined): Promise<Reply> {
  const checkKey = keyChecker(ctx); // [acl] every key the run touches
  const result = await ctx.server.engine.runDag({
    load: [],
    implicitLoad: true,
    persist: [...new Set(outputs)],
    ops: [op],
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    owner: ctx.client.runOwner,
    caller: ctx,
    ...(checkKey === undefined ? {} : { checkKey }),
  });
  return singleReply(result);
}

