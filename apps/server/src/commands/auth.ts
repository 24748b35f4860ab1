import { timingSafeEqual } from 'node:crypto';
import { E, fail } from '@respai/core';
import { OK } from '../resp/reply.js';
import { defineCommand, type ExecContext } from './types.js';

/**
 * Checks credentials the way Redis 7's ACLAuthenticateUser does for its one user, `default`
 * (shared with HELLO ... AUTH). Without requirepass the default user is `nopass`: any password is
 * accepted. Success authenticates the connection; a failure leaves its state as it was (an
 * authenticated connection stays authenticated, as in Redis).
 */
export function authenticate(ctx: ExecContext, user: string, password: Buffer): void {
  // [acl] With users (a real server), the user these credentials open; its connection runs as it.
  const acl = ctx.server.acl;
  if (acl !== undefined) {
    const u = acl.authenticate(user, password);
    if (u === undefined) fail(E.wrongPass);
    ctx.client.user = u;
    ctx.client.authenticated = true;
    return;
  }
  if (user !== 'default') fail(E.wrongPass);
  const required = ctx.server.options.requirepass;
  if (required !== '') {
    const want = Buffer.from(required);
    if (want.length !== password.length || !timingSafeEqual(want, password)) fail(E.wrongPass);
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
      ? { user: args[0]!.toString(), password: args[1]!, oneArg: false }
      : { user: 'default', password: args[0]!, oneArg: true };
  },
  execute(ctx, { user, password, oneArg }) {
    // Redis keeps the old error for the one-argument form when the default user has no password;
    // `AUTH default <anything>` is OK then (the default user is nopass).
    if (oneArg && (ctx.server.acl === undefined ? ctx.server.options.requirepass === '' : ctx.server.acl.defaultUser.nopass)) fail(E.authNotConfigured);
    authenticate(ctx, user, password);
    return OK;
  },
});
