import { parseScriptRun } from './script-args.js';
import { runSingle } from './run.js';
import { defineCommand } from './types.js';

/** Deprecated form of AI.SCRIPTEXECUTE: `INPUTS a b [$ c d...] OUTPUTS o...` without counts. */
export const aiScriptrun = defineCommand({
  name: 'ai.scriptrun',
  arity: -4,
  flags: ['write', 'airun'],
  summary: 'Deprecated: runs a script function (AI.SCRIPTRUN key fn [TIMEOUT t] INPUTS v... [$ v...] OUTPUTS o...).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => parseScriptRun(args),
  execute(ctx, a) {
    ctx.server.engine.script(a.key);
    const { timeoutMs, ...op } = a;
    return runSingle(ctx, { op: 'scriptexecute', ...op }, a.outputs, timeoutMs);
  },
});
