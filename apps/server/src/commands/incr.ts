import { E, fail, keyOf } from '@respai/core';
import type { ExecContext } from './types.js';
import { parseInt64 } from './args.js';
import { defineCommand } from './types.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** INCR, INCRBY, DECR and DECRBY: int64 arithmetic on a string key, keeping its TTL. */
export function incrementBy(ctx: ExecContext, key: string, delta: bigint): bigint {
  const old = ctx.keyspace.getTyped(key, 'string');
  const n = old === undefined ? 0n : parseInt64(old);
  if (n === undefined) fail(E.notInteger);
  const next = n + delta;
  if (next > INT64_MAX || next < INT64_MIN) fail(E.overflow);
  ctx.keyspace.set(key, { type: 'string', value: Buffer.from(next.toString()) }, { keepTtl: true });
  return next;
}

/** The increment argument of INCRBY / DECRBY: an int64 in Redis's strict decimal form. */
export function deltaOf(arg: Buffer): bigint {
  const d = parseInt64(arg);
  if (d === undefined) fail(E.notInteger);
  return d;
}

export const incr = defineCommand({
  name: 'incr',
  arity: 2,
  flags: ['write', 'fast'],
  summary: 'Increments the integer value of a key by one.',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute: (ctx, key) => incrementBy(ctx, key, 1n),
});
