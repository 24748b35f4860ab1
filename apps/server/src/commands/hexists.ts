import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const hexists = defineCommand({
  name: 'hexists',
  arity: 3,
  flags: ['readonly', 'fast'],
  summary: 'Whether a field exists in a hash (1 or 0).',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), field: keyOf(args[1]!) }),
  execute: (ctx, { key, field }) => (ctx.keyspace.getTyped(key, 'hash')?.has(field) ? 1 : 0),
});
