import { keyOf, keyToBuffer } from '@respai/core';
import { MapReply } from '../resp/reply.js';
import { defineCommand, type Command } from './types.js';

/** HGETALL (a map in RESP3, a flat array in RESP2), HKEYS and HVALS; in the hash's order. */
function hgetallLike(name: 'hgetall' | 'hkeys' | 'hvals', summary: string): Command<string> {
  return defineCommand({
    name,
    arity: 2,
    flags: ['readonly'],
    summary,
    group: 'hash',
    keys: { first: 1, last: 1, step: 1 },
    parse: (args) => keyOf(args[0]!),
    execute(ctx, key) {
      const h = ctx.keyspace.getTyped(key, 'hash');
      if (name === 'hgetall') return new MapReply(h === undefined ? [] : [...h].map(([f, v]) => [keyToBuffer(f), v] as const));
      if (h === undefined) return [];
      return name === 'hkeys' ? [...h.keys()].map(keyToBuffer) : [...h.values()];
    },
  });
}

export const hgetall = hgetallLike('hgetall', 'Returns every field and value of a hash.');
export const hkeys = hgetallLike('hkeys', 'Returns every field of a hash.');
export const hvals = hgetallLike('hvals', 'Returns every value of a hash.');
