import { defineCommand } from './types.js';

export const dbsize = defineCommand({
  name: 'dbsize',
  arity: 1,
  flags: ['readonly', 'fast'],
  summary: 'Returns the number of keys.',
  group: 'server',
  parse: () => undefined,
  execute: (ctx) => ctx.keyspace.size,
});
