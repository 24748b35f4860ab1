import { keyOf } from '@respai/core';
import { defineCommand } from './types.js';

export const del = defineCommand({
  name: 'del',
  arity: -2,
  flags: ['write'],
  summary: 'Deletes keys of any type (tensors too) and returns how many existed.',
  group: 'keyspace',
  keys: { first: 1, last: -1, step: 1 },
  parse: (args) => args.map(keyOf),
  execute: (ctx, keys) => keys.reduce<number>((n, k) => n + (ctx.keyspace.delete(k) ? 1 : 0), 0),
});
