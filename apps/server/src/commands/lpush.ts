import { keyOf } from '@respai/core';
import { own } from './collection-args.js';
import { defineCommand, type Command } from './types.js';

interface Request {
  key: string;
  items: Buffer[];
}

/** LPUSH / RPUSH / LPUSHX / RPUSHX: the new length; the X forms only push onto an existing list. */
function push(name: string, side: 'lpush' | 'rpush', onlyExisting: boolean): Command<Request> {
  return defineCommand<Request>({
    name,
    arity: -3,
    flags: ['write', 'fast'],
    summary: `Prepends or appends elements to a list${onlyExisting ? ' only when the list exists' : ''}.`,
    group: 'list',
    keys: { first: 1, last: 1, step: 1 },
    parse: (args) => ({ key: keyOf(args[0]!), items: args.slice(1) }),
    execute(ctx, { key, items }) {
      // WRONGTYPE first, as pushGenericCommand checks the type before anything else.
      const l = ctx.keyspace.getTyped(key, 'list');
      if (l === undefined && onlyExisting) return 0;
      return ctx.keyspace.apply(key, { kind: side, items: items.map(own) }).n;
    },
  });
}

export const lpush = push('lpush', 'lpush', false);
export const rpush = push('rpush', 'rpush', false);
export const lpushx = push('lpushx', 'lpush', true);
export const rpushx = push('rpushx', 'rpush', true);
