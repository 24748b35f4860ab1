import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { intArg } from './args.js';
import { defineCommand } from './types.js';

/** One database only (db 0), like a Redis started with `databases 1`. */
export const select = defineCommand({
  name: 'select',
  arity: 2,
  flags: ['fast', 'loading'],
  summary: 'Changes the selected database (respai has only database 0).',
  group: 'connection',
  parse(args) {
    const db = intArg(args[0]);
    if (db !== 0) fail(E.dbIndexOutOfRange);
    return db;
  },
  execute: () => OK,
});
