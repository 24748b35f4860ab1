import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

export const flushall = defineCommand({
  name: 'flushall',
  arity: -1,
  flags: ['write'],
  summary: 'Deletes every key (respai has one database).',
  group: 'server',
  parse(args) {
    // ASYNC and SYNC are accepted; freeing is the garbage collector's job either way.
    if (args.length > 1 || (args.length === 1 && !is(args[0], 'ASYNC') && !is(args[0], 'SYNC'))) fail(E.syntax);
  },
  execute(ctx) {
    ctx.keyspace.clear();
    return OK;
  },
});
