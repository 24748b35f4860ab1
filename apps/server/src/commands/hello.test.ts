import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { DEFAULTS } from '../config.js';
import { MapReply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { hello } from './hello.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const parse = (...xs: string[]) => hello.parse(args(...xs), pctx);

function fakeCtx(requirepass = '', authenticated = requirepass === '') {
  const client = { id: 7, authenticated, proto: 2, name: '' } as unknown as Client;
  const server = { options: { ...DEFAULTS, requirepass } } as unknown as ServerState;
  return { ctx: { client, server, keyspace: undefined } as unknown as ExecContext, client };
}

const NOAUTH_HELLO =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time';

describe('HELLO parse', () => {
  it('no arguments', () => {
    expect(parse()).toEqual({ proto: undefined, auth: undefined, setname: undefined });
  });

  it('protocol 2 or 3, AUTH and SETNAME in any case and order', () => {
    expect(parse('3')).toMatchObject({ proto: 3 });
    expect(parse('2', 'auth', 'alice', 'pw', 'SetName', 'conn1')).toEqual({
      proto: 2,
      auth: { user: 'alice', password: Buffer.from('pw') },
      setname: 'conn1',
    });
    expect(parse('3', 'SETNAME', 'a', 'AUTH', 'default', 'pw')).toMatchObject({ setname: 'a', auth: { user: 'default' } });
  });

  it.each(['abc', '3.0', '', '9223372036854775808'])('protocol %j is not an integer', (p) => {
    expect(errorOf(() => parse(p))).toBe('ERR Protocol version is not an integer or out of range');
  });

  it.each(['1', '4', '0', '-3'])('protocol %s is unsupported', (p) => {
    expect(errorOf(() => parse(p))).toBe('NOPROTO unsupported protocol version');
  });

  it.each([
    [['3', 'FOO'], 'FOO'],
    [['3', 'AUTH', 'user'], 'AUTH'],
    [['3', 'auth'], 'auth'],
    [['3', 'SETNAME'], 'SETNAME'],
    [['2', 'SETNAME', 'a', 'extra'], 'extra'],
  ])('%j: syntax error naming the option', (xs, opt) => {
    expect(errorOf(() => parse(...xs))).toBe(`ERR Syntax error in HELLO option '${opt}'`);
  });

  // Redis checks the protocol version before the options: `HELLO 4 FOO` and
  // `HELLO 4 AUTH default x` are `NOPROTO unsupported protocol version`.
  it('checks the version before the options like Redis', () => {
    expect(errorOf(() => parse('4', 'FOO'))).toBe('NOPROTO unsupported protocol version');
    expect(errorOf(() => parse('1', 'SETNAME'))).toBe('NOPROTO unsupported protocol version');
  });
});

describe('HELLO execute', () => {
  const entries = (r: unknown) => new Map((r as MapReply).entries.map(([k, v]) => [k as string, v]));

  it('replies the server map and switches the protocol', () => {
    const { ctx, client } = fakeCtx();
    const r = hello.execute(ctx, parse('3'));
    expect(r).toBeInstanceOf(MapReply);
    expect([...entries(r).keys()]).toEqual(['server', 'version', 'proto', 'id', 'mode', 'role', 'modules']);
    expect(entries(r).get('server')).toBe('redis');
    expect(entries(r).get('version')).toBe('7.2.0');
    expect(entries(r).get('proto')).toBe(3);
    expect(entries(r).get('id')).toBe(7);
    expect(entries(r).get('mode')).toBe('standalone');
    expect(entries(r).get('role')).toBe('master');
    expect(entries(r).get('modules')).toEqual([]);
    expect(client.proto).toBe(3);
  });

  it('without a version keeps the protocol', () => {
    const { ctx, client } = fakeCtx();
    expect(entries(hello.execute(ctx, parse())).get('proto')).toBe(2);
    expect(client.proto).toBe(2);
  });

  it('SETNAME names the connection; a bad name is refused', () => {
    const { ctx, client } = fakeCtx();
    hello.execute(ctx, parse('3', 'SETNAME', 'worker-1'));
    expect(client.name).toBe('worker-1');
    const other = fakeCtx();
    expect(errorOf(() => hello.execute(other.ctx, parse('3', 'SETNAME', 'a b')))).toBe(
      'ERR Client names cannot contain spaces, newlines or special characters.',
    );
    expect(other.client.proto).toBe(2);
  });

  it('unauthenticated: NOAUTH unless AUTH is given', () => {
    const { ctx, client } = fakeCtx('secret');
    expect(errorOf(() => hello.execute(ctx, parse('3')))).toBe(NOAUTH_HELLO);
    expect(client.proto).toBe(2);
    expect(errorOf(() => hello.execute(ctx, parse('3', 'AUTH', 'default', 'wrong')))).toBe(
      'WRONGPASS invalid username-password pair or user is disabled.',
    );
    expect(client.proto).toBe(2);
    expect(entries(hello.execute(ctx, parse('3', 'AUTH', 'default', 'secret'))).get('proto')).toBe(3);
    expect(client.authenticated).toBe(true);
  });

  // With no requirepass, Redis 7 accepts `HELLO 3 AUTH default <anything>` (the default user
  // is nopass); another user is WRONGPASS.
  it('without requirepass, HELLO 3 AUTH default x succeeds like Redis', () => {
    const { ctx } = fakeCtx('');
    expect(entries(hello.execute(ctx, parse('3', 'AUTH', 'default', 'x'))).get('proto')).toBe(3);
    expect(errorOf(() => hello.execute(ctx, parse('3', 'AUTH', 'alice', 'x')))).toBe(
      'WRONGPASS invalid username-password pair or user is disabled.',
    );
  });

  it('SETNAME is validated while reading the options, before AUTH, like Redis', () => {
    expect(errorOf(() => parse('3', 'SETNAME', 'a b', 'FOO'))).toBe(
      'ERR Client names cannot contain spaces, newlines or special characters.',
    );
    const { ctx } = fakeCtx('secret');
    expect(errorOf(() => hello.execute(ctx, parse('3', 'SETNAME', 'ok', 'AUTH', 'default', 'wrong')))).toBe(
      'WRONGPASS invalid username-password pair or user is disabled.',
    );
  });
});
