import { keyOf } from '@respai/core';
import { clampRange, longArg } from './collection-args.js';
import { defineCommand } from './types.js';

export const lrange = defineCommand({
  name: 'lrange',
  arity: 4,
  flags: ['readonly'],
  summary: 'Returns a range of elements of a list (negative indexes count from the end).',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  // The indexes are checked before the key, as in Redis.
  parse: (args) => ({ key: keyOf(args[0]!), start: longArg(args[1]!), stop: longArg(args[2]!) }),
  execute(ctx, { key, start, stop }) {
    const l = ctx.keyspace.getTyped(key, 'list');
    if (l === undefined) return [];
    const r = clampRange(start, stop, l.length);
    return r === undefined ? [] : l.range(r[0], r[1]);
  },
});
