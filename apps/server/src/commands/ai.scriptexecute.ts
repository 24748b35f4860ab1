import { parseScriptExecute } from './script-args.js';
import { runSingle } from './run.js';
import { defineCommand } from './types.js';

export const aiScriptexecute = defineCommand({
  name: 'ai.scriptexecute',
  arity: -3,
  flags: ['write', 'airun'],
  summary:
    'Runs a script function: AI.SCRIPTEXECUTE key fn [KEYS n k...] [INPUTS n v...] [LIST_INPUTS n v...]* [ARGS n a...] [OUTPUTS n o...] [TIMEOUT t].',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => parseScriptExecute(args, { inDag: false }),
  execute(ctx, a) {
    ctx.server.engine.script(a.key);
    const { timeoutMs, ...op } = a;
    return runSingle(ctx, { op: 'scriptexecute', ...op }, a.outputs, timeoutMs);
  },
});
