import { keyOf } from '@respai/core';
import { longArg } from './collection-args.js';
import { defineCommand } from './types.js';

export const lindex = defineCommand({
  name: 'lindex',
  arity: 3,
  flags: ['readonly'],
  summary: 'Returns an element of a list by its index (negative counts from the end).',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), index: args[1]! }),
  execute(ctx, { key, index }) {
    // Redis looks the key up before it reads the index: a missing key is nil whatever the index.
    const l = ctx.keyspace.getTyped(key, 'list');
    if (l === undefined) return null;
    let i = longArg(index);
    if (i < 0) i += l.length;
    return i >= 0 && i < l.length ? l.at(i) : null;
  },
});
