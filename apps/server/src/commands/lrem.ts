import { keyOf } from '@respai/core';
import { longArg, own } from './collection-args.js';
import { defineCommand } from './types.js';

export const lrem = defineCommand({
  name: 'lrem',
  arity: 4,
  flags: ['write'],
  summary: 'Removes elements equal to a value (count > 0 from the head, < 0 from the tail, 0 all).',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), count: longArg(args[1]!), item: args[2]! }),
  execute(ctx, { key, count, item }) {
    if (ctx.keyspace.getTyped(key, 'list') === undefined) return 0;
    return ctx.keyspace.apply(key, { kind: 'lrem', count, item: own(item) }).n;
  },
});
