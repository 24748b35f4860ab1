import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const hstrlen = defineCommand({
  name: 'hstrlen',
  arity: 3,
  flags: ['readonly', 'fast'],
  summary: 'Returns the length of the value of a field of a hash (0 when missing).',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), field: keyOf(args[1]!) }),
  execute: (ctx, { key, field }) => ctx.keyspace.getTyped(key, 'hash')?.get(field)?.length ?? 0,
});
