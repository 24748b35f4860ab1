import { keyOf } from '@respai/core';
import { parseModelStore } from './model-args.js';
import { defineTwoPhase, okWhenCommitted } from './types.js';

export const aiModelstore = defineTwoPhase({
  name: 'ai.modelstore',
  arity: -6,
  flags: ['write'],
  summary:
    'Stores a model: AI.MODELSTORE key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT t]]] [INPUTS n ...] [OUTPUTS n ...] BLOB model...',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseModelStore(args.slice(1)) }),
  prepare: async (ctx, { key, spec }) => okWhenCommitted(await ctx.server.engine.prepareStoreModel(key, spec)),
});
