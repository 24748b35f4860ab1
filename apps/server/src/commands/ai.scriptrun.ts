import { keyOf } from '@respai/core';
import { parseScriptRun } from './script-args.js';
import { runSingle } from './run.js';
import { defineCommand } from './types.js';

/** Deprecated form of AI.SCRIPTEXECUTE: `INPUTS a b [$ c d...] OUTPUTS o...` without counts. */
export const aiScriptrun = defineCommand({
  name: 'ai.scriptrun',
  // The parser has the original's own arity text (upper case).
  arity: -1,
  flags: ['write', 'airun'],
  summary: 'Deprecated: runs a script function (AI.SCRIPTRUN key fn [TIMEOUT t] INPUTS v... [$ v...] OUTPUTS o...).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  // The script key is checked before the arguments, as the original does: parsing waits for it.
  parse: (args) => args,
  execute(ctx, args) {
    if (args.length >= 2) ctx.server.engine.script(keyOf(args[0]!));
    const { timeoutMs, ...op } = parseScriptRun(args);
    return runSingle(ctx, { op: 'scriptexecute', ...op }, op.outputs, timeoutMs);
  },
});
