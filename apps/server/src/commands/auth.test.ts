import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { DEFAULTS } from '../config.js';
import { OK } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { auth } from './auth.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

function fakeCtx(requirepass: string, authenticated = requirepass === '') {
  const client = { id: 1, authenticated } as unknown as Client;
  const server = { options: { ...DEFAULTS, requirepass } } as unknown as ServerState;
  return { ctx: { client, server, keyspace: undefined } as unknown as ExecContext, client };
}
const run = (ctx: ExecContext, ...xs: string[]) => auth.execute(ctx, auth.parse(args(...xs), pctx));

const NOT_CONFIGURED =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?';
const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

describe('AUTH parse', () => {
  it('one argument: the default user', () => {
    expect(auth.parse(args('pw'), pctx)).toEqual({ user: 'default', password: Buffer.from('pw'), oneArg: true });
  });

  it('two arguments: user and password', () => {
    expect(auth.parse(args('alice', 'pw'), pctx)).toEqual({ user: 'alice', password: Buffer.from('pw'), oneArg: false });
  });

  it('three or more: syntax error', () => {
    expect(errorOf(() => auth.parse(args('a', 'b', 'c'), pctx))).toBe('ERR syntax error');
  });
});

describe('AUTH execute', () => {
  it('without requirepass, the one-argument form says no password is configured', () => {
    const { ctx } = fakeCtx('');
    expect(errorOf(() => run(ctx, 'anything'))).toBe(NOT_CONFIGURED);
  });

  it('without requirepass, another user is WRONGPASS', () => {
    const { ctx } = fakeCtx('');
    expect(errorOf(() => run(ctx, 'alice', 'x'))).toBe(WRONGPASS);
  });

  // With no requirepass the default user is "nopass": Redis 7 answers `AUTH default <anything>`
  // with OK (and `HELLO 3 AUTH default x` succeeds).
  it('without requirepass, AUTH default <anything> is OK like Redis', () => {
    const { ctx } = fakeCtx('');
    expect(run(ctx, 'default', 'x')).toBe(OK);
  });

  it('the right password authenticates, in both forms', () => {
    const a = fakeCtx('secret');
    expect(run(a.ctx, 'secret')).toBe(OK);
    expect(a.client.authenticated).toBe(true);
    const b = fakeCtx('secret');
    expect(run(b.ctx, 'default', 'secret')).toBe(OK);
    expect(b.client.authenticated).toBe(true);
  });

  it.each([[['wrong']], [['secre']], [['secret2']], [['default', 'wrong']], [['alice', 'secret']], [['']]])(
    'WRONGPASS for %j',
    (xs) => {
      const { ctx, client } = fakeCtx('secret');
      expect(errorOf(() => run(ctx, ...xs))).toBe(WRONGPASS);
      expect(client.authenticated).toBe(false);
    },
  );

  // A failed AUTH does not log an authenticated connection out in Redis 7 (ACLAuthenticateUser
  // only sets the flag on success): after `AUTH secret` then `AUTH wrong` (WRONGPASS), `GET x`
  // still runs.
  it('a failed AUTH keeps an authenticated connection authenticated like Redis', () => {
    const { ctx, client } = fakeCtx('secret', true);
    expect(errorOf(() => run(ctx, 'wrong'))).toBe(WRONGPASS);
    expect(client.authenticated).toBe(true);
  });

  it('is allowed before authentication', () => {
    expect(auth.flags).toContain('noauth');
  });
});
