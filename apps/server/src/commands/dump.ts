import { createDump, keyOf } from '@respai/core';
import { defineCommand } from './types.js';

/**
 * DUMP key: the value in Redis's serialization (what RESTORE takes, here or in Redis 7 with the
 * original engine loaded): tensors, models and scripts as the original's AI_TENSOR / AI__MODEL /
 * AI_SCRIPT at encoding version 4, RDB version 10, CRC-64. Nil when the key does not exist.
 */
export const dump = defineCommand({
  name: 'dump',
  arity: 2,
  flags: ['readonly'],
  summary: 'Returns a serialized representation of the value stored at a key.',
  group: 'keyspace',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => keyOf(args[0]!),
  execute(ctx, key) {
    const v = ctx.keyspace.get(key);
    if (v === undefined) return null;
    return createDump(v, { modelChunkSize: ctx.server.engine.config.modelChunkSize, compress: ctx.server.options.rdbcompression === 'yes' });
  },
});
