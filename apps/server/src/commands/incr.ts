import { E, fail, keyOf } from '@respai/core';
import { parseInt64 } from './args.js';
import { defineCommand } from './types.js';

const INT64_MAX = 2n ** 63n - 1n;

export const incr = defineCommand({
  name: 'incr',
  arity: 2,
  flags: ['write', 'fast'],
  summary: 'Increments the integer value of a key by one.',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute(ctx, key) {
    const old = ctx.keyspace.getTyped(key, 'string');
    const n = old === undefined ? 0n : parseInt64(old);
    if (n === undefined) fail(E.notInteger);
    if (n === INT64_MAX) fail(E.overflow);
    const next = n + 1n;
    ctx.keyspace.set(key, { type: 'string', value: Buffer.from(next.toString()) }, { keepTtl: true });
    return next;
  },
});
