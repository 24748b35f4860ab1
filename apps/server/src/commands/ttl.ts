import { keyOf } from '@respai/core';
import { defineCommand, type Command } from './types.js';

function ttlCommand(name: 'ttl' | 'pttl', unitMs: number): Command<string> {
  return defineCommand({
    name,
    arity: 2,
    flags: ['readonly', 'fast'],
    summary: `Returns a key's remaining time to live in ${unitMs === 1 ? 'milliseconds' : 'seconds'} (-1 none, -2 no key).`,
    group: 'keyspace',
    keys: { first: 1, last: 1, step: 1 },
    parse: (args) => keyOf(args[0]!),
    execute(ctx, key) {
      const ms = ctx.keyspace.ttl(key);
      return ms < 0 ? ms : Math.floor((ms + unitMs / 2) / unitMs);
    },
  });
}

export const ttl = ttlCommand('ttl', 1000);
export const pttl = ttlCommand('pttl', 1);
