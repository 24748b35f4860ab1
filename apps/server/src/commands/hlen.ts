import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const hlen = defineCommand({
  name: 'hlen',
  arity: 2,
  flags: ['readonly', 'fast'],
  summary: 'Returns the number of fields of a hash.',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute: (ctx, key) => ctx.keyspace.getTyped(key, 'hash')?.size ?? 0,
});
