import { RespaiError, keyOf, tensorFromArgs, type Tensor } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const aiTensorset = defineCommand({
  name: 'ai.tensorset',
  arity: -4,
  flags: ['write'],
  summary: 'Stores a tensor: AI.TENSORSET key type dim... [BLOB data | VALUES v...].',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse(args, ctx): { key: string; tensor: Tensor | RespaiError } {
    const key = keyOf(args[0]!);
    try {
      return { key, tensor: tensorFromArgs(args.slice(1), { maxBytes: ctx.protoMaxBulkLen }) };
    } catch (e) {
      // The original checks the key's type before the arguments: a parse error waits for that.
      if (RespaiError.isInstance(e)) return { key, tensor: e };
      throw e;
    }
  },
  execute(ctx, { key, tensor }) {
    ctx.keyspace.getTyped(key, 'tensor'); // WRONGTYPE for a key holding anything else
    if (RespaiError.isInstance(tensor)) throw tensor;
    ctx.keyspace.set(key, { type: 'tensor', value: tensor });
    return OK;
  },
});
