import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const get = defineCommand({
  name: 'get',
  arity: 2,
  flags: ['readonly', 'fast'],
  summary: 'Returns the string value of a key.',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute(ctx, key) {
    const v = ctx.keyspace.getTyped(key, 'string');
    if (v === undefined) ctx.server.stats.keyspaceMisses++;
    else ctx.server.stats.keyspaceHits++;
    return v ?? null;
  },
});
