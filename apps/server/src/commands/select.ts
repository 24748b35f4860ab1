import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { parseInt64 } from './args.js';
import { defineCommand } from './types.js';

/** One database only (db 0), like a Redis started with `databases 1`. */
export const select = defineCommand({
  name: 'select',
  arity: 2,
  flags: ['fast', 'loading'],
  summary: 'Changes the selected database (respai has only database 0).',
  group: 'connection',
  parse(args) {
    // Redis reads the index as a C int: an int64 outside int32 gets its range text.
    const db = args[0] === undefined ? undefined : parseInt64(args[0]);
    if (db === undefined) fail(E.notInteger);
    if (db < -2147483648n || db > 2147483647n) fail(E.selectDbOutOfRange);
    if (db !== 0n) fail(E.dbIndexOutOfRange);
    return 0;
  },
  execute: () => OK,
});
