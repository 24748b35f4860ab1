import { E, fail, keyOf } from '@respai/core';
import { parseModelExecute } from './model-args.js';
import { runModel } from './run.js';
import { defineCommand } from './types.js';

export const aiModelexecute = defineCommand({
  name: 'ai.modelexecute',
  // The original's own arity text (upper case, whatever the client typed), checked before the model.
  arity: -1,
  flags: ['write', 'airun'],
  summary: 'Runs a model: AI.MODELEXECUTE key INPUTS n in... OUTPUTS n out... [TIMEOUT ms].',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  // The rest is parsed against the model's input/output counts, so it waits for the model.
  parse(args) {
    if (args.length < 7) fail(E.aiArity('AI.MODELEXECUTE'));
    return { key: keyOf(args[0]!), rest: args.slice(1) };
  },
  execute(ctx, { key, rest }) {
    const m = ctx.server.engine.model(key);
    const a = parseModelExecute(rest, { inputs: m.meta.inputs.length, outputs: m.meta.outputs.length });
    return runModel(ctx, key, a);
  },
});
