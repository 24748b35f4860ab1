/** The pure `parse` of the list, hash and scripting commands (their replies are compared with redis-server in test/). */
import { describe, expect, it } from 'vitest';
import { evalCommand, evalsha } from './eval.js';
import { hset, hmset } from './hset.js';
import { hincrby } from './hincrby.js';
import { lpop } from './lpop.js';
import { lpos } from './lpos.js';
import { lrange } from './lrange.js';
import { parseCursor } from './args.js';
import { script } from './script.js';
import { pctx } from './test-helpers.js';

const args = (...xs: (string | number)[]): Buffer[] => xs.map((x) => Buffer.from(String(x), 'latin1'));

describe('list and hash parse', () => {
  it('LPOP: count is a non-negative int64; a third argument is an arity error', () => {
    expect(lpop.parse(args('k'), pctx)).toEqual({ key: 'k', count: undefined });
    expect(lpop.parse(args('k', 0), pctx)).toEqual({ key: 'k', count: 0 });
    expect(() => lpop.parse(args('k', -1), pctx)).toThrow('ERR value is out of range, must be positive');
    expect(() => lpop.parse(args('k', 'x'), pctx)).toThrow('ERR value is out of range, must be positive');
    expect(() => lpop.parse(args('k', 1, 2), pctx)).toThrow("ERR wrong number of arguments for 'lpop' command");
  });

  it('LRANGE: strict int64 indexes (no +1, 01, -0, spaces)', () => {
    expect(lrange.parse(args('k', -9223372036854775808n, 9223372036854775807n), pctx)).toMatchObject({ start: -9223372036854775808, stop: 9223372036854775807 });
    for (const bad of ['+1', '01', '-0', ' 1', '1.0', '9223372036854775808', '']) {
      expect(() => lrange.parse(args('k', bad, 1), pctx)).toThrow('ERR value is not an integer or out of range');
    }
  });

  it('LPOS: options, their texts, and a keyword without a value', () => {
    expect(lpos.parse(args('k', 'e', 'rank', -2, 'COUNT', 0, 'maxlen', 5), pctx)).toMatchObject({ rank: -2, count: 0, maxlen: 5 });
    expect(() => lpos.parse(args('k', 'e', 'RANK', 0), pctx)).toThrow(/^ERR RANK can't be zero/);
    expect(() => lpos.parse(args('k', 'e', 'COUNT', -1), pctx)).toThrow("ERR COUNT can't be negative");
    expect(() => lpos.parse(args('k', 'e', 'COUNT', 'x'), pctx)).toThrow("ERR COUNT can't be negative");
    expect(() => lpos.parse(args('k', 'e', 'MAXLEN', -1), pctx)).toThrow("ERR MAXLEN can't be negative");
    expect(() => lpos.parse(args('k', 'e', 'RANK'), pctx)).toThrow('ERR syntax error');
  });

  it('HSET / HMSET: field-value pairs, or the arity error naming the command', () => {
    expect(hset.parse(args('h', 'f', 'v', 'g', 'w'), pctx)).toMatchObject({ fields: ['f', 'g'] });
    expect(() => hset.parse(args('h', 'f', 'v', 'g'), pctx)).toThrow("ERR wrong number of arguments for 'hset' command");
    expect(() => hmset.parse(args('h', 'f'), pctx)).toThrow("ERR wrong number of arguments for 'hmset' command");
  });

  it('HINCRBY: the increment is checked first', () => {
    expect(() => hincrby.parse(args('h', 'f', '1.5'), pctx)).toThrow('ERR value is not an integer or out of range');
  });

  it('HSCAN cursors read like strtoul: a sign, "" as 0, 64 bits', () => {
    expect(parseCursor(Buffer.from(''))).toBe(0n);
    expect(parseCursor(Buffer.from('-1'))).toBe(2n ** 64n - 1n);
    expect(parseCursor(Buffer.from('+7'))).toBe(7n);
    for (const bad of ['x', ' 1', '18446744073709551616', '1.0']) expect(() => parseCursor(Buffer.from(bad))).toThrow('ERR invalid cursor');
  });
});

describe('scripting parse', () => {
  it('EVAL: numkeys splits KEYS from ARGV; Redis texts for bad counts', () => {
    expect(evalCommand.parse(args('return 1', 2, 'a', 'b', 'c'), pctx)).toMatchObject({ keys: args('a', 'b'), args: args('c') });
    expect(() => evalCommand.parse(args('s', -1), pctx)).toThrow("ERR Number of keys can't be negative");
    expect(() => evalCommand.parse(args('s', 2, 'a'), pctx)).toThrow("ERR Number of keys can't be greater than number of args");
    expect(() => evalCommand.parse(args('s', 'x'), pctx)).toThrow('ERR value is not an integer or out of range');
  });

  it('EVALSHA: a SHA1 of the wrong length is NOSCRIPT before numkeys is read', () => {
    expect(() => evalsha.parse(args('abc', 'x'), pctx)).toThrow('NOSCRIPT No matching script. Please use EVAL.');
  });

  it('SCRIPT: subcommand arities and texts as Redis 7', () => {
    expect(script.parse(args('load', 'return 1'), pctx)).toMatchObject({ sub: 'load' });
    expect(script.parse(args('FLUSH', 'async'), pctx)).toEqual({ sub: 'flush' });
    expect(() => script.parse(args('LOAD'), pctx)).toThrow("ERR wrong number of arguments for 'script|load' command");
    expect(() => script.parse(args('EXISTS'), pctx)).toThrow("ERR wrong number of arguments for 'script|exists' command");
    expect(() => script.parse(args('FLUSH', 'later'), pctx)).toThrow('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
    expect(() => script.parse(args('NOPE'), pctx)).toThrow("ERR unknown subcommand 'NOPE'. Try SCRIPT HELP.");
  });
});
