import { E, fail, keyOf } from '@respai/core';
import { deltaOf, incrementBy } from './incr.js';
import { defineCommand } from './types.js';

export const decrby = defineCommand({
  name: 'decrby',
  arity: 3,
  flags: ['write', 'fast'],
  summary: 'Decrements the integer value of a key by a number.',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    const delta = deltaOf(args[1]!);
    // Redis refuses to negate INT64_MIN rather than overflow.
    if (delta === -(2n ** 63n)) fail(E.decrementOverflow);
    return { key: keyOf(args[0]!), delta: -delta };
  },
  execute: (ctx, { key, delta }) => incrementBy(ctx, key, delta),
});
