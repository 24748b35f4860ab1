import { keyOf } from '@respai/core';
import { parseScriptStore } from './script-store-args.js';
import { defineTwoPhase, okWhenCommitted } from './types.js';

export const aiScriptstore = defineTwoPhase({
  name: 'ai.scriptstore',
  arity: -8,
  flags: ['write'],
  summary: 'Stores a TorchScript script: AI.SCRIPTSTORE key device [TAG t] ENTRY_POINTS n fn... SOURCE src.',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseScriptStore(args.slice(1), false) }),
  prepare: async (ctx, { key, spec }) => okWhenCommitted(await ctx.server.engine.prepareStoreScript(key, spec)),
});
