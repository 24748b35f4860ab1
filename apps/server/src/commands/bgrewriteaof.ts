import { SimpleString } from '../resp/reply.js';
import { persistenceOf } from './persistence-of.js';
import { defineCommand } from './types.js';

export const bgrewriteaof = defineCommand({
  name: 'bgrewriteaof',
  arity: 1,
  flags: ['admin'],
  summary: 'Rewrites the append-only file as the shortest log of the current keyspace, in the background.',
  group: 'server',
  parse: () => undefined,
  execute(ctx) {
    persistenceOf(ctx)
      .bgrewriteaof()
      .catch(() => undefined); // logged, and reported by INFO persistence
    return new SimpleString('Background append only file rewriting started');
  },
});
