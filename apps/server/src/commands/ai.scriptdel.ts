import { keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const aiScriptdel = defineCommand({
  name: 'ai.scriptdel',
  arity: 2,
  flags: ['write'],
  summary: 'Deletes a script (DEL works too). Runs in flight finish first.',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute(ctx, key) {
    ctx.server.engine.script(key);
    ctx.keyspace.delete(key);
    return OK;
  },
});
