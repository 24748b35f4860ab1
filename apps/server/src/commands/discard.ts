import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const discard = defineCommand({
  name: 'discard',
  arity: 1,
  flags: ['nomulti', 'fast', 'loading'],
  summary: 'Discards a transaction.',
  group: 'transactions',
  parse: () => undefined,
  execute(ctx) {
    if (ctx.client.multi === undefined) fail(E.discardWithoutMulti);
    ctx.client.multi = undefined;
    ctx.client.multiDirty = false;
    return OK;
  },
});
