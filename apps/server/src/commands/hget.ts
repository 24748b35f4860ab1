import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const hget = defineCommand({
  name: 'hget',
  arity: 3,
  flags: ['readonly', 'fast'],
  summary: 'Returns the value of a field of a hash.',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), field: keyOf(args[1]!) }),
  execute: (ctx, { key, field }) => ctx.keyspace.getTyped(key, 'hash')?.get(field) ?? null,
});
