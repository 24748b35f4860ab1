import { E, fail, keyOf } from '@respai/core';
import { NilArray } from '../resp/reply.js';
import { positiveLongArg } from './collection-args.js';
import { defineCommand, type Command } from './types.js';

interface Request {
  key: string;
  /** undefined: no count given (a bulk reply); a number: an array reply. */
  count: number | undefined;
}

/** LPOP / RPOP key [count], as Redis 7's popGenericCommand. */
function pop(name: 'lpop' | 'rpop'): Command<Request> {
  return defineCommand<Request>({
    name,
    arity: -2,
    flags: ['write', 'fast'],
    summary: `Removes and returns the ${name === 'lpop' ? 'first' : 'last'} elements of a list.`,
    group: 'list',
    keys: { first: 1, last: 1, step: 1 },
    parse(args) {
      if (args.length > 2) fail(E.arity(name));
      return { key: keyOf(args[0]!), count: args.length === 2 ? positiveLongArg(args[1]!) : undefined };
    },
    execute(ctx, { key, count }) {
      const l = ctx.keyspace.getTyped(key, 'list');
      if (l === undefined) return count === undefined ? null : NilArray.instance;
      if (count === 0) return [];
      const r = ctx.keyspace.apply(key, { kind: name, count: count ?? 1 });
      return count === undefined ? r.popped![0]! : r.popped!;
    },
  });
}

export const lpop = pop('lpop');
export const rpop = pop('rpop');
