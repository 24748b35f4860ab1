import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { persistenceOf } from './persistence-of.js';
import { defineCommand } from './types.js';

export const save = defineCommand({
  name: 'save',
  arity: 1,
  flags: ['admin', 'nomulti'],
  summary: 'Writes a snapshot of the keyspace to disk, synchronously (clients wait).',
  group: 'server',
  parse: () => undefined,
  execute(ctx) {
    if (ctx.client.multi !== undefined) {
      ctx.client.multiDirty = true;
      fail(E.notInMulti);
    }
    persistenceOf(ctx).save();
    return OK;
  },
});
