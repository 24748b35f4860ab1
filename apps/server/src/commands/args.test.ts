import { describe, expect, it } from 'vitest';
import { INT64_MAX, INT64_MIN, int64Arg, intArg, is, parseInt64 } from './args.js';
import { errorOf } from './test-helpers.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const NOT_INTEGER = 'ERR value is not an integer or out of range';

describe('is', () => {
  it('compares ASCII case-insensitively with an upper-case keyword', () => {
    expect(is(b('nx'), 'NX')).toBe(true);
    expect(is(b('Nx'), 'NX')).toBe(true);
    expect(is(b('NX'), 'NX')).toBe(true);
    expect(is(b('keepttl'), 'KEEPTTL')).toBe(true);
    expect(is(b('no-evict'), 'NO-EVICT')).toBe(true);
  });

  it('refuses other lengths, other letters, undefined, and non-ASCII look-alikes', () => {
    expect(is(b('NXX'), 'NX')).toBe(false);
    expect(is(b('N'), 'NX')).toBe(false);
    expect(is(b('XX'), 'NX')).toBe(false);
    expect(is(undefined, 'NX')).toBe(false);
    expect(is(Buffer.from([0x6e, 0xd8]), 'NX')).toBe(false); // 0xd8 - 32 is 0xb8, never 'X'
    expect(is(Buffer.from('ﬀ'), 'FF')).toBe(false);
  });
});

describe('parseInt64 (string2ll)', () => {
  it.each([
    ['0', 0n],
    ['1', 1n],
    ['-1', -1n],
    ['1234567890', 1234567890n],
    ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN],
  ])('%s', (s, v) => {
    expect(parseInt64(s)).toBe(v);
    expect(parseInt64(b(s))).toBe(v);
  });

  it.each(['', '-', '+1', ' 1', '1 ', '01', '-0', '00', '1.0', '1e3', '0x1', 'abc', '9223372036854775808', '-9223372036854775809', '99999999999999999999999'])(
    '%j is not one',
    (s) => {
      expect(parseInt64(s)).toBeUndefined();
    },
  );
});

describe('int64Arg', () => {
  it('parses or fails with the not-an-integer text', () => {
    expect(int64Arg(b('-42'))).toBe(-42n);
    expect(int64Arg(b('9223372036854775807'))).toBe(INT64_MAX);
    expect(errorOf(() => int64Arg(b('x')))).toBe(NOT_INTEGER);
    expect(errorOf(() => int64Arg(undefined))).toBe(NOT_INTEGER);
  });
});

describe('intArg', () => {
  it('parses safe integers', () => {
    expect(intArg(b('10'))).toBe(10);
    expect(intArg(b('-9007199254740991'))).toBe(-9007199254740991);
    expect(intArg(b('9007199254740991'))).toBe(9007199254740991);
  });

  it('fails past 2^53, on junk and on undefined; the text can be chosen', () => {
    expect(errorOf(() => intArg(b('9007199254740992')))).toBe(NOT_INTEGER);
    expect(errorOf(() => intArg(b('abc')))).toBe(NOT_INTEGER);
    expect(errorOf(() => intArg(undefined))).toBe(NOT_INTEGER);
    expect(errorOf(() => intArg(b('x'), 'ERR custom'))).toBe('ERR custom');
  });
});
