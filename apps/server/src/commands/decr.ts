import { keyOf } from '@respai/core';
import { incrementBy } from './incr.js';
import { defineCommand } from './types.js';

export const decr = defineCommand({
  name: 'decr',
  arity: 2,
  flags: ['write', 'fast'],
  summary: 'Decrements the integer value of a key by one.',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute: (ctx, key) => incrementBy(ctx, key, -1n),
});
