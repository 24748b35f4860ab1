import { keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { parseScriptStore } from './script-store-args.js';
import { defineCommand } from './types.js';

export const aiScriptstore = defineCommand({
  name: 'ai.scriptstore',
  arity: -8,
  flags: ['write'],
  summary: 'Stores a TorchScript script: AI.SCRIPTSTORE key device [TAG t] ENTRY_POINTS n fn... SOURCE src.',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseScriptStore(args.slice(1), false) }),
  async execute(ctx, { key, spec }) {
    await ctx.server.engine.storeScript(key, spec);
    return OK;
  },
});
