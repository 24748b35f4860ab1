import { keyOf } from '@respai/core';
import { parseScriptStore } from './script-store-args.js';
import { defineTwoPhase, okWhenCommitted } from './types.js';

export const aiScriptset = defineTwoPhase({
  name: 'ai.scriptset',
  arity: -4,
  flags: ['write'],
  summary: 'Deprecated: stores a TorchScript script (AI.SCRIPTSET key device [TAG t] SOURCE src).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseScriptStore(args.slice(1), true) }),
  prepare: async (ctx, { key, spec }) => okWhenCommitted(await ctx.server.engine.prepareStoreScript(key, spec)),
});
