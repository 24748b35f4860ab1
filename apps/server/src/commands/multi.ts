import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const multi = defineCommand({
  name: 'multi',
  arity: 1,
  flags: ['nomulti', 'fast', 'loading'],
  summary: 'Starts a transaction.',
  group: 'transactions',
  parse: () => undefined,
  execute(ctx) {
    if (ctx.client.multi !== undefined) fail(E.multiNested);
    ctx.client.multi = [];
    ctx.client.multiDirty = false;
    return OK;
  },
});
