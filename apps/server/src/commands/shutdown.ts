import { E, fail } from '@respai/core';
import { is } from './args.js';
import { defineCommand } from './types.js';

export const shutdown = defineCommand({
  name: 'shutdown',
  arity: -1,
  flags: ['admin', 'nomulti', 'loading'],
  summary: 'Stops the server (no reply on success: the connection closes).',
  group: 'server',
  parse(args) {
    // NOSAVE / SAVE / NOW / FORCE are accepted; there is nothing to save until durability lands.
    for (const a of args) {
      if (!['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT'].some((k) => is(a, k))) fail(E.syntax);
    }
    return { abort: args.some((a) => is(a, 'ABORT')) };
  },
  execute(ctx, { abort }) {
    // Flagged nomulti so it is not queued; Redis refuses it inside MULTI and aborts the transaction.
    if (ctx.client.multi !== undefined) {
      ctx.client.multiDirty = true;
      fail('ERR Command not allowed inside a transaction');
    }
    if (abort) fail('ERR No shutdown in progress.');
    void ctx.server.shutdown(`SHUTDOWN from client id=${ctx.client.id} addr=${ctx.client.addr}`);
    return new Promise(() => {}); // never answered: the connection closes
  },
});
