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
    // SAVE forces a snapshot, NOSAVE skips it (the AOF is flushed either way); NOW / FORCE are accepted.
    const seen = new Set<string>();
    for (const a of args) {
      const flag = ['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT'].find((k) => is(a, k));
      if (flag === undefined) fail(E.syntax);
      seen.add(flag);
    }
    // Redis's illegal combinations: SAVE with NOSAVE, ABORT with any other flag.
    if ((seen.has('SAVE') && seen.has('NOSAVE')) || (seen.has('ABORT') && seen.size > 1)) fail(E.syntax);
    const save = seen.has('SAVE') ? true : seen.has('NOSAVE') ? false : undefined;
    return save === undefined ? { abort: seen.has('ABORT') } : { abort: seen.has('ABORT'), save };
  },
  execute(ctx, { abort, save }: { abort: boolean; save?: boolean }) {
    // Flagged nomulti so it is not queued; Redis refuses it inside MULTI and aborts the transaction.
    if (ctx.client.multi !== undefined) {
      ctx.client.multiDirty = true;
      fail(E.notInMulti);
    }
    if (abort) fail(E.noShutdownInProgress);
    const reason = `SHUTDOWN from client id=${ctx.client.id} addr=${ctx.client.addr}`;
    // Never answered on success: the connection closes. A failed save is an error reply instead
    // (`ERR Errors trying to SHUTDOWN. Check logs.`), and the server keeps running, as in Redis.
    return (save === undefined ? ctx.server.shutdown(reason) : ctx.server.shutdown(reason, { save })).then(() => new Promise<never>(() => {}));
  },
});
