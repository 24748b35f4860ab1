import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const hmget = defineCommand({
  name: 'hmget',
  arity: -3,
  flags: ['readonly', 'fast'],
  summary: 'Returns the values of fields of a hash (nil for each missing one).',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), fields: args.slice(1).map(keyOf) }),
  execute(ctx, { key, fields }) {
    const h = ctx.keyspace.getTyped(key, 'hash');
    return fields.map((f) => h?.get(f) ?? null);
  },
});
