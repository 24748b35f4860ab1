import { E, fail, keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { longArg, own } from './collection-args.js';
import { defineCommand } from './types.js';

export const lset = defineCommand({
  name: 'lset',
  arity: 4,
  flags: ['write'],
  summary: 'Sets the element of a list at an index.',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), index: args[1]!, item: args[2]! }),
  execute(ctx, { key, index, item }) {
    const l = ctx.keyspace.getTyped(key, 'list');
    if (l === undefined) fail(E.noSuchKey);
    let i = longArg(index);
    if (i < 0) i += l.length;
    if (i < 0 || i >= l.length) fail(E.indexOutOfRange);
    ctx.keyspace.apply(key, { kind: 'lset', index: i, item: own(item) });
    return OK;
  },
});
