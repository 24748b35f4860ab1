import { E, TYPE_NAMES, fail, keyToBuffer, type Key, type Value } from '@respai/core';
import { globMatch } from '../util/glob.js';
import { is, parseCursor } from './args.js';
import { longArg } from './collection-args.js';
import { defineCommand } from './types.js';

export const scan = defineCommand({
  name: 'scan',
  arity: -2,
  flags: ['readonly'],
  summary: 'Iterates over the keys with a cursor (MATCH, COUNT, TYPE).',
  group: 'keyspace',
  keys: { first: 0, last: 0, step: 0 },
  parse(args) {
    // Cursors are insertion sequence numbers: one past every key's reads as the end, as a number.
    const cursor = Number(parseCursor(args[0]!));
    let match: string | undefined;
    let count = 10;
    let type: string | undefined;
    for (let i = 1; i < args.length; i += 2) {
      const value = args[i + 1];
      if (value === undefined) fail(E.syntax);
      if (is(args[i], 'MATCH')) match = value.toString('latin1');
      else if (is(args[i], 'COUNT')) {
        count = longArg(value);
        if (count < 1) fail(E.syntax);
      } else if (is(args[i], 'TYPE')) type = value.toString().toLowerCase();
      else fail(E.syntax);
    }
    // A lone '*' is "no pattern" (Redis: use_pattern), which also lists the empty key.
    if (match === '*') match = undefined;
    return { cursor, match, count, type };
  },
  execute(ctx, { cursor, match, count, type }) {
    const filter =
      match === undefined && type === undefined
        ? undefined
        : (k: Key, v: Value) =>
            (match === undefined || globMatch(match, k)) && (type === undefined || TYPE_NAMES[v.type].toLowerCase() === type);
    const page = ctx.keyspace.scan(cursor, count, filter);
    return [String(page.cursor), page.keys.map(keyToBuffer)];
  },
});
