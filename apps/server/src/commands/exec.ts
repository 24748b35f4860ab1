import { E, fail } from '@respai/core';
import type { Reply } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const exec = defineCommand({
  name: 'exec',
  arity: 1,
  flags: ['nomulti', 'loading'],
  summary: 'Runs the queued commands of a transaction, atomically.',
  group: 'transactions',
  parse: () => undefined,
  execute(ctx) {
    const c = ctx.client;
    const queued = c.multi;
    if (queued === undefined) fail(E.execWithoutMulti);
    c.multi = undefined;
    if (c.multiDirty) {
      c.multiDirty = false;
      fail(E.execAbort);
    }
    // Every queued command runs synchronously here, so no other client sees a partial state.
    const replies: Reply[] = [];
    for (const q of queued) replies.push(c.runForExec(q.command, q.args));
    return replies;
  },
});
