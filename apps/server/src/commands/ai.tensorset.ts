import { keyOf, tensorFromArgs } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const aiTensorset = defineCommand({
  name: 'ai.tensorset',
  arity: -4,
  flags: ['write'],
  summary: 'Stores a tensor: AI.TENSORSET key type dim... [BLOB data | VALUES v...].',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args, ctx) => ({
    key: keyOf(args[0]!),
    tensor: tensorFromArgs(args.slice(1), { maxBytes: ctx.protoMaxBulkLen }),
  }),
  execute(ctx, { key, tensor }) {
    // Overwrites a key of any type, as RedisAI does (it deletes then sets).
    ctx.keyspace.set(key, { type: 'tensor', value: tensor });
    return OK;
  },
});
