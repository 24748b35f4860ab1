import { E, fail, keyOf } from '@respai/core';
import { is } from './args.js';
import { longArg, positiveLongArg } from './collection-args.js';
import { defineCommand } from './types.js';

interface Request {
  key: string;
  item: Buffer;
  rank: number;
  /** undefined: no COUNT (a single index or nil); 0: every match. */
  count: number | undefined;
  maxlen: number;
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len], as Redis 7's lposCommand. */
export const lpos = defineCommand<Request>({
  name: 'lpos',
  arity: -3,
  flags: ['readonly'],
  summary: 'Returns the index of matching elements of a list (RANK, COUNT, MAXLEN).',
  group: 'list',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    const req: Request = { key: keyOf(args[0]!), item: args[1]!, rank: 1, count: undefined, maxlen: 0 };
    for (let i = 2; i < args.length; i++) {
      const more = i + 1 < args.length;
      if (is(args[i], 'RANK') && more) {
        req.rank = longArg(args[++i]!);
        if (req.rank === 0) fail(E.lposRankZero);
      } else if (is(args[i], 'COUNT') && more) req.count = positiveLongArg(args[++i]!, E.lposCountNegative);
      else if (is(args[i], 'MAXLEN') && more) req.maxlen = positiveLongArg(args[++i]!, E.lposMaxlenNegative);
      else fail(E.syntax);
    }
    return req;
  },
  execute(ctx, { key, item, rank, count, maxlen }) {
    const l = ctx.keyspace.getTyped(key, 'list');
    if (l === undefined) return count === undefined ? null : [];
    const fromTail = rank < 0;
    const skip = Math.abs(rank) - 1;
    const len = l.length;
    const found: number[] = [];
    let matches = 0;
    for (let n = 0; n < len && (maxlen === 0 || n < maxlen); n++) {
      const i = fromTail ? len - 1 - n : n;
      if (!l.at(i).equals(item)) continue;
      if (++matches <= skip) continue;
      found.push(i);
      if (count === undefined || (count !== 0 && found.length >= count)) break;
    }
    return count === undefined ? (found[0] ?? null) : found;
  },
});
