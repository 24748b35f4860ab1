import { persistenceOf } from './persistence-of.js';
import { defineCommand } from './types.js';

export const lastsave = defineCommand({
  name: 'lastsave',
  arity: 1,
  flags: ['fast', 'loading'],
  summary: 'Returns the Unix time of the last successful snapshot (the start time before the first).',
  group: 'server',
  parse: () => undefined,
  execute: (ctx) => persistenceOf(ctx).lastSave,
});
