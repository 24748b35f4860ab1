import { keyOf } from '@respai/core';
import { parseModelStore } from './model-args.js';
import { defineTwoPhase, okWhenCommitted } from './types.js';

/** Deprecated form of AI.MODELSTORE: INPUTS/OUTPUTS list names without a count. */
export const aiModelset = defineTwoPhase({
  name: 'ai.modelset',
  arity: -4,
  flags: ['write'],
  summary: 'Deprecated: stores a model (AI.MODELSTORE without counts before INPUTS/OUTPUTS names).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseModelStore(args.slice(1), true) }),
  prepare: async (ctx, { key, spec }) => okWhenCommitted(await ctx.server.engine.prepareStoreModel(key, spec)),
});
