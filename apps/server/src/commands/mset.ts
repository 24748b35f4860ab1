import { E, fail, keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const mset = defineCommand({
  name: 'mset',
  arity: -3,
  flags: ['write'],
  summary: 'Sets several keys to string values at once.',
  group: 'string',
  keys: { first: 1, last: -1, step: 2 },
  parse(args) {
    if (args.length % 2 !== 0) fail(E.arity('mset'));
    const pairs: [string, Buffer][] = [];
    for (let i = 0; i < args.length; i += 2) pairs.push([keyOf(args[i]!), args[i + 1]!]);
    return pairs;
  },
  execute(ctx, pairs) {
    for (const [k, v] of pairs) ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });
    return OK;
  },
});
