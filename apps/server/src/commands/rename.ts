import { E, fail, keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const rename = defineCommand({
  name: 'rename',
  arity: 3,
  flags: ['write'],
  summary: 'Renames a key, keeping its value and TTL, replacing any value at the new name.',
  group: 'keyspace',
  keys: { first: 1, last: 2, step: 1 },
  parse: (args) => ({ from: keyOf(args[0]!), to: keyOf(args[1]!) }),
  execute(ctx, { from, to }) {
    if (!ctx.keyspace.rename(from, to)) fail(E.noSuchKey);
    return OK;
  },
});
