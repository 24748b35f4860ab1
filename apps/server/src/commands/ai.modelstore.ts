import { keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { parseModelStore } from './model-args.js';
import { defineCommand } from './types.js';

export const aiModelstore = defineCommand({
  name: 'ai.modelstore',
  arity: -6,
  flags: ['write'],
  summary:
    'Stores a model: AI.MODELSTORE key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT t]]] [INPUTS n ...] [OUTPUTS n ...] BLOB model...',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseModelStore(args.slice(1)) }),
  async execute(ctx, { key, spec }) {
    await ctx.server.engine.storeModel(key, spec);
    return OK;
  },
});
