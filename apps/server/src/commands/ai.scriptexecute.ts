import { keyOf } from '@respai/core';
import { parseScriptExecute } from './script-args.js';
import { runSingle } from './run.js';
import { defineCommand } from './types.js';

export const aiScriptexecute = defineCommand({
  name: 'ai.scriptexecute',
  // The parser has the original's own arity text (upper case).
  arity: -1,
  flags: ['write', 'airun'],
  summary:
    'Runs a script function: AI.SCRIPTEXECUTE key fn [KEYS n k...] [INPUTS n v...] [LIST_INPUTS n v...]* [ARGS n a...] [OUTPUTS n o...] [TIMEOUT t].',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  // The script key is checked before the arguments, as the original does: parsing waits for it.
  parse: (args) => args,
  execute(ctx, args) {
    if (args.length >= 2) ctx.server.engine.script(keyOf(args[0]!));
    const { timeoutMs, ...op } = parseScriptExecute(args, { inDag: false });
    return runSingle(ctx, { op: 'scriptexecute', ...op }, op.outputs, timeoutMs);
  },
});
