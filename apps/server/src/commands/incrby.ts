import { keyOf } from '@respai/core';
import { deltaOf, incrementBy } from './incr.js';
import { defineCommand } from './types.js';

export const incrby = defineCommand({
  name: 'incrby',
  arity: 3,
  flags: ['write', 'fast'],
  summary: 'Increments the integer value of a key by a number.',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), delta: deltaOf(args[1]!) }),
  execute: (ctx, { key, delta }) => incrementBy(ctx, key, delta),
});
