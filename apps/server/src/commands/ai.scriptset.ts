import { keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { parseScriptStore } from './script-store-args.js';
import { defineCommand } from './types.js';

export const aiScriptset = defineCommand({
  name: 'ai.scriptset',
  arity: -4,
  flags: ['write'],
  summary: 'Deprecated: stores a TorchScript script (AI.SCRIPTSET key device [TAG t] SOURCE src).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), spec: parseScriptStore(args.slice(1), true) }),
  async execute(ctx, { key, spec }) {
    await ctx.server.engine.storeScript(key, spec);
    return OK;
  },
});
