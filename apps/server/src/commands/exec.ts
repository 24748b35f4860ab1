import { E, fail } from '@respai/core';
import type { Client } from '../client.js';
import { defineCommand } from './types.js';

/** EXEC's start: the queued commands, leaving MULTI; EXECABORT when one was refused while queueing. */
export function takeTransaction(c: Client): NonNullable<Client['multi']> {
  const queued = c.multi;
  if (queued === undefined) fail(E.execWithoutMulti);
  c.multi = undefined;
  if (c.multiDirty) {
    c.multiDirty = false;
    fail(E.execAbort);
  }
  return queued;
}

export const exec = defineCommand({
  name: 'exec',
  arity: 1,
  flags: ['nomulti', 'loading'],
  summary: 'Runs the queued commands of a transaction, atomically.',
  group: 'transactions',
  parse: () => undefined,
  execute(ctx) {
    const c = ctx.client;
    const queued = takeTransaction(c);
    // Asynchronous halves first (loading models); then every command in one synchronous step,
    // so no other client sees a partial state.
    const steps = queued.map((q) => c.execStep(q.command, q.args));
    if (steps.every((s) => typeof s === 'function')) return steps.map((s) => s());
    return Promise.all(steps).then((ready) => ready.map((s) => s()));
  },
});
