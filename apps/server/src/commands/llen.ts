import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const llen = defineCommand({
  name: 'llen',
  arity: 2,
  flags: ['readonly', 'fast'],
  summary: 'Returns the length of a list.',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute: (ctx, key) => ctx.keyspace.getTyped(key, 'list')?.length ?? 0,
});
