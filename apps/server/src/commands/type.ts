import { TYPE_NAMES, keyOf } from '@respai/core';
import { SimpleString } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const type = defineCommand({
  name: 'type',
  arity: 2,
  flags: ['readonly', 'fast'],
  summary: 'Returns the type of the value at a key (a tensor is AI_TENSOR).',
  group: 'keyspace',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute(ctx, key) {
    const v = ctx.keyspace.get(key);
    return new SimpleString(v === undefined ? 'none' : TYPE_NAMES[v.type]);
  },
});
