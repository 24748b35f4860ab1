/**
 * Generic Redis behaviour of the built server, through node-redis and raw sockets: the connection
 * commands, the RESP parser (pipelining, inline commands, protocol errors, large and truncated
 * requests), the keyspace and string commands, server commands, transactions, authentication,
 * maxclients, the config file, and the ways the process ends. Texts are compared with what
 * redis-server 7 sends.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { startServer, type RunningServer } from './helpers/server.js';

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A RESP multibulk request, as clients send them. */
function resp(...args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Sends raw bytes on a fresh connection and collects the reply until `done(reply)` holds or the
 * server closes the connection. The 20 s limit is only a safety net: a test that hits it fails.
 */
function talk(port: number, data: Buffer | string, done: (reply: string) => boolean): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ reply, closed });
    };
    const timer = setTimeout(() => {
      finished = true;
      sock.destroy();
      reject(new Error(`no complete reply; got ${JSON.stringify(reply.slice(0, 500))}`));
    }, 20_000);
    sock.on('data', (d) => {
      reply += d.toString('latin1');
      if (done(reply)) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => undefined);
    sock.write(data);
  });
}

/** Waits until the server has closed the connection (or 20 s pass, and the test fails). */
const untilClosed = (port: number, data: Buffer | string) => talk(port, data, () => false);

/** Connects a raw socket and waits for the connection. */
function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from a connected socket until `done(reply)`; resolves with everything read. */
function readUntil(sock: Socket, done: (reply: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(reply)}`)), 20_000);
    const onData = (d: Buffer) => {
      reply += d.toString('latin1');
      if (done(reply)) {
        clearTimeout(timer);
        sock.off('data', onData);
        resolve(reply);
      }
    };
    sock.on('data', onData);
  });
}

/** Polls `check` until it holds (or 20 s pass, and the test fails): for state that settles. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(20);
  }
}

async function newClient(port: number, opts: Parameters<typeof createClient>[0] = {}): Promise<Client> {
  const c = createClient({ ...opts, socket: { port, host: '127.0.0.1' } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer();
  client = await newClient(server.port);
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(args);

describe('the test harness', () => {
  it('starts every server in a temporary directory of its own, never the repository', async () => {
    const [, dir] = (await cmd('CONFIG', 'GET', 'dir')) as [string, string];
    expect(dir.startsWith(join(tmpdir(), 'respai-test-'))).toBe(true);
  });
});
const bin = (...args: Arg[]): Promise<unknown> =>
  client.sendCommand(args, { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } });

async function errorOf(...args: Arg[]): Promise<string> {
  try {
    const r = await client.sendCommand(args);
    throw new Error(`expected an error from ${args.map(String).join(' ')}, got ${JSON.stringify(r)}`);
  } catch (e) {
    const err = e as Error;
    if (err.constructor.name !== 'SimpleError') throw err;
    return err.message;
  }
}

/** The `field:value` lines of an INFO reply. */
function infoFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) m.set(line.slice(0, at), line.slice(at + 1));
  }
  return m;
}

// ---- connection ---------------------------------------------------------------------------------

describe('connection commands', () => {
  it('PING and ECHO', async () => {
    expect(await cmd('PING')).toBe('PONG');
    expect(await cmd('ping', 'hello')).toBe('hello');
    expect(await cmd('ECHO', 'a b c')).toBe('a b c');
    const b = Buffer.from([0, 13, 10, 255]);
    expect(await bin('ECHO', b)).toEqual(b);
    expect((await talk(server.port, resp('PING'), (r) => r.endsWith('\r\n'))).reply).toBe('+PONG\r\n');
  });

  it('an unknown command, with Redis text', async () => {
    expect(await errorOf('foo', 'a', 'b')).toBe("ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
    expect(await errorOf('NOPE')).toBe("ERR unknown command 'NOPE', with args beginning with: ");
  });

  it('arity errors name the command in lower case', async () => {
    expect(await errorOf('GET')).toBe("ERR wrong number of arguments for 'get' command");
    expect(await errorOf('Get', 'a', 'b')).toBe("ERR wrong number of arguments for 'get' command");
    expect(await errorOf('ECHO')).toBe("ERR wrong number of arguments for 'echo' command");
    expect(await errorOf('PING', 'a', 'b')).toBe("ERR wrong number of arguments for 'ping' command");
    expect(await errorOf('SET', 'k')).toBe("ERR wrong number of arguments for 'set' command");
  });

  it('SELECT: database 0 only', async () => {
    expect(await cmd('SELECT', '0')).toBe('OK');
    expect(await errorOf('SELECT', '1')).toBe('ERR DB index is out of range');
    expect(await errorOf('SELECT', '-1')).toBe('ERR DB index is out of range');
    expect(await errorOf('SELECT', 'abc')).toBe('ERR value is not an integer or out of range');
  });

  it('CLIENT SETNAME / GETNAME / ID / SETINFO / LIST', async () => {
    const c = await newClient(server.port);
    try {
      const id = (await c.sendCommand(['CLIENT', 'ID'])) as number;
      expect(Number.isInteger(id)).toBe(true);
      expect(await c.sendCommand(['CLIENT', 'GETNAME'])).toBe(null);
      expect(await c.sendCommand(['CLIENT', 'SETNAME', 'worker-1'])).toBe('OK');
      expect(await c.sendCommand(['CLIENT', 'GETNAME'])).toBe('worker-1');
      expect(await c.sendCommand(['CLIENT', 'SETINFO', 'LIB-NAME', 'e2e-lib'])).toBe('OK');
      expect(await c.sendCommand(['CLIENT', 'SETINFO', 'lib-ver', '9.9.9'])).toBe('OK');
      await expect(c.sendCommand(['CLIENT', 'SETNAME', 'a b'])).rejects.toThrow(
        'ERR Client names cannot contain spaces, newlines or special characters.',
      );
      await expect(c.sendCommand(['CLIENT', 'NOPE'])).rejects.toThrow("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.");
      const list = (await client.sendCommand(['CLIENT', 'LIST'])) as string;
      const line = list.split('\n').find((l) => l.startsWith(`id=${id} `));
      expect(line).toBeDefined();
      expect(line).toContain(' name=worker-1 ');
      expect(line).toContain(' lib-name=e2e-lib ');
      expect(line).toContain(' lib-ver=9.9.9');
      expect(line).toMatch(/ addr=127\.0\.0\.1:\d+ /);
    } finally {
      await c.close();
    }
  });

  it('HELLO 3 answers a map and switches to RESP3; HELLO 2 back; HELLO 4 is refused', async () => {
    const hello3 = /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$\d+\r\n[\d.]+\r\n\$5\r\nproto\r\n:3\r\n\$2\r\nid\r\n:\d+\r\n\$4\r\nmode\r\n\$10\r\nstandalone\r\n\$4\r\nrole\r\n\$6\r\nmaster\r\n\$7\r\nmodules\r\n\*0\r\n/;
    const nulls = '_\r\n';
    const { reply } = await talk(
      server.port,
      Buffer.concat([resp('HELLO', '3'), resp('GET', 'no-such-key'), resp('HELLO', '2'), resp('GET', 'no-such-key')]),
      (r) => r.endsWith('$-1\r\n'),
    );
    expect(reply).toMatch(hello3);
    const rest = reply.replace(hello3, '');
    expect(rest.startsWith(nulls)).toBe(true); // RESP3 null
    expect(rest).toMatch(/^_\r\n\*14\r\n\$6\r\nserver\r\n[^]*\$5\r\nproto\r\n:2\r\n[^]*\$-1\r\n$/);

    expect(await errorOf('HELLO', '4')).toBe('NOPROTO unsupported protocol version');
    expect(await errorOf('HELLO', '1')).toBe('NOPROTO unsupported protocol version');

    const c3 = await newClient(server.port, { RESP: 3 });
    try {
      const h = (await c3.sendCommand(['HELLO', '3'])) as Record<string, unknown>;
      expect(h).toMatchObject({ server: 'redis', proto: 3, mode: 'standalone', role: 'master', modules: [] });
    } finally {
      await c3.close();
    }
  });

  it('QUIT replies OK and closes the connection', async () => {
    const { reply, closed } = await untilClosed(server.port, 'QUIT\r\nPING\r\n');
    expect(reply).toBe('+OK\r\n');
    expect(closed).toBe(true);
  });
});

// ---- the protocol -------------------------------------------------------------------------------

describe('the RESP protocol', () => {
  it('pipelining: 100 commands in one write, replies in order', async () => {
    const reqs: Buffer[] = [];
    let expected = '';
    let n = 0;
    for (let i = 0; i < 100; i++) {
      if (i % 2 === 0) {
        reqs.push(resp('INCR', 'pipe:counter'));
        expected += `:${++n}\r\n`;
      } else {
        reqs.push(resp('ECHO', `msg-${i}`));
        expected += `$${`msg-${i}`.length}\r\nmsg-${i}\r\n`;
      }
    }
    const { reply } = await talk(server.port, Buffer.concat(reqs), (r) => r.length >= expected.length);
    expect(reply).toBe(expected);
  });

  it('pipelining through node-redis: 100 commands in flight', async () => {
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? cmd('INCR', 'pipe:nr') : cmd('ECHO', String(i)))),
    );
    expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? i / 2 + 1 : String(i))));
  });

  it('inline commands, with quoting and escapes', async () => {
    expect((await talk(server.port, 'PING\r\n', (r) => r.endsWith('\r\n'))).reply).toBe('+PONG\r\n');
    const { reply } = await talk(
      server.port,
      'set inline:k "a b"\r\nget inline:k\r\necho \'x y\'\r\necho "\\x41\\tb\\n"\nPING\r\n',
      (r) => r.endsWith('+PONG\r\n'),
    );
    expect(reply).toBe('+OK\r\n$3\r\na b\r\n$3\r\nx y\r\n$4\r\nA\tb\n\r\n+PONG\r\n');
    expect(await cmd('GET', 'inline:k')).toBe('a b');
  });

  const PROTOCOL_ERRORS: [string, string, string][] = [
    ['a non-numeric multibulk length', '*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['a multibulk length over INT_MAX', '*3000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['a simple string where a bulk belongs', '*1\r\n+foo\r\n', "-ERR Protocol error: expected '$', got '+'\r\n"],
    ['a bulk length over proto-max-bulk-len', '*1\r\n$536870913\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['a negative bulk length', '*1\r\n$-1\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['unbalanced quotes in an inline command', 'set k "a b\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n'],
    ['an error after a good command', 'PING\r\n*abc\r\nPING\r\n', '+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n'],
    // Redis refuses an inline request past 64 KiB (PROTO_INLINE_MAX_SIZE), with its newline or not.
    ['a 100 KB inline request', `PING ${'A'.repeat(100_000)}\r\n`, '-ERR Protocol error: too big inline request\r\n'],
    ['a 100 KB inline request without its newline', `PING ${'A'.repeat(100_000)}`, '-ERR Protocol error: too big inline request\r\n'],
  ];

  it.each(PROTOCOL_ERRORS)('%s: the error, then the connection closes', async (_what, bytes, expected) => {
    const { reply, closed } = await untilClosed(server.port, bytes);
    expect(reply).toBe(expected);
    expect(closed).toBe(true);
    // Everyone else is still served.
    expect(await cmd('PING')).toBe('PONG');
  });

  it('a 1 MiB and a 16 MiB tensor round trip as BLOBs', async () => {
    for (const mib of [1, 16]) {
      const blob = Buffer.alloc(mib * 1024 * 1024);
      for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE((i * 2654435761) >>> 0, i);
      // Keep the floats finite, so nothing anywhere could canonicalize a NaN.
      for (let i = 3; i < blob.length; i += 4) blob[i] = blob[i]! & 0x3f;
      const key = `big:${mib}`;
      expect(await cmd('AI.TENSORSET', key, 'FLOAT', String(mib), '256', '1024', 'BLOB', blob)).toBe('OK');
      expect(await cmd('AI.TENSORGET', key, 'META')).toEqual(['dtype', 'FLOAT', 'shape', [mib, 256, 1024]]);
      const got = (await bin('AI.TENSORGET', key, 'BLOB')) as Buffer;
      expect(got.length).toBe(blob.length);
      expect(Buffer.compare(got, blob)).toBe(0);
      expect(await cmd('DEL', key)).toBe(1);
    }
  });

  it('a client gone in the middle of an 8 MiB bulk leaves the server fine', async () => {
    const sock = await connect(server.port);
    // The half-sent client's line in CLIENT LIST, found by its address.
    const listed = async () =>
      ((await cmd('CLIENT', 'LIST')) as string).includes(` addr=127.0.0.1:${sock.localPort} `);
    const size = 8 * 1024 * 1024;
    const head = Buffer.from(`*7\r\n$12\r\nAI.TENSORSET\r\n$4\r\nhalf\r\n$5\r\nUINT8\r\n$7\r\n${size}\r\n$4\r\nBLOB\r\n$${size}\r\n`);
    // Header, then half the payload; the command never completes.
    await new Promise<void>((resolve) => sock.write(Buffer.concat([head, Buffer.alloc(size / 2, 7)]), () => resolve()));
    await eventually(listed, 'the half-sent client is listed');
    sock.destroy();
    await eventually(async () => !(await listed()), 'the half-sent client is gone');
    expect(await cmd('PING')).toBe('PONG');
    expect(await cmd('EXISTS', 'half')).toBe(0);
    // And the whole command from another client works.
    const blob = Buffer.alloc(size, 7);
    expect(await cmd('AI.TENSORSET', 'half', 'UINT8', String(size), 'BLOB', blob)).toBe('OK');
    expect(Buffer.compare((await bin('AI.TENSORGET', 'half', 'BLOB')) as Buffer, blob)).toBe(0);
    expect(await cmd('DEL', 'half')).toBe(1);
  });
});

// ---- keys and strings ---------------------------------------------------------------------------

describe('strings and keys', () => {
  beforeAll(async () => {
    expect(await cmd('FLUSHALL')).toBe('OK');
  });

  it('SET / GET with NX, XX, GET, EX, PX, KEEPTTL', async () => {
    expect(await cmd('SET', 's', 'v1')).toBe('OK');
    expect(await cmd('GET', 's')).toBe('v1');
    expect(await cmd('GET', 'missing')).toBe(null);
    expect(await cmd('SET', 's', 'x', 'NX')).toBe(null);
    expect(await cmd('SET', 'fresh', 'x', 'XX')).toBe(null);
    expect(await cmd('EXISTS', 'fresh')).toBe(0);
    expect(await cmd('SET', 's', 'v2', 'XX')).toBe('OK');
    expect(await cmd('SET', 's', 'v3', 'GET')).toBe('v2');
    expect(await cmd('SET', 'fresh', 'v', 'NX', 'GET')).toBe(null);
    expect(await cmd('SET', 's', 'v4', 'EX', '100')).toBe('OK');
    expect(await cmd('TTL', 's')).toBeGreaterThan(90);
    expect(await cmd('SET', 's', 'v5', 'KEEPTTL')).toBe('OK');
    expect(await cmd('TTL', 's')).toBeGreaterThan(90);
    expect(await cmd('SET', 's', 'v6')).toBe('OK');
    expect(await cmd('TTL', 's')).toBe(-1);
    expect(await cmd('SET', 's', 'v7', 'PX', '50000')).toBe('OK');
    const pttl = (await cmd('PTTL', 's')) as number;
    expect(pttl).toBeGreaterThan(40000);
    expect(pttl).toBeLessThanOrEqual(50000);
    expect(await cmd('GET', 's')).toBe('v7');
  });

  it('SET errors', async () => {
    expect(await errorOf('SET', 'k', 'v', 'EX', '0')).toBe("ERR invalid expire time in 'set' command");
    expect(await errorOf('SET', 'k', 'v', 'PX', '-5')).toBe("ERR invalid expire time in 'set' command");
    expect(await errorOf('SET', 'k', 'v', 'EX', 'abc')).toBe('ERR value is not an integer or out of range');
    expect(await errorOf('SET', 'k', 'v', 'EX', '9223372036854775807')).toBe("ERR invalid expire time in 'set' command");
    expect(await errorOf('SET', 'k', 'v', 'NX', 'XX')).toBe('ERR syntax error');
    expect(await errorOf('SET', 'k', 'v', 'EX', '1', 'PX', '1')).toBe('ERR syntax error');
    expect(await errorOf('SET', 'k', 'v', 'KEEPTTL', 'EX', '1')).toBe('ERR syntax error');
    expect(await errorOf('SET', 'k', 'v', 'EX')).toBe('ERR syntax error');
    expect(await errorOf('SET', 'k', 'v', 'FOO')).toBe('ERR syntax error');
    expect(await cmd('EXISTS', 'k')).toBe(0);
  });

  it('a key with PX expires', async () => {
    expect(await cmd('SET', 'short', 'v', 'PX', '30')).toBe('OK');
    await eventually(async () => (await cmd('GET', 'short')) === null, 'the key expires');
    expect(await cmd('EXISTS', 'short')).toBe(0);
    expect(await cmd('TTL', 'short')).toBe(-2);
  });

  it('MSET / MGET', async () => {
    expect(await cmd('MSET', 'm1', 'a', 'm2', 'b')).toBe('OK');
    await cmd('AI.TENSORSET', 'm-tensor', 'INT8', '1');
    expect(await cmd('MGET', 'm1', 'nope', 'm2', 'm-tensor')).toEqual(['a', null, 'b', null]);
    expect(await errorOf('MSET', 'm1', 'a', 'm2')).toBe("ERR wrong number of arguments for 'mset' command");
    expect(await errorOf('MSET', 'm1')).toBe("ERR wrong number of arguments for 'mset' command");
  });

  it('INCR and its errors', async () => {
    expect(await cmd('INCR', 'n')).toBe(1);
    expect(await cmd('INCR', 'n')).toBe(2);
    expect(await cmd('GET', 'n')).toBe('2');
    await cmd('SET', 'n', '-5');
    expect(await cmd('INCR', 'n')).toBe(-4);
    await cmd('SET', 'n', 'abc');
    expect(await errorOf('INCR', 'n')).toBe('ERR value is not an integer or out of range');
    await cmd('SET', 'n', ' 1');
    expect(await errorOf('INCR', 'n')).toBe('ERR value is not an integer or out of range');
    await cmd('SET', 'n', '9223372036854775807');
    expect(await errorOf('INCR', 'n')).toBe('ERR increment or decrement would overflow');
    expect(await cmd('GET', 'n')).toBe('9223372036854775807');
    await cmd('AI.TENSORSET', 'n-tensor', 'INT8', '1');
    expect(await errorOf('INCR', 'n-tensor')).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    await cmd('SET', 'n', '10', 'EX', '100');
    expect(await cmd('INCR', 'n')).toBe(11);
    expect(await cmd('TTL', 'n')).toBeGreaterThan(90); // INCR keeps the TTL
  });

  it('EXISTS / DEL / UNLINK', async () => {
    await cmd('MSET', 'd1', '1', 'd2', '2', 'd3', '3');
    await cmd('AI.TENSORSET', 'd-tensor', 'FLOAT', '1');
    expect(await cmd('EXISTS', 'd1', 'd1', 'd2', 'nope', 'd-tensor')).toBe(4);
    expect(await cmd('DEL', 'd1', 'nope', 'd-tensor')).toBe(2);
    expect(await cmd('UNLINK', 'd2', 'd3', 'd2')).toBe(2);
    expect(await cmd('EXISTS', 'd1', 'd2', 'd3', 'd-tensor')).toBe(0);
  });

  it('RENAME keeps the value and its TTL', async () => {
    await cmd('SET', 'r1', 'v', 'EX', '100');
    expect(await cmd('RENAME', 'r1', 'r2')).toBe('OK');
    expect(await cmd('GET', 'r2')).toBe('v');
    expect(await cmd('EXISTS', 'r1')).toBe(0);
    expect(await cmd('TTL', 'r2')).toBeGreaterThan(90);
    await cmd('AI.TENSORSET', 'rt', 'INT16', '2', 'VALUES', '1', '2');
    expect(await cmd('RENAME', 'rt', 'r2')).toBe('OK'); // overwrites the string
    expect(await cmd('AI.TENSORGET', 'r2', 'VALUES')).toEqual([1, 2]);
    expect(await cmd('TTL', 'r2')).toBe(-1);
    expect(await errorOf('RENAME', 'nope', 'x')).toBe('ERR no such key');
  });

  it('TYPE: string, AI_TENSOR, none', async () => {
    await cmd('SET', 't-s', 'v');
    await cmd('AI.TENSORSET', 't-t', 'FLOAT', '1');
    expect(await cmd('TYPE', 't-s')).toBe('string');
    expect(await cmd('TYPE', 't-t')).toBe('AI_TENSOR');
    expect(await cmd('TYPE', 't-none')).toBe('none');
  });

  it('EXPIRE / PEXPIRE / TTL / PTTL / PERSIST', async () => {
    await cmd('SET', 'e', 'v');
    expect(await cmd('TTL', 'e')).toBe(-1);
    expect(await cmd('PTTL', 'e')).toBe(-1);
    expect(await cmd('TTL', 'e-none')).toBe(-2);
    expect(await cmd('PTTL', 'e-none')).toBe(-2);
    expect(await cmd('EXPIRE', 'e-none', '100')).toBe(0);
    expect(await cmd('EXPIRE', 'e', '100')).toBe(1);
    const ttl = (await cmd('TTL', 'e')) as number;
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await cmd('PEXPIRE', 'e', '200000')).toBe(1);
    const pttl = (await cmd('PTTL', 'e')) as number;
    expect(pttl).toBeGreaterThan(190000);
    expect(pttl).toBeLessThanOrEqual(200000);
    expect(await cmd('EXPIRE', 'e', '50', 'NX')).toBe(0);
    expect(await cmd('EXPIRE', 'e', '50', 'GT')).toBe(0);
    expect(await cmd('EXPIRE', 'e', '50', 'LT')).toBe(1);
    expect(await cmd('EXPIRE', 'e', '500', 'XX', 'GT')).toBe(1);
    expect(await cmd('PERSIST', 'e')).toBe(1);
    expect(await cmd('PERSIST', 'e')).toBe(0);
    expect(await cmd('TTL', 'e')).toBe(-1);
    expect(await cmd('EXPIRE', 'e', '50', 'XX')).toBe(0);
    expect(await errorOf('EXPIRE', 'e', 'abc')).toBe('ERR value is not an integer or out of range');
    expect(await errorOf('EXPIRE', 'e', '10', 'FOO')).toBe('ERR Unsupported option FOO');
    expect(await errorOf('EXPIRE', 'e', '10', 'NX', 'XX')).toBe('ERR NX and XX, GT or LT options at the same time are not compatible');
    expect(await errorOf('EXPIRE', 'e', '10', 'GT', 'LT')).toBe('ERR GT and LT options at the same time are not compatible');
    expect(await errorOf('EXPIRE', 'e', '9223372036854775807')).toBe("ERR invalid expire time in 'expire' command");
    // A tensor expires like any key; a time in the past deletes at once.
    await cmd('AI.TENSORSET', 'e-t', 'FLOAT', '1');
    expect(await cmd('PEXPIRE', 'e-t', '100000')).toBe(1);
    expect(await cmd('TTL', 'e-t')).toBeGreaterThan(90);
    expect(await cmd('EXPIRE', 'e', '-1')).toBe(1);
    expect(await cmd('EXISTS', 'e')).toBe(0);
  });

  it('KEYS with patterns', async () => {
    await cmd('FLUSHDB');
    await cmd('MSET', 'foo', '1', 'foobar', '2', 'fa', '3', 'hello', '4', 'hallo', '5', 'hxllo', '6', 'h[a]x', '7');
    await cmd('AI.TENSORSET', 'f-tensor', 'FLOAT', '1');
    const keys = async (p: string) => ((await cmd('KEYS', p)) as string[]).sort();
    expect(await keys('*')).toEqual(['f-tensor', 'fa', 'foo', 'foobar', 'h[a]x', 'hallo', 'hello', 'hxllo']);
    expect(await keys('f*')).toEqual(['f-tensor', 'fa', 'foo', 'foobar']);
    expect(await keys('h?llo')).toEqual(['hallo', 'hello', 'hxllo']);
    expect(await keys('h[ae]llo')).toEqual(['hallo', 'hello']);
    expect(await keys('h[^e]llo')).toEqual(['hallo', 'hxllo']);
    expect(await keys('h[a-f]llo')).toEqual(['hallo', 'hello']);
    expect(await keys('h\\[a\\]x')).toEqual(['h[a]x']);
    expect(await keys('nomatch*')).toEqual([]);
  });

  it('SCAN with MATCH / COUNT / TYPE iterates to cursor 0', async () => {
    await cmd('FLUSHDB');
    const strings = Array.from({ length: 50 }, (_, i) => `scan:s:${i}`);
    const tensors = Array.from({ length: 20 }, (_, i) => `scan:t:${i}`);
    for (const k of strings) await cmd('SET', k, 'v');
    for (const k of tensors) await cmd('AI.TENSORSET', k, 'INT8', '1');
    await cmd('SET', 'other', 'v');

    async function scanAll(...opts: string[]): Promise<string[]> {
      const seen = new Set<string>();
      let cursor = '0';
      let rounds = 0;
      do {
        const [next, keys] = (await cmd('SCAN', cursor, ...opts)) as [string, string[]];
        expect(typeof next).toBe('string');
        for (const k of keys) seen.add(k);
        cursor = next;
        if (++rounds > 1000) throw new Error('SCAN never reached cursor 0');
      } while (cursor !== '0');
      return [...seen].sort();
    }

    expect(await scanAll()).toEqual([...strings, ...tensors, 'other'].sort());
    expect(await scanAll('COUNT', '3')).toEqual([...strings, ...tensors, 'other'].sort());
    expect(await scanAll('MATCH', 'scan:t:*', 'COUNT', '7')).toEqual([...tensors].sort());
    expect(await scanAll('MATCH', 'scan:*', 'TYPE', 'string')).toEqual([...strings].sort());
    expect(await scanAll('TYPE', 'AI_TENSOR', 'COUNT', '5')).toEqual([...tensors].sort());
    expect(await scanAll('TYPE', 'ai_tensor')).toEqual([...tensors].sort());
    expect(await scanAll('MATCH', 'nothing*')).toEqual([]);
    expect(await errorOf('SCAN', 'abc')).toBe('ERR invalid cursor');
    expect(await errorOf('SCAN', '0', 'COUNT', '0')).toBe('ERR syntax error');
    expect(await errorOf('SCAN', '0', 'MATCH')).toBe('ERR syntax error');
    expect(await errorOf('SCAN', '0', 'FOO', 'x')).toBe('ERR syntax error');
  });

  it('DBSIZE / FLUSHDB / FLUSHALL', async () => {
    await cmd('FLUSHALL');
    expect(await cmd('DBSIZE')).toBe(0);
    await cmd('MSET', 'a', '1', 'b', '2');
    await cmd('AI.TENSORSET', 'c', 'FLOAT', '1');
    expect(await cmd('DBSIZE')).toBe(3);
    expect(await cmd('FLUSHDB')).toBe('OK');
    expect(await cmd('DBSIZE')).toBe(0);
    await cmd('SET', 'a', '1');
    expect(await cmd('FLUSHALL', 'ASYNC')).toBe('OK');
    expect(await cmd('DBSIZE')).toBe(0);
    expect(await cmd('FLUSHDB', 'SYNC')).toBe('OK');
    expect(await errorOf('FLUSHALL', 'NOW')).toBe('ERR syntax error');
  });
});

// ---- server commands ----------------------------------------------------------------------------

describe('server commands', () => {
  it('TIME: seconds and microseconds, as strings', async () => {
    const [s, us] = (await cmd('TIME')) as [string, string];
    expect(s).toMatch(/^\d+$/);
    expect(us).toMatch(/^\d+$/);
    expect(Number(us)).toBeLessThan(1_000_000);
    // The same clock as ours (a loose bound: this is not a speed check).
    expect(Math.abs(Number(s) - Date.now() / 1000)).toBeLessThan(3600);
  });

  it('INFO: the server, clients, memory, stats and keyspace sections', async () => {
    await cmd('FLUSHALL');
    await cmd('SET', 'i1', 'v', 'EX', '100');
    await cmd('AI.TENSORSET', 'i2', 'FLOAT', '1');
    const all = (await cmd('INFO')) as string;
    for (const title of ['# Server', '# Clients', '# Memory', '# Stats', '# Keyspace']) expect(all).toContain(`${title}\r\n`);
    const f = infoFields(all);
    expect(f.get('redis_version')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(f.get('tcp_port')).toBe(String(server.port));
    expect(Number(f.get('process_id'))).toBe(server.proc.pid);
    expect(Number(f.get('uptime_in_seconds'))).toBeGreaterThanOrEqual(0);
    expect(Number(f.get('connected_clients'))).toBeGreaterThanOrEqual(1);
    expect(Number(f.get('used_memory'))).toBeGreaterThan(0);
    expect(f.has('used_memory_human')).toBe(true);
    expect(Number(f.get('total_connections_received'))).toBeGreaterThanOrEqual(1);
    expect(Number(f.get('total_commands_processed'))).toBeGreaterThan(0);
    expect(f.get('db0')).toMatch(/^keys=2,expires=1,avg_ttl=\d+$/);

    const serverOnly = (await cmd('INFO', 'server')) as string;
    expect(serverOnly.startsWith('# Server\r\n')).toBe(true);
    expect(serverOnly).not.toContain('# Clients');
    const two = (await cmd('INFO', 'clients', 'KEYSPACE')) as string;
    expect(two).toContain('# Clients\r\n');
    expect(two).toContain('# Keyspace\r\ndb0:keys=2,');
    expect(two).not.toContain('# Server');

    await cmd('FLUSHALL');
    expect(infoFields((await cmd('INFO', 'keyspace')) as string).has('db0')).toBe(false);
  });

  it('CONFIG GET with globs', async () => {
    expect(await cmd('CONFIG', 'GET', 'maxclients')).toEqual(['maxclients', '10000']);
    expect(await cmd('CONFIG', 'GET', 'port')).toEqual(['port', String(server.port)]);
    const pairs = (await cmd('CONFIG', 'GET', 'max*', 'proto-*')) as string[];
    const m = new Map<string, string>();
    for (let i = 0; i < pairs.length; i += 2) m.set(pairs[i]!, pairs[i + 1]!);
    expect(m.get('maxclients')).toBe('10000');
    expect(m.get('proto-max-bulk-len')).toBe('536870912');
    for (const k of m.keys()) expect(k).toMatch(/^(max|proto-)/);
    const all = (await cmd('CONFIG', 'GET', '*')) as string[];
    const names = all.filter((_, i) => i % 2 === 0);
    for (const n of ['port', 'bind', 'requirepass', 'maxclients', 'proto-max-bulk-len', 'loglevel']) expect(names).toContain(n);
    expect(await cmd('CONFIG', 'GET', 'no-such-option')).toEqual([]);
    expect(await errorOf('CONFIG', 'GET')).toBe("ERR wrong number of arguments for 'config|get' command");
  });

  it('CONFIG SET: mutable options change; immutable and unknown ones are refused', async () => {
    expect(await cmd('CONFIG', 'SET', 'maxclients', '500')).toBe('OK');
    expect(await cmd('CONFIG', 'GET', 'maxclients')).toEqual(['maxclients', '500']);
    expect(await cmd('CONFIG', 'SET', 'maxclients', '10000')).toBe('OK');
    expect(await cmd('CONFIG', 'SET', 'proto-max-bulk-len', '64mb')).toBe('OK');
    expect(await cmd('CONFIG', 'GET', 'proto-max-bulk-len')).toEqual(['proto-max-bulk-len', '67108864']);
    expect(await cmd('CONFIG', 'SET', 'proto-max-bulk-len', '512mb')).toBe('OK');
    expect(await errorOf('CONFIG', 'SET', 'port', '1')).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config",
    );
    expect(await errorOf('CONFIG', 'SET', 'no-such-option', '1')).toBe(
      "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-option'",
    );
    expect(await errorOf('CONFIG', 'SET', 'maxclients', 'abc')).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer",
    );
    expect(await errorOf('CONFIG', 'SET', 'maxclients')).toBe("ERR wrong number of arguments for 'config|set' command");
    expect(await errorOf('CONFIG', 'NOPE')).toBe("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.");
    expect(await cmd('CONFIG', 'GET', 'port')).toEqual(['port', String(server.port)]);
    expect(await cmd('CONFIG', 'GET', 'maxclients')).toEqual(['maxclients', '10000']);
  });

  it('CONFIG SET proto-max-bulk-len applies to the next request', async () => {
    expect(await cmd('CONFIG', 'SET', 'proto-max-bulk-len', '1mb')).toBe('OK');
    try {
      const { reply, closed } = await untilClosed(server.port, `*2\r\n$4\r\nECHO\r\n$${1024 * 1024 + 1}\r\n`);
      expect(reply).toBe('-ERR Protocol error: invalid bulk length\r\n');
      expect(closed).toBe(true);
      // A shape whose data would not fit is refused with the limit in the text.
      expect(await errorOf('AI.TENSORSET', 'limit', 'FLOAT', '262145')).toBe(
        'ERR tensor size exceeds proto-max-bulk-len (1048576 bytes)',
      );
      expect(await cmd('AI.TENSORSET', 'limit', 'FLOAT', '262144')).toBe('OK');
      expect(await cmd('DEL', 'limit')).toBe(1);
    } finally {
      expect(await cmd('CONFIG', 'SET', 'proto-max-bulk-len', '512mb')).toBe('OK');
    }
  });

  it('CONFIG RESETSTAT resets the INFO stats', async () => {
    await cmd('PING');
    expect(await cmd('CONFIG', 'RESETSTAT')).toBe('OK');
    const f = infoFields((await cmd('INFO', 'stats')) as string);
    expect(Number(f.get('total_commands_processed'))).toBeLessThanOrEqual(2);
    expect(f.get('keyspace_hits')).toBe('0');
    expect(f.get('keyspace_misses')).toBe('0');
  });

  it('COMMAND COUNT / INFO / DOCS', async () => {
    const count = (await cmd('COMMAND', 'COUNT')) as number;
    expect(count).toBeGreaterThanOrEqual(38);
    const list = (await cmd('COMMAND', 'LIST')) as string[];
    expect(list.length).toBe(count);
    for (const c of ['get', 'set', 'ai.tensorset', 'ai.tensorget', 'multi', 'exec', 'hello']) expect(list).toContain(c);
    const info = (await cmd('COMMAND', 'INFO', 'get', 'AI.TENSORSET', 'nosuch')) as unknown[][];
    expect(info.length).toBe(3);
    expect(info[0]!.slice(0, 2)).toEqual(['get', 2]);
    expect(info[0]!.slice(3, 6)).toEqual([1, 1, 1]);
    expect(info[1]!.slice(0, 2)).toEqual(['ai.tensorset', -4]);
    expect(info[1]!.slice(3, 6)).toEqual([1, 1, 1]);
    expect(info[2]).toBe(null);
    const all = (await cmd('COMMAND')) as unknown[][];
    expect(all.length).toBe(count);
    const docs = (await cmd('COMMAND', 'DOCS', 'get')) as unknown[];
    expect(docs[0]).toBe('get');
    expect(docs[1]).toEqual(expect.arrayContaining(['summary', 'group', 'string']));
  });
});

// ---- transactions -------------------------------------------------------------------------------

describe('MULTI / EXEC', () => {
  it('queued replies, then all results at once; TENSORSET/TENSORGET allowed', async () => {
    const req = Buffer.concat([
      resp('MULTI'),
      resp('SET', 'tx:a', '1'),
      resp('INCR', 'tx:a'),
      resp('AI.TENSORSET', 'tx:t', 'FLOAT', '2', 'VALUES', '1.5', '2'),
      resp('AI.TENSORGET', 'tx:t', 'VALUES'),
      resp('INCR', 'tx:t'), // fails at EXEC time only: the others still apply
      resp('EXEC'),
    ]);
    const expected =
      '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n' +
      '*5\r\n+OK\r\n:2\r\n+OK\r\n*2\r\n$3\r\n1.5\r\n$1\r\n2\r\n' +
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
    const { reply } = await talk(server.port, req, (r) => r.length >= expected.length);
    expect(reply).toBe(expected);
    expect(await cmd('GET', 'tx:a')).toBe('2');
  });

  it('an arity error while queueing aborts the transaction (EXECABORT)', async () => {
    await cmd('DEL', 'tx:b');
    const req = Buffer.concat([resp('MULTI'), resp('SET', 'tx:b', '1'), resp('GET'), resp('NOSUCHCMD'), resp('EXEC'), resp('GET', 'tx:b')]);
    const expected =
      "+OK\r\n+QUEUED\r\n-ERR wrong number of arguments for 'get' command\r\n" +
      "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n" +
      '-EXECABORT Transaction discarded because of previous errors.\r\n$-1\r\n';
    const { reply } = await talk(server.port, req, (r) => r.length >= expected.length);
    expect(reply).toBe(expected);
  });

  it('DISCARD, nested MULTI, EXEC and DISCARD without MULTI', async () => {
    const req = Buffer.concat([
      resp('MULTI'),
      resp('SET', 'tx:c', '1'),
      resp('MULTI'),
      resp('DISCARD'),
      resp('EXEC'),
      resp('DISCARD'),
      resp('GET', 'tx:c'),
    ]);
    const expected =
      '+OK\r\n+QUEUED\r\n-ERR MULTI calls can not be nested\r\n+OK\r\n' +
      '-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n$-1\r\n';
    const { reply } = await talk(server.port, req, (r) => r.length >= expected.length);
    expect(reply).toBe(expected);
  });

  it('an empty transaction', async () => {
    const { reply } = await talk(server.port, Buffer.concat([resp('MULTI'), resp('EXEC')]), (r) => r.length >= 9);
    expect(reply).toBe('+OK\r\n*0\r\n');
  });

  it('through node-redis multi()', async () => {
    const r = await client.multi().set('tx:d', '5').incr('tx:d').get('tx:d').exec();
    expect(r).toEqual(['OK', 6, '6']);
  });
});

// ---- servers of their own -----------------------------------------------------------------------

describe('requirepass', () => {
  let secured: RunningServer;
  beforeAll(async () => {
    secured = await startServer(['--requirepass', 'secret']);
  });
  afterAll(async () => {
    expect(await secured?.stop()).toBe(0);
  });

  it('NOAUTH before AUTH, WRONGPASS for a wrong password, then OK', async () => {
    const req = Buffer.concat([
      resp('GET', 'k'),
      resp('AI.TENSORSET', 'k', 'FLOAT', '1'),
      resp('GET'), // arity is checked before authentication, as in Redis
      resp('AUTH', 'wrong'),
      resp('AUTH', 'default', 'wrong'),
      resp('AUTH', 'secret'),
      resp('SET', 'k', 'v'),
      resp('GET', 'k'),
    ]);
    const expected =
      '-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n' +
      "-ERR wrong number of arguments for 'get' command\r\n" +
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n' +
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n' +
      '+OK\r\n+OK\r\n$1\r\nv\r\n';
    const { reply } = await talk(secured.port, req, (r) => r.length >= expected.length);
    expect(reply).toBe(expected);
  });

  it('PING and QUIT before AUTH: PING is refused, QUIT is not', async () => {
    const { reply, closed } = await untilClosed(secured.port, Buffer.concat([resp('PING'), resp('QUIT')]));
    expect(reply).toBe('-NOAUTH Authentication required.\r\n+OK\r\n');
    expect(closed).toBe(true);
  });

  it('HELLO 3 AUTH default secret', async () => {
    const req = Buffer.concat([resp('HELLO', '3'), resp('HELLO', '3', 'AUTH', 'default', 'secret'), resp('GET', 'nope')]);
    const { reply } = await talk(secured.port, req, (r) => r.endsWith('_\r\n'));
    expect(reply.startsWith('-NOAUTH HELLO must be called with the client already authenticated')).toBe(true);
    expect(reply).toMatch(/\r\n%7\r\n\$6\r\nserver\r\n[^]*\$5\r\nproto\r\n:3\r\n[^]*_\r\n$/);
  });

  it('node-redis with a password', async () => {
    const c = await newClient(secured.port, { password: 'secret' });
    try {
      expect(await c.get('k')).toBe('v');
    } finally {
      await c.close();
    }
  });
});

describe('maxclients', () => {
  let small: RunningServer;
  beforeAll(async () => {
    small = await startServer(['--maxclients', '2']);
  });
  afterAll(async () => {
    expect(await small?.stop()).toBe(0);
  });

  it('the third connection gets the Redis error and is closed; a freed slot is reused', async () => {
    const a = await connect(small.port);
    const b = await connect(small.port);
    try {
      a.write('PING\r\n');
      b.write('PING\r\n');
      expect(await readUntil(a, (r) => r.endsWith('\r\n'))).toBe('+PONG\r\n');
      expect(await readUntil(b, (r) => r.endsWith('\r\n'))).toBe('+PONG\r\n');
      const third = await untilClosed(small.port, 'PING\r\n');
      expect(third).toEqual({ reply: '-ERR max number of clients reached\r\n', closed: true });
      // The first two are unaffected.
      a.write('ECHO a\r\n');
      expect(await readUntil(a, (r) => r.endsWith('a\r\n'))).toBe('$1\r\na\r\n');
    } finally {
      a.destroy();
    }
    await eventually(async () => {
      const { reply } = await talk(small.port, 'PING\r\n', (r) => r.endsWith('\r\n'));
      return reply === '+PONG\r\n';
    }, 'a slot frees up');
    b.destroy();
  });

  it('refused peers that reset at once leave no uncaught error behind', async () => {
    // The two slots, once the previous test's connections are gone.
    const admitted = async (): Promise<Socket> => {
      for (;;) {
        const s = await connect(small.port);
        s.write('PING\r\n');
        if ((await readUntil(s, (r) => r.endsWith('\r\n'))) === '+PONG\r\n') return s;
        s.destroy();
        await sleep(20);
      }
    };
    const a = await admitted();
    const b = await admitted();
    try {
      for (let i = 0; i < 50; i++) {
        const s = await connect(small.port);
        s.on('error', () => undefined);
        s.resetAndDestroy();
      }
      a.write('PING\r\n');
      expect(await readUntil(a, (r) => r.endsWith('\r\n'))).toBe('+PONG\r\n');
      expect(small.output()).not.toMatch(/uncaught/i);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

describe('a config file', () => {
  let dir: string;
  let configured: RunningServer;
  let conf: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'respai-e2e-'));
    conf = join(dir, 'respai.conf');
    writeFileSync(
      conf,
      [
        '# respai test configuration',
        '',
        'port 1',
        '   # an indented comment',
        'maxclients 123',
        'requirepass "pass word"',
        'PROTO-MAX-BULK-LEN 2mb',
        'loglevel warning',
        'bind 127.0.0.1',
        '',
      ].join('\n'),
    );
    // The helper appends `--port 0 --loglevel notice`: flags override the file.
    configured = await startServer([conf, '--maxclients', '77']);
  });

  afterAll(async () => {
    expect(await configured?.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('CONFIG GET shows the file values, with command-line flags winning', async () => {
    const c = await newClient(configured.port, { password: 'pass word' });
    try {
      const get = async (name: string) => ((await c.sendCommand(['CONFIG', 'GET', name])) as string[])[1];
      expect(await get('requirepass')).toBe('pass word');
      expect(await get('proto-max-bulk-len')).toBe('2097152');
      expect(await get('bind')).toBe('127.0.0.1');
      expect(await get('maxclients')).toBe('77');
      expect(await get('loglevel')).toBe('notice');
      expect(await get('port')).toBe(String(configured.port));
      expect(configured.port).not.toBe(1);
      const info = infoFields((await c.sendCommand(['INFO', 'server'])) as string);
      expect(info.get('config_file')).toBe(conf);
    } finally {
      await c.close();
    }
  });

  it('a bad config file stops the server with exit code 1', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'maxclients lots\n');
    await expect(startServer([bad])).rejects.toThrow(/server exited with 1/);
    writeFileSync(bad, 'no-such-option 1\n');
    await expect(startServer([bad])).rejects.toThrow(/unknown option 'no-such-option'/);
  });
});

describe('ending the process', () => {
  it('SHUTDOWN: no reply, the connection closes, exit code 0', async () => {
    const s = await startServer();
    const other = await newClient(s.port);
    const { reply, closed } = await untilClosed(s.port, resp('SHUTDOWN'));
    expect(reply).toBe('');
    expect(closed).toBe(true);
    expect(await s.exited).toBe(0);
    await other.close().catch(() => undefined);
  });

  it('SHUTDOWN inside MULTI is refused and aborts the transaction, as in Redis', async () => {
    const s = await startServer();
    try {
      const req = Buffer.concat([resp('MULTI'), resp('SHUTDOWN'), resp('EXEC'), resp('PING')]);
      const expected =
        '+OK\r\n-ERR Command not allowed inside a transaction\r\n' +
        '-EXECABORT Transaction discarded because of previous errors.\r\n+PONG\r\n';
      const { reply } = await talk(s.port, req, (r) => r.length >= expected.length);
      expect(reply).toBe(expected);
      expect(s.proc.exitCode).toBe(null);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s: a clean exit with code 0', async (signal) => {
    const s = await startServer();
    const c = await newClient(s.port);
    expect(await c.ping()).toBe('PONG');
    s.proc.kill(signal);
    expect(await s.exited).toBe(0);
    await c.close().catch(() => undefined);
  });
});
