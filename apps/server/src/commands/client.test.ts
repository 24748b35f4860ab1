import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { OK, VerbatimReply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { client, describeClient, validateClientName } from './client.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const parse = (...xs: string[]) => client.parse(args(...xs), pctx);

function fakeClient(id: number, fields: Partial<Client> = {}): Client {
  return {
    id,
    addr: '127.0.0.1:50000',
    laddr: '127.0.0.1:6379',
    name: '',
    libName: '',
    libVer: '',
    createdAt: 1_000_000,
    lastInteraction: 1_000_000,
    multi: undefined,
    queryBuffer: 0,
    lastCommand: 'client|list',
    proto: 2,
    ...fields,
  } as unknown as Client;
}

function fakeCtx(c: Client, others: Client[] = []): ExecContext {
  const clients = new Map([c, ...others].map((x) => [x.id, x]));
  return { client: c, server: { clients } as unknown as ServerState, keyspace: undefined } as unknown as ExecContext;
}

const BAD_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

describe('CLIENT parse', () => {
  it.each([
    [['ID'], { op: 'id' }],
    [['id'], { op: 'id' }],
    [['GetName'], { op: 'getname' }],
    [['info'], { op: 'info' }],
    [['HELP'], { op: 'help' }],
    [['list'], { op: 'list' }],
    [['LIST', 'type', 'normal'], { op: 'list', type: 'normal' }],
    [['LIST', 'ID', '3', '1'], { op: 'list', ids: [3n, 1n] }],
    [['setname', 'conn-1'], { op: 'setname', name: 'conn-1' }],
    [['SETNAME', ''], { op: 'setname', name: '' }],
    [['SETINFO', 'LIB-NAME', 'redis-py'], { op: 'setinfo', attr: 'lib-name', value: 'redis-py' }],
    [['setinfo', 'lib-ver', '5.0.1'], { op: 'setinfo', attr: 'lib-ver', value: '5.0.1' }],
  ])('%j', (xs, want) => {
    expect(parse(...xs)).toEqual(want);
  });

  it.each([[['NO-EVICT', 'on']], [['no-touch', 'off']], [['no-evict', 'OFF']]])('%j is accepted as a no-op', (xs) => {
    expect(parse(...xs)).toEqual({ op: 'noop' });
  });

  it.each([
    [['REPLY', 'ON'], 'on'],
    [['reply', 'off'], 'off'],
    [['Reply', 'Skip'], 'skip'],
  ])('%j', (xs, mode) => {
    expect(parse(...xs)).toEqual({ op: 'reply', mode });
  });

  it.each(['a b', 'a\nb', 'tab\there', '\u00e9t\u00e9', '\x7f', '\x00'])('SETNAME refuses %j', (name) => {
    expect(errorOf(() => parse('SETNAME', name))).toBe(BAD_NAME);
  });

  it('SETINFO refuses an unknown attribute, quoting it as given', () => {
    expect(errorOf(() => parse('SETINFO', 'Lib-Foo', 'x'))).toBe("ERR Unrecognized option 'Lib-Foo'");
  });

  it('SETINFO refuses a value with spaces', () => {
    expect(errorOf(() => parse('SETINFO', 'lib-name', 'redis py'))).toBe(
      'ERR lib-name cannot contain spaces, newlines or special characters.',
    );
    expect(errorOf(() => parse('SETINFO', 'lib-ver', '1\n2'))).toBe(
      'ERR lib-ver cannot contain spaces, newlines or special characters.',
    );
  });

  it('an unknown subcommand, quoted as typed', () => {
    expect(errorOf(() => parse('FOO'))).toBe("ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
    expect(errorOf(() => parse('kill-all', 'x'))).toBe("ERR unknown subcommand 'kill-all'. Try CLIENT HELP.");
  });

  it.each([[['LIST', 'FOO']], [['LIST', 'TYPE']], [['list', 'type', 'normal', 'extra']]])('LIST syntax error for %j', (xs) => {
    expect(errorOf(() => parse(...xs))).toBe('ERR syntax error');
  });

  // Redis 7 checks each subcommand's arity: `CLIENT ID x`, `CLIENT GETNAME x`, `CLIENT INFO x`,
  // `CLIENT HELP x`, `CLIENT SETNAME` and `CLIENT SETNAME a b` reply
  // `ERR wrong number of arguments for 'client|<sub>' command`.
  it('a known subcommand with the wrong arity gets the client|sub arity text like Redis', () => {
    for (const [xs, sub] of [
      [['ID', 'x'], 'id'],
      [['GETNAME', 'x'], 'getname'],
      [['INFO', 'x'], 'info'],
      [['HELP', 'x'], 'help'],
      [['SETNAME'], 'setname'],
      [['SETNAME', 'a', 'b'], 'setname'],
      [['SETINFO', 'lib-name'], 'setinfo'],
      [['NO-EVICT'], 'no-evict'],
      [['REPLY'], 'reply'],
      [['reply', 'on', 'x'], 'reply'],
      [['No-Evict', 'on', 'x'], 'no-evict'],
    ] as const) {
      expect(errorOf(() => parse(...xs))).toBe(`ERR wrong number of arguments for 'client|${sub}' command`);
    }
  });

  // `CLIENT LIST ID id...` is a valid filter in Redis 7, with `ERR Invalid client ID` for a
  // non-number (string2ll: no `+`, no leading zeros); `CLIENT LIST TYPE foo` is
  // `ERR Unknown client type 'foo'`. Other shapes are syntax errors.
  it('CLIENT LIST ID / TYPE filters like Redis', () => {
    expect(() => parse('LIST', 'ID', '1')).not.toThrow();
    expect(() => parse('LIST', 'id', '1', '2', '3')).not.toThrow();
    expect(errorOf(() => parse('LIST', 'ID', 'abc'))).toBe('ERR Invalid client ID');
    expect(errorOf(() => parse('LIST', 'TYPE', 'foo'))).toBe("ERR Unknown client type 'foo'");
    for (const t of ['normal', 'MASTER', 'replica', 'slave', 'pubsub']) expect(() => parse('LIST', 'TYPE', t)).not.toThrow();
    expect(errorOf(() => parse('LIST', 'ID', '1', 'abc'))).toBe('ERR Invalid client ID');
    expect(errorOf(() => parse('LIST', 'ID', '010'))).toBe('ERR Invalid client ID');
    expect(errorOf(() => parse('LIST', 'ID', '+5'))).toBe('ERR Invalid client ID');
    expect(errorOf(() => parse('LIST', 'ID', '1', 'TYPE', 'normal'))).toBe('ERR Invalid client ID');
    expect(errorOf(() => parse('LIST', 'ID'))).toBe('ERR syntax error');
    expect(errorOf(() => parse('LIST', 'TYPE', 'normal', 'ID', '1'))).toBe('ERR syntax error');
  });

  // `CLIENT NO-EVICT foo` / `CLIENT REPLY foo` are `ERR syntax error` in Redis.
  it('NO-EVICT / REPLY take only ON|OFF(|SKIP) like Redis', () => {
    expect(errorOf(() => parse('NO-EVICT', 'foo'))).toBe('ERR syntax error');
    expect(errorOf(() => parse('REPLY', 'foo'))).toBe('ERR syntax error');
    expect(errorOf(() => parse('NO-TOUCH', 'yes'))).toBe('ERR syntax error');
  });
});

describe('CLIENT execute', () => {
  it('ID replies the id', () => {
    const c = fakeClient(42);
    expect(client.execute(fakeCtx(c), parse('ID'))).toBe(42);
  });

  it('SETNAME / GETNAME; an empty name clears it (GETNAME nil)', () => {
    const c = fakeClient(1);
    const ctx = fakeCtx(c);
    expect(client.execute(ctx, parse('GETNAME'))).toBeNull();
    expect(client.execute(ctx, parse('SETNAME', 'worker'))).toBe(OK);
    expect(c.name).toBe('worker');
    expect(client.execute(ctx, parse('GETNAME'))).toBe('worker');
    client.execute(ctx, parse('SETNAME', ''));
    expect(client.execute(ctx, parse('GETNAME'))).toBeNull();
  });

  it('SETINFO stores lib-name and lib-ver', () => {
    const c = fakeClient(1);
    const ctx = fakeCtx(c);
    expect(client.execute(ctx, parse('SETINFO', 'LIB-NAME', 'redis-py'))).toBe(OK);
    expect(client.execute(ctx, parse('SETINFO', 'lib-ver', '5.0.1'))).toBe(OK);
    expect(c.libName).toBe('redis-py');
    expect(c.libVer).toBe('5.0.1');
  });

  it('INFO: one verbatim line for this client, ending in a newline', () => {
    const c = fakeClient(5, { name: 'me' });
    const r = client.execute(fakeCtx(c), parse('INFO'));
    expect(r).toBeInstanceOf(VerbatimReply);
    const v = r as VerbatimReply;
    expect(v.format).toBe('txt');
    expect(v.text).toMatch(/^id=5 addr=127\.0\.0\.1:50000 laddr=127\.0\.0\.1:6379 fd=-1 name=me age=\d+ idle=\d+ flags=N db=0 /);
    expect(v.text.endsWith('\n')).toBe(true);
    expect(v.text.split('\n')).toHaveLength(2);
  });

  it('LIST: one line per connected client', () => {
    const a = fakeClient(1);
    const b = fakeClient(2, { name: 'other' });
    const r = client.execute(fakeCtx(a, [b]), parse('LIST')) as VerbatimReply;
    const lines = r.text.split('\n').filter((l) => l !== '');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['id=1', 'id=2']);
    expect(lines[1]).toContain(' name=other ');
  });

  it('LIST TYPE: every connection is a normal client', () => {
    const a = fakeClient(1);
    const b = fakeClient(2);
    expect((client.execute(fakeCtx(a, [b]), parse('LIST', 'TYPE', 'Normal')) as VerbatimReply).text.split('\n')).toHaveLength(3);
    expect((client.execute(fakeCtx(a, [b]), parse('LIST', 'TYPE', 'pubsub')) as VerbatimReply).text).toBe('');
  });

  it('LIST ID: the given connections in the order given, unknown ids left out', () => {
    const a = fakeClient(1);
    const b = fakeClient(2);
    const r = client.execute(fakeCtx(a, [b]), parse('LIST', 'ID', '2', '99', '-1', '1')) as VerbatimReply;
    expect(r.text.split('\n').filter((l) => l !== '').map((l) => l.split(' ')[0])).toEqual(['id=2', 'id=1']);
  });

  it('REPLY: OFF and SKIP set the flags the reply path checks; ON clears them', () => {
    const c = fakeClient(1, { replyOff: false, replySkip: 0 });
    const ctx = fakeCtx(c);
    expect(client.execute(ctx, parse('REPLY', 'SKIP'))).toBe(OK);
    expect(c.replySkip).toBe(2); // this reply and the next command's
    expect(client.execute(ctx, parse('REPLY', 'ON'))).toBe(OK);
    expect([c.replyOff, c.replySkip]).toEqual([false, 0]);
    client.execute(ctx, parse('REPLY', 'OFF'));
    expect(c.replyOff).toBe(true);
    client.execute(ctx, parse('REPLY', 'SKIP')); // ignored while OFF, as in Redis
    expect(c.replySkip).toBe(0);
    client.execute(ctx, parse('REPLY', 'ON'));
    expect(c.replyOff).toBe(false);
  });

  it('HELP: an array of lines, starting with the usage line', () => {
    const r = client.execute(fakeCtx(fakeClient(1)), parse('HELP')) as string[];
    expect(r[0]).toBe('CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(r).toContain('SETNAME <name>');
  });
});

describe('describeClient', () => {
  it('has the fields clients parse, with age/idle in seconds and MULTI state', () => {
    const c = fakeClient(9, {
      createdAt: 10_000,
      lastInteraction: 15_000,
      multi: [] as unknown as Client['multi'],
      libName: 'lib',
      libVer: '1.0',
      proto: 3,
    });
    const line = describeClient(c, 20_500);
    const fields = new Map(line.split(' ').map((kv) => kv.split('=') as [string, string]));
    expect(fields.get('id')).toBe('9');
    expect(fields.get('age')).toBe('10');
    expect(fields.get('idle')).toBe('5');
    expect(fields.get('flags')).toBe('x');
    expect(fields.get('multi')).toBe('0');
    expect(fields.get('resp')).toBe('3');
    expect(fields.get('lib-name')).toBe('lib');
    expect(fields.get('lib-ver')).toBe('1.0');
    expect(fields.get('user')).toBe('default');
  });
});

describe('validateClientName', () => {
  it('accepts printable ASCII without spaces, and the empty name', () => {
    expect(() => validateClientName('')).not.toThrow();
    expect(() => validateClientName('!~abc-123_:{}')).not.toThrow();
  });
  it('refuses a space', () => {
    expect(errorOf(() => validateClientName('a b'))).toBe(BAD_NAME);
  });
});
