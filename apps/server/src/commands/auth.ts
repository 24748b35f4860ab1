import { timingSafeEqual } from 'node:crypto';
import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand, type ExecContext } from './types.js';

/** Checks credentials against requirepass (user `default` only); shared with HELLO ... AUTH. */
export function authenticate(ctx: ExecContext, user: string, password: Buffer): void {
  const required = ctx.server.options.requirepass;
  if (required === '') fail(E.authNotConfigured);
  const want = Buffer.from(required);
  if (user !== 'default' || want.length !== password.length || !timingSafeEqual(want, password)) {
    ctx.client.authenticated = false;
    fail(E.wrongPass);
  }
  ctx.client.authenticated = true;
}

export const auth = defineCommand({
  name: 'auth',
  arity: -2,
  flags: ['noauth', 'fast', 'loading'],
  summary: 'Authenticates the connection.',
  group: 'connection',
  parse(args) {
    if (args.length > 2) fail(E.syntax);
    return args.length === 2
      ? { user: args[0]!.toString(), password: args[1]! }
      : { user: 'default', password: args[0]! };
  },
  execute(ctx, { user, password }) {
    // Redis answers the no-password case only for the one-argument form.
    if (ctx.server.options.requirepass === '' && user !== 'default') fail(E.wrongPass);
    authenticate(ctx, user, password);
    return OK;
  },
});
