import { E, fail } from '@respai/core';
import { SimpleString } from '../resp/reply.js';
import { is } from './args.js';
import { persistenceOf } from './persistence-of.js';
import { defineCommand } from './types.js';

export const bgsave = defineCommand({
  name: 'bgsave',
  arity: -1,
  flags: ['admin'],
  summary: 'Writes a snapshot of the keyspace as of now, in the background: clients keep being served.',
  group: 'server',
  parse(args) {
    // SCHEDULE is accepted: a background save never has to wait for a rewrite here.
    if (args.length > 1 || (args.length === 1 && !is(args[0], 'SCHEDULE'))) fail(E.syntax);
  },
  execute(ctx) {
    persistenceOf(ctx)
      .bgsave()
      .catch(() => undefined); // logged, and reported by INFO persistence
    return new SimpleString('Background saving started');
  },
});
