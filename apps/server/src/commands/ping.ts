import { E, fail } from '@respai/core';
import { PONG } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const ping = defineCommand({
  name: 'ping',
  arity: -1,
  flags: ['fast'],
  summary: "Returns the server's liveliness response.",
  group: 'connection',
  parse(args) {
    if (args.length > 1) fail(E.arity('ping'));
    return { message: args[0] };
  },
  execute: (_ctx, { message }) => message ?? PONG,
});
