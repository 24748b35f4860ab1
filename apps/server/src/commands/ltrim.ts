import { keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { clampRange, longArg } from './collection-args.js';
import { defineCommand } from './types.js';

export const ltrim = defineCommand({
  name: 'ltrim',
  arity: 4,
  flags: ['write'],
  summary: 'Keeps only a range of a list (an empty range deletes it).',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), start: longArg(args[1]!), stop: longArg(args[2]!) }),
  execute(ctx, { key, start, stop }) {
    const l = ctx.keyspace.getTyped(key, 'list');
    if (l === undefined) return OK;
    const r = clampRange(start, stop, l.length);
    const head = r === undefined ? l.length : r[0];
    const tail = r === undefined ? 0 : l.length - r[1] - 1;
    ctx.keyspace.apply(key, { kind: 'ltrim', head, tail });
    return OK;
  },
});
