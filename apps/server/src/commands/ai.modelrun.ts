import { E, fail, keyOf } from '@respai/core';
import { parseModelRun } from './model-args.js';
import { runModel } from './run.js';
import { defineCommand } from './types.js';

/** Deprecated form of AI.MODELEXECUTE: `[TIMEOUT t] INPUTS in... OUTPUTS out...` without counts. */
export const aiModelrun = defineCommand({
  name: 'ai.modelrun',
  // The original's own arity text (upper case), checked before the model.
  arity: -1,
  flags: ['write', 'airun'],
  summary: 'Deprecated: runs a model (AI.MODELRUN key [TIMEOUT t] INPUTS in... OUTPUTS out...).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    if (args.length < 5) fail(E.aiArity('AI.MODELRUN'));
    return { key: keyOf(args[0]!), rest: args.slice(1) };
  },
  execute(ctx, { key, rest }) {
    const m = ctx.server.engine.model(key);
    const a = parseModelRun(rest, { inputs: m.meta.inputs.length, outputs: m.meta.outputs.length });
    return runModel(ctx, key, a);
  },
});
