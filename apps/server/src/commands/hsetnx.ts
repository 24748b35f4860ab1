import { keyOf } from '@respai/core';
import { own } from './collection-args.js';
import { defineCommand } from './types.js';

export const hsetnx = defineCommand({
  name: 'hsetnx',
  arity: 4,
  flags: ['write', 'fast'],
  summary: 'Sets a field of a hash only when it does not exist yet.',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), field: keyOf(args[1]!), value: args[2]! }),
  execute(ctx, { key, field, value }) {
    if (ctx.keyspace.getTyped(key, 'hash')?.has(field)) return 0;
    ctx.keyspace.apply(key, { kind: 'hset', fields: [field], values: [own(value)] });
    return 1;
  },
});
