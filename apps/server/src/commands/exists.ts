import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const exists = defineCommand({
  name: 'exists',
  arity: -2,
  flags: ['readonly', 'fast'],
  summary: 'Counts how many of the given keys exist (repeats count again).',
  group: 'keyspace',
  keys: { first: 1, last: -1, step: 1 },
  parse: (args) => args.map(keyOf),
  execute: (ctx, keys) => keys.reduce<number>((n, k) => n + (ctx.keyspace.has(k) ? 1 : 0), 0),
});
