import { E, errorText, fail, type DagResult } from '@respai/core';
import { ErrorReply, OK, SimpleString, type Reply } from '../resp/reply.js';
import { tensorReply } from './ai.tensorget.js';
import { parseDag, type DagCommand } from './dag-args.js';
import { TIMEDOUT } from './run.js';
import { defineCommand, type Command, type ExecContext } from './types.js';
import { checkKey, keyChecker } from '../acl/check.js';

const NA = new SimpleString('NA');

/** One reply entry per op: OK, a TENSORGET reply, an inline error, or NA for ops that did not run. */
export function dagReply(r: DagResult): Reply {
  if (r.timedOut) return TIMEDOUT;
  return r.results.map((o): Reply => {
    if (o.ok === 'NA') return NA;
    if (o.ok === false) return new ErrorReply(errorText(o.error));
    return o.tensor !== undefined && o.format !== undefined ? tensorReply(o.tensor, o.format) : OK;
  });
}

async function runDag(ctx: ExecContext, cmd: DagCommand, args: readonly Buffer[]): Promise<Reply> {
  const engine = ctx.server.engine;
  const { request } = parseDag(cmd, args, ctx.server.options['proto-max-bulk-len'], {
    // [acl] Keys are checked before they are consulted, so a refused key's existence stays unknown.
    model(key) {
      checkKey(ctx, key);
      const m = engine.model(key);
      return { inputs: m.meta.inputs.length, outputs: m.meta.outputs.length };
    },
    tensor(key) {
      checkKey(ctx, key);
      if (ctx.keyspace.getTyped(key, 'tensor') === undefined) fail(E.tensorEmpty);
    },
    script(key) {
      checkKey(ctx, key);
      engine.script(key);
    },
  });
  const check = keyChecker(ctx);
  return dagReply(await engine.runDag({ ...request, owner: ctx.client.runOwner, caller: ctx, ...(check === undefined ? {} : { checkKey: check }) }));
}

function dagCommand(cmd: DagCommand, summary: string): Command<readonly Buffer[]> {
  const readOnly = cmd.endsWith('_RO');
  return defineCommand<readonly Buffer[]>({
    name: cmd.toLowerCase(),
    // Arity is checked by the parser, which has its own texts for a bare command.
    arity: -1,
    flags: [readOnly ? 'readonly' : 'write', 'airun'],
    summary,
    group: 'ai',
    // The DAG is parsed against the models it names, so parsing waits for execution.
    parse: (args) => args,
    execute: (ctx, args) => runDag(ctx, cmd, args),
  });
}

export const aiDagexecute = dagCommand(
  'AI.DAGEXECUTE',
  'Runs a DAG: AI.DAGEXECUTE [LOAD n k...] [PERSIST n k...] [KEYS n k... | ROUTING k] [TIMEOUT t] |> op |> op...',
);
export const aiDagexecuteRo = dagCommand('AI.DAGEXECUTE_RO', 'Runs a read-only DAG (no PERSIST, no AI.SCRIPTEXECUTE).');
export const aiDagrun = dagCommand('AI.DAGRUN', 'Deprecated: runs a DAG of AI.TENSORSET/TENSORGET/MODELRUN/SCRIPTRUN ops.');
export const aiDagrunRo = dagCommand('AI.DAGRUN_RO', 'Deprecated: runs a read-only DAG.');
