import { RespaiError } from '@respai/core';
import { Rng } from '@respai/core/fuzz';
import { describe, expect, it, vi } from 'vitest';
import { type DecoderLimits, RespDecoder, splitArgs } from './decoder.js';

const LIMITS: DecoderLimits = { maxBulkLen: 512 * 1024 * 1024 };

interface Outcome {
  cmds: string[][];
  error: string | null;
  buffered: number;
}

/** Feeds the chunks one by one, draining commands after each; args as latin1 strings. */
function run(chunks: readonly Buffer[], limits: DecoderLimits = LIMITS): Outcome {
  const d = new RespDecoder({ ...limits });
  const cmds: string[][] = [];
  try {
    for (const c of chunks) {
      d.push(c);
      for (let cmd = d.next(); cmd !== null; cmd = d.next()) cmds.push(cmd.map((a) => a.toString('latin1')));
    }
  } catch (e) {
    if (!RespaiError.isInstance(e)) throw e;
    // Where an error strikes, and so what is buffered then, depends on the chunking.
    return { cmds, error: e.message, buffered: -1 };
  }
  return { cmds, error: null, buffered: d.buffered };
}

function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function bytewise(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

function randomSplits(b: Buffer, seed: number): Buffer[] {
  const r = rng(seed);
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const n = 1 + Math.floor(r() * Math.min(b.length - i, r() < 0.5 ? 8 : 64));
    out.push(Buffer.from(b.subarray(i, i + n))); // copies, so views cannot hide a bug
    i += n;
  }
  return out;
}

const bin = (s: string) => Buffer.from(s, 'latin1');

/** Decodes whole, byte by byte and in random splits; all must agree. */
function decode(input: string | Buffer, limits: DecoderLimits = LIMITS): Outcome {
  const b = typeof input === 'string' ? bin(input) : input;
  const whole = run([b], limits);
  expect(run(bytewise(b), limits), 'byte by byte').toEqual(whole);
  for (let seed = 1; seed <= 5; seed++) expect(run(randomSplits(b, seed), limits), `split ${seed}`).toEqual(whole);
  return whole;
}

function expectCmds(input: string | Buffer, cmds: string[][], limits?: DecoderLimits) {
  const out = decode(input, limits);
  expect(out.error).toBeNull();
  expect(out.cmds).toEqual(cmds);
  return out;
}

function expectError(input: string | Buffer, what: string, cmdsBefore: string[][] = []) {
  const out = decode(input);
  expect(out.error).toBe(`ERR Protocol error: ${what}`);
  expect(out.cmds).toEqual(cmdsBefore);
}

const mb = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${bin(a).length}\r\n${a}\r\n`).join('')}`;

describe('RespDecoder: multibulk', () => {
  it('decodes a command', () => {
    const out = expectCmds('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n', [['SET', 'k', 'hello']]);
    expect(out.buffered).toBe(0);
  });

  it('decodes pipelined commands from one chunk', () => {
    expectCmds(mb('PING') + mb('SET', 'a', '1') + mb('GET', 'a') + mb('ECHO', ''), [
      ['PING'],
      ['SET', 'a', '1'],
      ['GET', 'a'],
      ['ECHO', ''],
    ]);
  });

  it('is binary safe', () => {
    const payload = '\r\n\0\xff*$3\r\n\n\r';
    expectCmds(mb('SET', '\0k\r\n', payload), [['SET', '\0k\r\n', payload]]);
  });

  it('skips empty and negative multibulks', () => {
    expectCmds('*0\r\n*-1\r\n*-5\r\n' + mb('PING') + '*0\r\n', [['PING']]);
    expectCmds('*-9223372036854775808\r\n' + mb('PING'), [['PING']]);
  });

  it('waits for a complete command', () => {
    for (const partial of ['*', '*2', '*2\r', '*2\r\n', '*2\r\n$3', '*2\r\n$3\r\nGET\r\n$1\r\nk', '*2\r\n$3\r\nGET\r\n$1\r\nk\r']) {
      const out = decode(partial);
      expect(out).toEqual({ cmds: [], error: null, buffered: partial.length });
    }
  });

  it('accepts counts up to INT_MAX without allocating for them', () => {
    expect(decode('*2147483647\r\n$4\r\nPING\r\n')).toEqual({ cmds: [], error: null, buffered: 23 });
  });

  it('skips the bytes after a line CR and after a payload unchecked, as Redis does', () => {
    expectCmds('*2\rX$3\rYGETAB$1\r\nkCD', [['GET', 'k']]);
  });

  it('reads maxBulkLen at parse time', () => {
    const d = new RespDecoder({ maxBulkLen: 3 });
    d.push(bin(mb('GET', 'abc')));
    expect(d.next()?.map(String)).toEqual(['GET', 'abc']);
    d.limits.maxBulkLen = 2;
    d.push(bin(mb('GET', 'abc')));
    expect(() => d.next()).toThrow('ERR Protocol error: invalid bulk length');
    // After an error the decoder stays failed: the connection is being closed.
    expect(() => d.next()).toThrow('ERR Protocol error: invalid bulk length');
  });

  it('accepts a bulk of exactly maxBulkLen', () => {
    expectCmds(mb('a', '0123456789'), [['a', '0123456789']], { maxBulkLen: 10 });
    const out = decode(mb('a', '01234567890'), { maxBulkLen: 10 });
    expect(out.error).toBe('ERR Protocol error: invalid bulk length');
  });
});

describe('RespDecoder: protocol errors', () => {
  it('rejects a bad multibulk count', () => {
    for (const count of ['abc', '', '+1', '01', '-0', ' 1', '1 ', '1x', '2147483648', '99999999999999999999', '-9223372036854775809', '123456789012345678901']) {
      expectError(`*${count}\r\n`, 'invalid multibulk length');
    }
  });

  it('rejects a missing $', () => {
    expectError('*1\r\nfoo\r\n', "expected '$', got 'f'");
    expectError('*2\r\n$1\r\na\r\n:1\r\n', "expected '$', got ':'");
    // CR and LF are shown as spaces, as Redis's error sanitizing does.
    expectError('*1\r\n\r\n', "expected '$', got ' '");
    expectError('*1\r\n\n\r\n', "expected '$', got ' '");
    expectError(mb('PING') + '*1\r\n*1\r\n', "expected '$', got '*'", [['PING']]);
  });

  it('rejects a bad bulk length', () => {
    for (const len of ['-1', '-0', 'abc', '', '01', '+3', '3 ', '9223372036854775808', '536870913']) {
      expectError(`*1\r\n$${len}\r\n`, 'invalid bulk length');
    }
  });

  it('rejects overlong count lines', () => {
    const digits = '1'.repeat(65535);
    expect(decode('*' + digits)).toEqual({ cmds: [], error: null, buffered: 65536 });
    expectError('*' + digits + '1', 'too big mbulk count string');
    expect(decode('*1\r\n$' + digits).error).toBeNull();
    expectError('*1\r\n$' + digits + '1', 'too big bulk count string');
  });

  it('rejects an overlong inline request', () => {
    expect(decode('x'.repeat(65536)).error).toBeNull();
    expectError('x'.repeat(65537), 'too big inline request');
    // However it arrives: whole, or trickled in.
    const long = bin('ECHO ' + 'y'.repeat(70000) + '\n');
    expect(run([long]).error).toBe('ERR Protocol error: too big inline request');
    expect(run([long.subarray(0, 65536), long.subarray(65536)]).error).toBe('ERR Protocol error: too big inline request');
    expect(run([long.subarray(0, 65537), long.subarray(65537)]).error).toBe('ERR Protocol error: too big inline request');
    // A line of exactly the limit passes.
    expect(run([bin('x'.repeat(65535) + '\n')]).cmds).toEqual([['x'.repeat(65535)]]);
  });

  it('honours a custom maxInlineLen', () => {
    const out = decode('PING PING PING', { ...LIMITS, maxInlineLen: 10 });
    expect(out.error).toBe('ERR Protocol error: too big inline request');
  });

  it('limits unauthenticated clients like Redis', () => {
    const attempt = (input: string, authRequired: boolean) => {
      const d = new RespDecoder(LIMITS);
      d.authRequired = authRequired;
      d.push(bin(input));
      try {
        return d.next()?.length ?? null;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const eleven = mb(...Array<string>(11).fill('a'));
    expect(attempt(eleven, true)).toBe('ERR Protocol error: unauthenticated multibulk length');
    expect(attempt(eleven, false)).toBe(11);
    expect(attempt(mb(...Array<string>(10).fill('a')), true)).toBe(10);
    expect(attempt('*2\r\n$3\r\nGET\r\n$16385\r\n', true)).toBe('ERR Protocol error: unauthenticated bulk length');
    expect(attempt('*2\r\n$3\r\nGET\r\n$16385\r\n', false)).toBeNull();
    expect(attempt(mb('AUTH', 'x'.repeat(16384)), true)).toBe(2);
    // The invalid-length checks come first.
    expect(attempt('*2147483648\r\n', true)).toBe('ERR Protocol error: invalid multibulk length');
    expect(attempt('*1\r\n$536870913\r\n', true)).toBe('ERR Protocol error: invalid bulk length');
  });

  it('rejects unbalanced quotes', () => {
    for (const line of ['ECHO "a', "ECHO 'a", 'ECHO "a"x', "ECHO 'a'x", 'ECHO "a\\"', "ECHO 'a\\'", 'ECHO "a"b"']) {
      expectError(line + '\r\n', 'unbalanced quotes in request');
    }
  });
});

describe('RespDecoder: inline', () => {
  it('splits like sdssplitargs', () => {
    expectCmds(`set "a b" 'c\\'d' "\\x41"\r\n`, [['set', 'a b', "c'd", 'A']]);
    expectCmds('PING\n PING\t\r\n', [['PING'], ['PING']]);
    expectCmds('"\\n\\r\\t\\b\\a\\\\\\"\\q"\n', [['\n\r\t\b\x07\\"q']]);
    expectCmds('"\\x4a\\x4B\\xZZ\\x4"\n', [['JKxZZx4']]);
    expectCmds("'a\\nb\\x\\'c'\n", [["a\\nb\\x'c"]]);
    expectCmds(`"" ''\n`, [['', '']]);
  });

  it('joins quotes into the surrounding token', () => {
    expectCmds('a"b c" x\n', [['ab c', 'x']]);
    expectCmds("x'y z'\n", [['xy z']]);
  });

  it('skips empty lines', () => {
    expectCmds('\n\r\n   \n\t\r\nPING\n', [['PING']]);
  });

  it('treats \\v and \\f as blanks only between tokens', () => {
    expectCmds('\x0bGET a\x0bb\x0c\n', [['GET', 'a\x0bb\x0c']]);
    expectCmds('"a"\x0bb\n', [['a', 'b']]);
  });

  it('ends a line at NUL, as sdssplitargs reads a C string', () => {
    expectCmds('GET a\0b c\nPING\n', [['GET', 'a'], ['PING']]);
  });

  it('splits mid-line CRs', () => {
    expectCmds('a\rb\r\n', [['a', 'b']]);
  });

  it('mixes with multibulk in a pipeline', () => {
    expectCmds('PING\r\n' + mb('GET', 'k') + 'SET k v\n', [['PING'], ['GET', 'k'], ['SET', 'k', 'v']]);
  });

  it('returns plain tokens as views of the line', () => {
    const line = Buffer.from('GET key');
    const argv = splitArgs(line)!;
    expect(argv.map(String)).toEqual(['GET', 'key']);
    expect(argv[1]!.buffer).toBe(line.buffer);
  });
});

describe('RespDecoder: memory', () => {
  it('returns a bulk that lies in one chunk as a view of it', () => {
    const chunk = bin(mb('SET', 'key', 'value') + mb('GET', 'key'));
    const d = new RespDecoder(LIMITS);
    d.push(chunk);
    for (const argv of [d.next()!, d.next()!]) {
      for (const a of argv) {
        expect(a.buffer).toBe(chunk.buffer);
        expect(a.byteOffset).toBeGreaterThanOrEqual(chunk.byteOffset);
        expect(a.byteOffset + a.length).toBeLessThanOrEqual(chunk.byteOffset + chunk.length);
      }
    }
    expect(d.next()).toBeNull();
    expect(d.buffered).toBe(0);
  });

  it('assembles a 1 MiB bulk from 64 KiB chunks', () => {
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
    const frame = Buffer.concat([bin('*3\r\n$3\r\nSET\r\n$1\r\nt\r\n$1048576\r\n'), payload, bin('\r\n'), bin(mb('PING'))]);
    const d = new RespDecoder(LIMITS);
    const cmds: Buffer[][] = [];
    let pushed = 0;
    for (let i = 0; i < frame.length; i += 65536) {
      const chunk = frame.subarray(i, i + 65536);
      d.push(chunk);
      pushed += chunk.length;
      for (let c = d.next(); c; c = d.next()) cmds.push(c);
      expect(d.buffered).toBeLessThanOrEqual(pushed);
      if (cmds.length === 0) expect(d.buffered).toBe(pushed);
    }
    expect(cmds.length).toBe(2);
    expect(cmds[0]![2]!.equals(payload)).toBe(true);
    expect(cmds[1]!.map(String)).toEqual(['PING']);
    expect(d.buffered).toBe(0);
  });

  it('holds only what arrived of a huge declared bulk', () => {
    const before = process.memoryUsage().arrayBuffers;
    const d = new RespDecoder(LIMITS);
    const header = bin('*2\r\n$3\r\nSET\r\n$536870912\r\n');
    d.push(header);
    d.push(Buffer.alloc(1000, 1));
    expect(d.next()).toBeNull();
    expect(d.buffered).toBe(header.length + 1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('scans a trickled line once (linear, not quadratic)', () => {
    const line = bin('ECHO ' + 'x'.repeat(65000) + '\r\n');
    const frame = Buffer.concat([bin(mb('hello')), line]);
    // Counts the bytes the decoder's searches look at: once each, plus one per chunk, when linear.
    let looked = 0;
    const indexOf = Buffer.prototype.indexOf;
    const spy = vi.spyOn(Buffer.prototype, 'indexOf').mockImplementation(function (this: Buffer, value, from, enc) {
      const i = indexOf.call(this, value as number, from as number, enc as BufferEncoding);
      const start = typeof from === 'number' ? (from < 0 ? Math.max(0, this.length + from) : from) : 0;
      looked += (i < 0 ? this.length : i + 1) - start;
      return i;
    });
    let out: ReturnType<typeof run>;
    try {
      out = run(bytewise(frame));
    } finally {
      spy.mockRestore();
    }
    expect(out.cmds).toEqual([['hello'], ['ECHO', 'x'.repeat(65000)]]);
    expect(looked).toBeLessThan(4 * frame.length);
  });

  it('assembles a bulk trickled a byte at a time, coalescing the bytes', () => {
    const payload = 'z'.repeat(100_000);
    const frame = bin(mb('SET', 'k', payload));
    const d = new RespDecoder(LIMITS);
    const queue = () => (d as unknown as { q: Buffer[] }).q.length;
    let cmd: Buffer[] | null = null;
    for (let i = 0; i < frame.length; i++) {
      d.push(frame.subarray(i, i + 1));
      cmd = d.next();
      // One Buffer per received byte would cost far more than the bytes themselves.
      if (i === frame.length - 10) expect(queue()).toBeLessThan(20);
    }
    expect(cmd?.map((a) => a.toString())).toEqual(['SET', 'k', payload]);
    expect(d.buffered).toBe(0);
  });

  it('queues a request that arrives whole by reference, even a tiny one', () => {
    const d = new RespDecoder(LIMITS);
    d.push(bin('*2\r\n$3\r\nGET\r\n$1\r\n'));
    const tiny = bin('k\r\n');
    d.push(tiny); // extends pending data: copied
    expect(d.next()!.map(String)).toEqual(['GET', 'k']);
    const whole = bin(mb('GET', 'k'));
    d.push(whole); // nothing pending: by reference
    expect(d.next()![1]!.buffer).toBe(whole.buffer);
  });
});
