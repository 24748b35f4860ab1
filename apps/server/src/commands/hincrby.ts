import { E, fail, keyOf } from '@respai/core';
import { INT64_MAX, INT64_MIN, int64Arg, parseInt64 } from './args.js';
import { defineCommand } from './types.js';

export const hincrby = defineCommand({
  name: 'hincrby',
  arity: 4,
  flags: ['write', 'fast'],
  summary: 'Adds an integer to the integer value of a field of a hash (a missing field counts as 0).',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), field: keyOf(args[1]!), delta: int64Arg(args[2]) }),
  execute(ctx, { key, field, delta }) {
    const old = ctx.keyspace.getTyped(key, 'hash')?.get(field);
    const n = old === undefined ? 0n : parseInt64(old);
    if (n === undefined) fail(E.hashValueNotInteger);
    const next = n + delta;
    if (next > INT64_MAX || next < INT64_MIN) fail(E.overflow);
    // Recorded as the HSET of the result, as Redis propagates it.
    ctx.keyspace.apply(key, { kind: 'hset', fields: [field], values: [Buffer.from(next.toString())] });
    return next;
  },
});
