import { describe, expect, it } from 'vitest';
import { BIG_BULK, ReplyWriter } from './encoder.js';
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NilArray,
  OK,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from './reply.js';

function encode(reply: Reply, proto: 2 | 3): string {
  const w = new ReplyWriter(proto);
  w.write(reply);
  const size = w.size;
  const out = Buffer.concat(w.take());
  expect(out.length).toBe(size);
  expect(w.size).toBe(0);
  return out.toString('latin1');
}

/** [reply, RESP2 bytes, RESP3 bytes] */
const CASES: ReadonlyArray<readonly [string, Reply, string, string]> = [
  ['null', null, '$-1\r\n', '_\r\n'],
  ['nil array', NilArray.instance, '*-1\r\n', '_\r\n'],
  ['zero', 0, ':0\r\n', ':0\r\n'],
  ['negative zero', -0, ':0\r\n', ':0\r\n'],
  ['integer', 42, ':42\r\n', ':42\r\n'],
  ['negative integer', -1234567890, ':-1234567890\r\n', ':-1234567890\r\n'],
  ['max safe integer', Number.MAX_SAFE_INTEGER, ':9007199254740991\r\n', ':9007199254740991\r\n'],
  ['2^60 as a number', 2 ** 60, ':1152921504606846976\r\n', ':1152921504606846976\r\n'],
  ['-2^63', -(2 ** 63), ':-9223372036854775808\r\n', ':-9223372036854775808\r\n'],
  ['bigint', 9223372036854775807n, ':9223372036854775807\r\n', ':9223372036854775807\r\n'],
  ['negative bigint', -5n, ':-5\r\n', ':-5\r\n'],
  ['string', 'hello', '$5\r\nhello\r\n', '$5\r\nhello\r\n'],
  ['utf-8 string', 'é€', '$5\r\n\xc3\xa9\xe2\x82\xac\r\n', '$5\r\n\xc3\xa9\xe2\x82\xac\r\n'],
  ['empty string', '', '$0\r\n\r\n', '$0\r\n\r\n'],
  ['buffer', Buffer.from('a\r\n\0b', 'latin1'), '$5\r\na\r\n\0b\r\n', '$5\r\na\r\n\0b\r\n'],
  ['empty array', [], '*0\r\n', '*0\r\n'],
  ['nested array', [1, ['a', null], []], '*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n', '*3\r\n:1\r\n*2\r\n$1\r\na\r\n_\r\n*0\r\n'],
  ['simple string', OK, '+OK\r\n', '+OK\r\n'],
  ['simple string with CRLF', new SimpleString('a\r\nb\nc'), '+a  b c\r\n', '+a  b c\r\n'],
  ['error', new ErrorReply('ERR bad'), '-ERR bad\r\n', '-ERR bad\r\n'],
  ['error with CRLF', new ErrorReply('ERR x\r\ny\r'), '-ERR x  y \r\n', '-ERR x  y \r\n'],
  ['double', new DoubleReply(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
  ['double 0.1', new DoubleReply(0.1), '$19\r\n0.10000000000000001\r\n', ',0.10000000000000001\r\n'],
  ['double inf', new DoubleReply(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
  ['double -inf', new DoubleReply(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
  ['double nan', new DoubleReply(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
  ['double -0', new DoubleReply(-0), '$2\r\n-0\r\n', ',-0\r\n'],
  [
    'map',
    new MapReply([
      ['a', 1],
      [new SimpleString('b'), [2, 3]],
    ]),
    '*4\r\n$1\r\na\r\n:1\r\n+b\r\n*2\r\n:2\r\n:3\r\n',
    '%2\r\n$1\r\na\r\n:1\r\n+b\r\n*2\r\n:2\r\n:3\r\n',
  ],
  ['empty map', new MapReply([]), '*0\r\n', '%0\r\n'],
  ['set', new SetReply(['x', 7]), '*2\r\n$1\r\nx\r\n:7\r\n', '~2\r\n$1\r\nx\r\n:7\r\n'],
  ['verbatim', new VerbatimReply('txt', 'hi é'), '$5\r\nhi \xc3\xa9\r\n', '=9\r\ntxt:hi \xc3\xa9\r\n'],
  ['true', new BoolReply(true), ':1\r\n', '#t\r\n'],
  ['false', new BoolReply(false), ':0\r\n', '#f\r\n'],
  ['map in set in array', [new SetReply([new MapReply([[null, new BoolReply(true)]])])], '*1\r\n*1\r\n*2\r\n$-1\r\n:1\r\n', '*1\r\n~1\r\n%1\r\n_\r\n#t\r\n'],
];

describe('ReplyWriter', () => {
  for (const [name, reply, resp2, resp3] of CASES) {
    it(`encodes ${name}`, () => {
      expect(encode(reply, 2)).toBe(resp2);
      expect(encode(reply, 3)).toBe(resp3);
    });
  }

  it('rejects numbers that are not 64-bit integers, leaving nothing behind', () => {
    const w = new ReplyWriter(2);
    w.write('before');
    const size = w.size;
    for (const bad of [1.5, NaN, Infinity, 2 ** 63, -(2 ** 64)]) {
      expect(() => w.write(bad)).toThrow(TypeError);
      expect(() => w.write(['x', [bad]])).toThrow(TypeError);
      expect(w.size).toBe(size);
    }
    expect(() => w.write(undefined as unknown as Reply)).toThrow(TypeError);
    expect(() => w.write({} as unknown as Reply)).toThrow(TypeError);
    w.write('after');
    expect(Buffer.concat(w.take()).toString()).toBe('$6\r\nbefore\r\n$5\r\nafter\r\n');
  });

  it('rolls back a failed reply that had filled the scratch', () => {
    const w = new ReplyWriter(2);
    w.write('a');
    const big = Buffer.alloc(BIG_BULK);
    expect(() => w.write(['x'.repeat(100_000), big, 0.5])).toThrow(TypeError);
    expect(w.size).toBe(7);
    w.write(1);
    expect(Buffer.concat(w.take()).toString()).toBe('$1\r\na\r\n:1\r\n');
  });

  it('passes a big bulk through by reference', () => {
    const w = new ReplyWriter(3);
    const tensor = Buffer.alloc(1024 * 1024, 7);
    w.write(['blob', tensor]);
    const chunks = w.take();
    expect(chunks.includes(tensor)).toBe(true);
    expect(Buffer.concat(chunks).equals(Buffer.concat([Buffer.from('*2\r\n$4\r\nblob\r\n$1048576\r\n'), tensor, Buffer.from('\r\n')]))).toBe(true);
  });

  it('copies bulks below the threshold and passes those at it through', () => {
    const w = new ReplyWriter(2);
    const small = Buffer.alloc(BIG_BULK - 1, 1);
    const big = Buffer.alloc(BIG_BULK, 2);
    w.write(small);
    w.write(big);
    const chunks = w.take();
    expect(chunks.includes(small)).toBe(false);
    expect(chunks.includes(big)).toBe(true);
    const expected = Buffer.concat([Buffer.from(`$${small.length}\r\n`), small, Buffer.from(`\r\n$${big.length}\r\n`), big, Buffer.from('\r\n')]);
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
  });

  it('never rewrites bytes handed out by take()', () => {
    const w = new ReplyWriter(2);
    w.write(OK);
    const first = w.take();
    const snapshot = Buffer.concat(first).toString();
    for (let i = 0; i < 20_000; i++) w.write(i);
    w.write('y'.repeat(200_000));
    expect(Buffer.concat(first).toString()).toBe(snapshot);
    let expected = '';
    for (let i = 0; i < 20_000; i++) expected += `:${i}\r\n`;
    expected += `$200000\r\n${'y'.repeat(200_000)}\r\n`;
    expect(Buffer.concat(w.take()).toString()).toBe(expected);
    expect(w.take()).toEqual([]);
  });

  it('reuses the scratch across small replies', () => {
    const w = new ReplyWriter(2);
    w.write(1);
    const [a] = w.take();
    w.write(2);
    const [b] = w.take();
    expect(b!.buffer).toBe(a!.buffer);
    expect(b!.byteOffset).toBe(a!.byteOffset + a!.length);
  });

  it('follows a protocol switch', () => {
    const w = new ReplyWriter(2);
    w.write(null);
    w.proto = 3;
    w.write(null);
    expect(Buffer.concat(w.take()).toString()).toBe('$-1\r\n_\r\n');
  });

  it('accepts Uint8Array bulks', () => {
    expect(encode(new Uint8Array([65, 66]) as Buffer, 2)).toBe('$2\r\nAB\r\n');
  });
});
