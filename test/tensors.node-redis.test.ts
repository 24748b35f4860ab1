/**
 * AI.TENSORSET / AI.TENSORGET end to end through node-redis (v5) against the built server:
 * binary round trips for every dtype in every reply format, RESP3, and every bad input with the
 * exact error text of the catalog (spec/behaviour.md), each followed by a health check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { startServer, type RunningServer } from './helpers/server.js';

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;

/** Bulk strings as Buffers, integers as decimal strings: nothing is lost or reinterpreted. */
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.NUMBER]: String } } as const;

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
  client.on('error', () => undefined);
  await client.connect();
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  expect(await server?.stop()).toBe(0);
});

/** A command with the default mapping: bulk strings as strings, integers as numbers. */
const cmd = (...args: Arg[]): Promise<unknown> => client.sendCommand(args);
/** A command whose bulk strings come back as Buffers and integers as decimal strings. */
const raw = (...args: Arg[]): Promise<unknown> => client.sendCommand(args, RAW);

/** The error text of a command expected to fail (node-redis puts the whole RESP text in `message`). */
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

const bytes = (view: ArrayBufferView): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

// ---- the guard tensor: every bad input must leave it exactly as it was -------------------------

const GUARD = 'guard';
const GUARD_BLOB = bytes(new Float32Array([1.25, -2, 3.5, 0.1, 1e-3, 65504]));

async function storeGuard(): Promise<void> {
  expect(await cmd('AI.TENSORSET', GUARD, 'FLOAT', '2', '3', 'BLOB', GUARD_BLOB)).toBe('OK');
}

/** The server still answers and the stored tensor is byte-identical, with its dtype and shape. */
async function expectHealthy(): Promise<void> {
  expect(await client.ping()).toBe('PONG');
  const r = (await raw('AI.TENSORGET', GUARD, 'META', 'BLOB')) as unknown[];
  expect(r.slice(0, 4).map(String)).toEqual(['dtype', 'FLOAT', 'shape', '2,3']);
  expect(String(r[4])).toBe('blob');
  expect(Buffer.compare(r[5] as Buffer, GUARD_BLOB)).toBe(0);
}

// ---- round trips ------------------------------------------------------------------------------

interface Case {
  dtype: string;
  blob: Buffer;
  /** VALUES reply with the RAW mapping: floats and STRING elements as Buffers, integers as strings. */
  values: (string | Buffer)[];
  /** The VALUES arguments that build the same tensor. */
  args: string[];
}

const B = (s: string) => Buffer.from(s, 'latin1');

const CASES: Case[] = [
  {
    dtype: 'FLOAT',
    blob: bytes(new Float32Array([1, 0.5, -2, 0.1, 1e20, -0])),
    values: ['1', '0.5', '-2', '0.10000000149011612', '1.0000000200408773e+20', '-0'].map(B),
    args: ['1', '0.5', '-2', '0.1', '1e20', '-0'],
  },
  {
    dtype: 'DOUBLE',
    blob: bytes(new Float64Array([1, 0.5, -2, 0.1, 1e-7, 123456789.125])),
    values: ['1', '0.5', '-2', '0.10000000000000001', '9.9999999999999995e-08', '123456789.125'].map(B),
    args: ['1', '0.5', '-2', '0.1', '1e-7', '123456789.125'],
  },
  {
    dtype: 'INT8',
    blob: bytes(new Int8Array([-128, -1, 0, 1, 2, 127])),
    values: ['-128', '-1', '0', '1', '2', '127'],
    args: ['-128', '-1', '0', '1', '2', '127'],
  },
  {
    dtype: 'INT16',
    blob: bytes(new Int16Array([-32768, -300, 0, 1, 300, 32767])),
    values: ['-32768', '-300', '0', '1', '300', '32767'],
    args: ['-32768', '-300', '0', '1', '300', '32767'],
  },
  {
    dtype: 'INT32',
    blob: bytes(new Int32Array([-2147483648, -70000, 0, 1, 70000, 2147483647])),
    values: ['-2147483648', '-70000', '0', '1', '70000', '2147483647'],
    args: ['-2147483648', '-70000', '0', '1', '70000', '2147483647'],
  },
  {
    dtype: 'INT64',
    blob: bytes(new BigInt64Array([-(2n ** 63n), -5000000000n, 0n, 1n, 9007199254740993n, 2n ** 63n - 1n])),
    values: ['-9223372036854775808', '-5000000000', '0', '1', '9007199254740993', '9223372036854775807'],
    args: ['-9223372036854775808', '-5000000000', '0', '1', '9007199254740993', '9223372036854775807'],
  },
  {
    dtype: 'UINT8',
    blob: bytes(new Uint8Array([0, 1, 127, 128, 200, 255])),
    values: ['0', '1', '127', '128', '200', '255'],
    args: ['0', '1', '127', '128', '200', '255'],
  },
  {
    dtype: 'UINT16',
    blob: bytes(new Uint16Array([0, 1, 255, 256, 40000, 65535])),
    values: ['0', '1', '255', '256', '40000', '65535'],
    args: ['0', '1', '255', '256', '40000', '65535'],
  },
  {
    dtype: 'BOOL',
    blob: Buffer.from([0, 1, 1, 0, 0, 1]),
    values: ['0', '1', '1', '0', '0', '1'],
    args: ['0', '1', '1', '0', '0', '1'],
  },
  {
    dtype: 'STRING',
    blob: Buffer.from('ab\0\0c d\0\xe9t\xe9\0x\0yz\0', 'latin1'),
    values: ['ab', '', 'c d', '\xe9t\xe9', 'x', 'yz'].map(B),
    args: [],
  },
];

describe('round trips through node-redis (RESP2)', () => {
  beforeAll(storeGuard);

  it.each(CASES)('$dtype: BLOB in, META / BLOB / VALUES / default out', async ({ dtype, blob, values }) => {
    const key = `rt:${dtype}`;
    expect(await cmd('AI.TENSORSET', key, dtype, '2', '3', 'BLOB', blob)).toBe('OK');

    expect(await cmd('AI.TENSORGET', key, 'META')).toEqual(['dtype', dtype, 'shape', [2, 3]]);

    const got = (await raw('AI.TENSORGET', key, 'BLOB')) as Buffer;
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(Buffer.compare(got, blob)).toBe(0);

    expect(await raw('AI.TENSORGET', key, 'VALUES')).toEqual(values);
    expect(await raw('AI.TENSORGET', key, 'META', 'VALUES')).toEqual([
      B('dtype'), B(dtype), B('shape'), ['2', '3'], B('values'), values,
    ]);
    const expected = [B('dtype'), B(dtype), B('shape'), ['2', '3'], B('blob'), blob];
    expect(await raw('AI.TENSORGET', key, 'META', 'BLOB')).toEqual(expected);
    expect(await raw('AI.TENSORGET', key)).toEqual(expected);
    // Keywords are case-insensitive, in any order; the dtype comes back upper-case.
    expect(await raw('AI.TENSORGET', key, 'blob', 'meta')).toEqual(expected);
  });

  it.each(CASES.filter((c) => c.dtype !== 'STRING'))('$dtype: VALUES in give the same bytes', async ({ dtype, blob, values, args }) => {
    const key = `v:${dtype}`;
    expect(await cmd('AI.TENSORSET', key, dtype.toLowerCase(), '2', '3', 'VALUES', ...args)).toBe('OK');
    expect(Buffer.compare((await raw('AI.TENSORGET', key, 'BLOB')) as Buffer, blob)).toBe(0);
    expect(await raw('AI.TENSORGET', key, 'VALUES')).toEqual(values);
  });

  it('STRING: VALUES in, NUL-terminated BLOB out', async () => {
    expect(await cmd('AI.TENSORSET', 's', 'STRING', '3', 'VALUES', 'ab', '', 'hello world')).toBe('OK');
    expect(Buffer.compare((await raw('AI.TENSORGET', 's', 'BLOB')) as Buffer, B('ab\0\0hello world\0'))).toBe(0);
    expect(await cmd('AI.TENSORGET', 's', 'META', 'VALUES')).toEqual([
      'dtype', 'STRING', 'shape', [3], 'values', ['ab', '', 'hello world'],
    ]);
  });

  it('VALUES replies: floats as %.17g bulk strings, integers as RESP integers (default mapping)', async () => {
    await cmd('AI.TENSORSET', 'f', 'FLOAT', '3', 'VALUES', '1', '0.5', '0.1');
    expect(await cmd('AI.TENSORGET', 'f', 'VALUES')).toEqual(['1', '0.5', '0.10000000149011612']);
    await cmd('AI.TENSORSET', 'i', 'INT16', '3', 'VALUES', '-1', '0', '7');
    expect(await cmd('AI.TENSORGET', 'i', 'VALUES')).toEqual([-1, 0, 7]);
  });

  it('negative values are accepted for every signed int type', async () => {
    for (const [dtype, min] of [['INT8', '-128'], ['INT16', '-32768'], ['INT32', '-2147483648'], ['INT64', '-9223372036854775808']]) {
      expect(await cmd('AI.TENSORSET', 'neg', dtype!, '2', 'VALUES', min!, '-1')).toBe('OK');
      expect(await raw('AI.TENSORGET', 'neg', 'VALUES')).toEqual([min, '-1']);
    }
  });

  it('zero tensors: no BLOB and no VALUES', async () => {
    expect(await cmd('AI.TENSORSET', 'z', 'INT32', '2', '3')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'z', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [2, 3], 'values', [0, 0, 0, 0, 0, 0]]);
    expect(Buffer.compare((await raw('AI.TENSORGET', 'z', 'BLOB')) as Buffer, Buffer.alloc(24))).toBe(0);

    expect(await cmd('AI.TENSORSET', 'z', 'DOUBLE', '1', '2', '1')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'z', 'META', 'VALUES')).toEqual(['dtype', 'DOUBLE', 'shape', [1, 2, 1], 'values', ['0', '0']]);

    expect(await cmd('AI.TENSORSET', 'z', 'STRING', '2')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'z', 'VALUES')).toEqual(['', '']);
    expect(Buffer.compare((await raw('AI.TENSORGET', 'z', 'BLOB')) as Buffer, Buffer.alloc(2))).toBe(0);

    expect(await cmd('AI.TENSORSET', 'z', 'BOOL', '3')).toBe('OK');
    expect(await cmd('AI.TENSORGET', 'z', 'VALUES')).toEqual([0, 0, 0]);
  });

  it('TENSORSET overwrites a tensor; DEL and TYPE see tensors', async () => {
    await cmd('AI.TENSORSET', 'o', 'FLOAT', '1', 'VALUES', '1');
    await cmd('AI.TENSORSET', 'o', 'UINT8', '2', 'VALUES', '3', '4');
    expect(await cmd('AI.TENSORGET', 'o', 'META', 'VALUES')).toEqual(['dtype', 'UINT8', 'shape', [2], 'values', [3, 4]]);
    expect(await cmd('TYPE', 'o')).toBe('AI_TENSOR');
    expect(await cmd('DEL', 'o')).toBe(1);
    expect(await errorOf('AI.TENSORGET', 'o')).toBe('ERR tensor key is empty or in a different shard');
  });

  it('binary keys and blobs with CR, LF and NUL bytes survive', async () => {
    const key = Buffer.from([0, 13, 10, 255, 42]);
    const blob = Buffer.from([13, 10, 0, 36, 42, 13, 10, 43]);
    expect(await cmd('AI.TENSORSET', key, 'UINT8', '8', 'BLOB', blob)).toBe('OK');
    expect(Buffer.compare((await raw('AI.TENSORGET', key, 'BLOB')) as Buffer, blob)).toBe(0);
  });

  it('leaves the guard tensor intact', expectHealthy);
});

describe('RESP3 (HELLO 3 via createClient({ RESP: 3 }))', () => {
  let c3: Client;
  beforeAll(async () => {
    c3 = createClient({ socket: { port: server.port, host: '127.0.0.1' }, RESP: 3 });
    c3.on('error', () => undefined);
    await c3.connect();
  });
  afterAll(async () => {
    await c3?.close().catch(() => undefined);
  });

  it('round trip: floats come back as doubles, integers as integers, the blob as bytes', async () => {
    const blob = bytes(new Float32Array([1, 0.5, 0.1, -3]));
    expect(await c3.sendCommand(['AI.TENSORSET', 'r3', 'FLOAT', '2', '2', 'BLOB', blob])).toBe('OK');
    expect(await c3.sendCommand(['AI.TENSORGET', 'r3', 'META', 'VALUES'])).toEqual([
      'dtype', 'FLOAT', 'shape', [2, 2], 'values', [1, 0.5, 0.10000000149011612, -3],
    ]);
    const got = (await c3.sendCommand(['AI.TENSORGET', 'r3', 'BLOB'], { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } })) as Buffer;
    expect(Buffer.compare(got, blob)).toBe(0);
    // DOUBLE as String shows the wire text: `,0.10000000149011612`.
    expect(
      await c3.sendCommand(['AI.TENSORGET', 'r3', 'VALUES'], { typeMapping: { [RESP_TYPES.DOUBLE]: String } }),
    ).toEqual(['1', '0.5', '0.10000000149011612', '-3']);
    await c3.sendCommand(['AI.TENSORSET', 'r3i', 'INT8', '2', 'VALUES', '-5', '5']);
    expect(await c3.sendCommand(['AI.TENSORGET', 'r3i', 'VALUES'])).toEqual([-5, 5]);
  });
});

// ---- bad inputs -------------------------------------------------------------------------------

const TOO_LARGE = 'ERR tensor size exceeds proto-max-bulk-len (536870912 bytes)';

/** [description, command, exact error text]; every TENSORSET targets the guard key itself. */
const BAD: [string, Arg[], string][] = [
  ['unknown dtype', ['AI.TENSORSET', GUARD, 'FLOATY', '2'], 'ERR invalid data type'],
  ['unknown dtype (with data)', ['AI.TENSORSET', GUARD, 'INT128', '1', 'VALUES', '1'], 'ERR invalid data type'],
  ['dimension 0', ['AI.TENSORSET', GUARD, 'FLOAT', '2', '0'], 'ERR invalid or negative value found in tensor shape'],
  ['dimension -1', ['AI.TENSORSET', GUARD, 'FLOAT', '-1'], 'ERR invalid or negative value found in tensor shape'],
  ['dimension 1.5', ['AI.TENSORSET', GUARD, 'FLOAT', '1.5', 'VALUES', '1'], 'ERR invalid or negative value found in tensor shape'],
  ['dimension abc', ['AI.TENSORSET', GUARD, 'FLOAT', '2', 'abc'], 'ERR invalid or negative value found in tensor shape'],
  ['too few VALUES', ['AI.TENSORSET', GUARD, 'FLOAT', '2', '2', 'VALUES', '1', '2', '3'], "ERR wrong number of values was given in 'AI.TENSORSET' command"],
  ['too many VALUES', ['AI.TENSORSET', GUARD, 'FLOAT', '2', 'VALUES', '1', '2', '3'], "ERR wrong number of values was given in 'AI.TENSORSET' command"],
  ['VALUES with no value', ['AI.TENSORSET', GUARD, 'FLOAT', '2', 'VALUES'], "ERR wrong number of values was given in 'AI.TENSORSET' command"],
  ['BLOB with no argument', ['AI.TENSORSET', GUARD, 'FLOAT', '1', 'BLOB'], "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"],
  ['BLOB with two arguments', ['AI.TENSORSET', GUARD, 'FLOAT', '1', 'BLOB', 'aaaa', 'bbbb'], "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"],
  ['BLOB one byte short', ['AI.TENSORSET', GUARD, 'FLOAT', '2', '3', 'BLOB', Buffer.alloc(23)], 'ERR data length does not match tensor shape and type'],
  ['BLOB one byte long', ['AI.TENSORSET', GUARD, 'INT16', '2', 'BLOB', Buffer.alloc(5)], 'ERR data length does not match tensor shape and type'],
  ['INT8 128', ['AI.TENSORSET', GUARD, 'INT8', '2', 'VALUES', '1', '128'], 'ERR invalid value'],
  ['INT8 -129', ['AI.TENSORSET', GUARD, 'INT8', '1', 'VALUES', '-129'], 'ERR invalid value'],
  ['UINT8 -1', ['AI.TENSORSET', GUARD, 'UINT8', '1', 'VALUES', '-1'], 'ERR invalid value'],
  ['UINT16 65536', ['AI.TENSORSET', GUARD, 'UINT16', '1', 'VALUES', '65536'], 'ERR invalid value'],
  ['INT64 2^63', ['AI.TENSORSET', GUARD, 'INT64', '1', 'VALUES', '9223372036854775808'], 'ERR invalid value'],
  ['INT32 1.5', ['AI.TENSORSET', GUARD, 'INT32', '1', 'VALUES', '1.5'], 'ERR invalid value'],
  ['FLOAT 1.5x', ['AI.TENSORSET', GUARD, 'FLOAT', '2', 'VALUES', '1', '1.5x'], 'ERR invalid value'],
  ['FLOAT empty value', ['AI.TENSORSET', GUARD, 'FLOAT', '1', 'VALUES', ''], 'ERR invalid value'],
  ['BOOL value 2', ['AI.TENSORSET', GUARD, 'BOOL', '2', 'VALUES', '0', '2'], 'ERR invalid value'],
  ['BOOL blob byte 2', ['AI.TENSORSET', GUARD, 'BOOL', '2', 'BLOB', Buffer.from([0, 2])], 'ERR BOOL tensor elements must be 0 or 1'],
  ['BOOL blob last byte 2', ['AI.TENSORSET', GUARD, 'BOOL', '3', 'BLOB', Buffer.from([1, 0, 2])], 'ERR BOOL tensor elements must be 0 or 1'],
  ['STRING blob with too few strings', ['AI.TENSORSET', GUARD, 'STRING', '2', 'BLOB', B('a\0')], 'ERR Number of string elements in data blob does not match tensor length'],
  ['STRING blob with too many strings', ['AI.TENSORSET', GUARD, 'STRING', '1', 'BLOB', B('a\0b\0')], 'ERR Number of string elements in data blob does not match tensor length'],
  ['STRING blob without the last NUL', ['AI.TENSORSET', GUARD, 'STRING', '2', 'BLOB', B('a\0b')], 'ERR Number of string elements in data blob does not match tensor length'],
  ['shape 2^32 x 2^32', ['AI.TENSORSET', GUARD, 'FLOAT', '4294967296', '4294967296'], TOO_LARGE],
  ['shape just over proto-max-bulk-len', ['AI.TENSORSET', GUARD, 'FLOAT', '134217729'], TOO_LARGE],
  ['shape just over proto-max-bulk-len (INT8)', ['AI.TENSORSET', GUARD, 'INT8', '536870913'], TOO_LARGE],
  ['huge shape with a short BLOB', ['AI.TENSORSET', GUARD, 'DOUBLE', '4294967296', '4294967296', 'BLOB', 'x'], TOO_LARGE],
  ['TENSORGET unknown format', ['AI.TENSORGET', GUARD, 'JSON'], 'ERR unsupported data format'],
  ['TENSORGET META with unknown format', ['AI.TENSORGET', GUARD, 'META', 'FOO'], 'ERR unsupported data format'],
  ['TENSORGET BLOB and VALUES', ['AI.TENSORGET', GUARD, 'BLOB', 'VALUES'], 'ERR both BLOB and VALUES specified'],
  ['TENSORGET values blob', ['AI.TENSORGET', GUARD, 'values', 'blob'], 'ERR both BLOB and VALUES specified'],
  ['TENSORGET missing key', ['AI.TENSORGET', 'no-such-tensor', 'META'], 'ERR tensor key is empty or in a different shard'],
  ['GET on a tensor', ['GET', GUARD], 'WRONGTYPE Operation against a key holding the wrong kind of value'],
  ['TENSORGET on a string', ['AI.TENSORGET', 'a-string', 'META'], 'WRONGTYPE Operation against a key holding the wrong kind of value'],
  ['TENSORSET on a string', ['AI.TENSORSET', 'a-string', 'FLOAT', '1', 'VALUES', '1'], 'WRONGTYPE Operation against a key holding the wrong kind of value'],
  // The original opens the key before it parses anything: the key's type is checked first.
  ['TENSORSET on a string with a bad dtype', ['AI.TENSORSET', 'a-string', 'FLOATY', '1'], 'WRONGTYPE Operation against a key holding the wrong kind of value'],
  ['TENSORGET missing key with an unknown format', ['AI.TENSORGET', 'no-such-tensor', 'JSON'], 'ERR tensor key is empty or in a different shard'],
  ['TENSORGET on a string with an unknown format', ['AI.TENSORGET', 'a-string', 'JSON'], 'WRONGTYPE Operation against a key holding the wrong kind of value'],
  ['TENSORSET arity (typed ai.TensorSet)', ['ai.TensorSet', GUARD, 'FLOAT'], "ERR wrong number of arguments for 'ai.tensorset' command"],
  ['TENSORSET arity (key only)', ['AI.TENSORSET', GUARD], "ERR wrong number of arguments for 'ai.tensorset' command"],
  ['TENSORGET arity (no key)', ['ai.tensorGET'], "ERR wrong number of arguments for 'ai.tensorget' command"],
  ['TENSORGET arity (too many formats)', ['AI.TENSORGET', GUARD, 'META', 'BLOB', 'META'], "ERR wrong number of arguments for 'ai.tensorget' command"],
];

describe('bad inputs: exact error texts, the server unharmed', () => {
  beforeAll(async () => {
    await storeGuard();
    expect(await cmd('SET', 'a-string', 'v')).toBe('OK');
  });

  it.each(BAD)('%s', async (_what, args, text) => {
    expect(await errorOf(...args)).toBe(text);
    await expectHealthy();
  });

  it('the string key is untouched too', async () => {
    expect(await cmd('GET', 'a-string')).toBe('v');
  });

  it('a rejected huge shape leaves the connection usable for a pipeline', async () => {
    const replies = await Promise.allSettled([
      client.sendCommand(['AI.TENSORSET', GUARD, 'FLOAT', '4294967296', '4294967296']),
      client.sendCommand(['AI.TENSORSET', 'after-huge', 'FLOAT', '1', 'VALUES', '7']),
      client.sendCommand(['AI.TENSORGET', 'after-huge', 'VALUES']),
    ]);
    expect(replies[0]).toMatchObject({ status: 'rejected', reason: { message: TOO_LARGE } });
    expect(replies[1]).toEqual({ status: 'fulfilled', value: 'OK' });
    expect(replies[2]).toEqual({ status: 'fulfilled', value: ['7'] });
    await expectHealthy();
  });
});
