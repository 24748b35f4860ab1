import { keyToBuffer } from '@respai/core';
import { globMatch } from '../util/glob.js';
import { defineCommand } from './types.js';

export const keys = defineCommand({
  name: 'keys',
  arity: 2,
  flags: ['readonly'],
  summary: 'Returns every key matching a glob pattern.',
  group: 'keyspace',
  parse: (args) => args[0]!.toString('latin1'),
  execute(ctx, pattern) {
    const out: Buffer[] = [];
    for (const k of ctx.keyspace.keys()) if (pattern === '*' || globMatch(pattern, k)) out.push(keyToBuffer(k));
    return out;
  },
});
