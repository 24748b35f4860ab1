import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const hdel = defineCommand({
  name: 'hdel',
  arity: -3,
  flags: ['write', 'fast'],
  summary: 'Deletes fields of a hash (the last one deletes the key); returns how many existed.',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), fields: args.slice(1).map(keyOf) }),
  execute(ctx, { key, fields }) {
    if (ctx.keyspace.getTyped(key, 'hash') === undefined) return 0;
    return ctx.keyspace.apply(key, { kind: 'hdel', fields }).n;
  },
});
