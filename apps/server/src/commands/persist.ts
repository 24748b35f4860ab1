import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const persist = defineCommand({
  name: 'persist',
  arity: 2,
  flags: ['write', 'fast'],
  summary: "Removes a key's time to live.",
  group: 'keyspace',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute(ctx, key) {
    if (ctx.keyspace.expiryOf(key) === undefined) return 0;
    ctx.keyspace.setExpiry(key, undefined);
    return 1;
  },
});
