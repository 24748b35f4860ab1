import { defineCommand } from './types.js';

export const echo = defineCommand({
  name: 'echo',
  arity: 2,
  flags: ['fast'],
  summary: 'Returns the given string.',
  group: 'connection',
  parse: (args) => args[0]!,
  execute: (_ctx, message) => message,
});
