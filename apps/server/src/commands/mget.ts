import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const mget = defineCommand({
  name: 'mget',
  arity: -2,
  flags: ['readonly', 'fast'],
  summary: 'Returns the string values of several keys (nil for missing or non-string keys).',
  group: 'string',
  keys: { first: 1, last: -1, step: 1 },
  parse: (args) => args.map(keyOf),
  execute(ctx, keys) {
    return keys.map((k) => {
      const v = ctx.keyspace.get(k);
      return v?.type === 'string' ? v.value : null;
    });
  },
});
