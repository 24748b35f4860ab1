import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDouble, parseDouble, parseDoubleBytes, parseInteger, parseSmallInteger } from './numbers.js';

describe('parseDouble', () => {
  it.each([
    ['1', 1],
    ['1e3', 1000],
    ['1E3', 1000],
    ['-0.5', -0.5],
    ['+1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['-.5e-2', -0.005],
    ['1e+2', 100],
    ['007', 7],
    ['0.1', 0.1],
    ['inf', Infinity],
    ['-INF', -Infinity],
    ['+Infinity', Infinity],
    ['-infinity', -Infinity],
    ['0x10', 16],
    ['0x1.8p1', 3],
    ['-0x1p-2', -0.25],
    ['0X.8', 0.5],
    ['0x1p-1074', 5e-324],
    ['0x1.fffffffffffffp1023', Number.MAX_VALUE],
    ['4.9e-324', 5e-324],
    ['1.7976931348623157e308', Number.MAX_VALUE],
  ])('reads %j', (s, v) => {
    expect(parseDouble(s)).toBe(v);
  });

  it('reads nan in any case', () => {
    expect(parseDouble('nan')).toBeNaN();
    expect(parseDouble('NaN')).toBeNaN();
    expect(parseDouble('-NAN')).toBeNaN();
  });

  it('keeps the sign of zero', () => {
    expect(Object.is(parseDouble('-0'), -0)).toBe(true);
    expect(Object.is(parseDouble('-0x0p0'), -0)).toBe(true);
  });

  it('rounds hex mantissas longer than double precision correctly', () => {
    // 2^80 + 1: beyond 53 bits, the sticky bit must not round up to the next double.
    expect(parseDouble('0x100000000000000000001')).toBe(2 ** 80);
    expect(parseDouble('0x1.00000000000008000000001p0')).toBe(1 + 2 ** -52);
  });

  it.each([
    '', ' 1', '1 ', '1.5x', '1e', 'e3', '.', '-', '+', '--1', '1_000', '0b1', '0o7', '1,5', 'in', 'infinit',
    'infinityy', 'nan(1)', 'Infinity1', '0x', '0x.', '0x1p', '0xg', '1e400', '-1e400', '1e-400',
    '0x1p99999999999999999999', '0x1p-99999999999', '\u0661',
  ])('rejects %j', (s) => {
    expect(parseDouble(s)).toBeUndefined();
  });

  it('round-trips every finite double through formatDouble', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Object.is(parseDouble(formatDouble(x)), x)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseInteger', () => {
  it.each([
    ['0', 0n],
    ['-5', -5n],
    ['+5', 5n],
    ['007', 7n],
    ['-0', 0n],
    ['9223372036854775807', 9223372036854775807n],
    ['-9223372036854775808', -9223372036854775808n],
    ['99999999999999999999', 99999999999999999999n],
    ['0000000000000000000000000001', 1n],
  ])('reads %j', (s, v) => {
    expect(parseInteger(s)).toBe(v);
  });

  it.each(['', '-', '+', ' 1', '1 ', '1.0', '1.87', '1e3', '0x10', 'A', '--1', '100000000000000000000'])(
    'rejects %j',
    (s) => {
      expect(parseInteger(s)).toBeUndefined();
    },
  );
});

describe('long inputs', () => {
  it('parse in linear time (no regex backtracking on megabyte values)', () => {
    // A hang guard: quadratic backtracking on 1 MB would take minutes, far past the test's time limit.
    const big = 1_000_000;
    expect(parseDouble('1'.repeat(big) + 'x')).toBeUndefined();
    expect(parseDouble('1'.repeat(big) + 'e' + '1'.repeat(big) + 'x')).toBeUndefined();
    expect(parseDouble('0x' + '1'.repeat(big) + 'g')).toBeUndefined();
    expect(parseDouble('0.' + '0'.repeat(big) + '1')).toBeUndefined(); // underflows to 0
    expect(parseDouble('1'.repeat(400))).toBeUndefined(); // overflows
    expect(parseInteger('0'.repeat(big) + 'x')).toBeUndefined();
    expect(parseInteger('0'.repeat(big) + '42')).toBe(42n);
  });
});

describe('formatDouble', () => {
  // Expected texts from C printf("%.17g").
  it.each([
    [1, '1'],
    [0.5, '0.5'],
    [Math.fround(0.1), '0.10000000149011612'],
    [0.1, '0.10000000000000001'],
    [1e20, '1e+20'],
    [1e16, '10000000000000000'],
    [1e17, '1e+17'],
    [0.0001, '0.0001'],
    [1e-5, '1.0000000000000001e-05'],
    [123.456, '123.456'],
    [2 / 3, '0.66666666666666663'],
    [-1.5e-300, '-1.5000000000000001e-300'],
    [5e-324, '4.9406564584124654e-324'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [12345678901234568, '12345678901234568'],
    [Math.fround(3.14159), '3.1415901184082031'],
    [100, '100'],
    [-2, '-2'],
    [0, '0'],
    [-0, '-0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
  ])('formats %d as %j', (x, s) => {
    expect(formatDouble(x)).toBe(s);
  });
});

describe('parseDoubleBytes and parseSmallInteger (the VALUES fast paths) agree with the general parsers', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  it('on a sweep of decimal forms, signs, points and lengths', () => {
    const cases = [
      '0', '-0', '+0', '1', '-1', '1.', '.5', '-.5', '+.5', '0.1', '0.30000000000000004', '123456789012345', '1234567890123456',
      '3.14159', '-2.5e3', '1e-7', '1E308', '1e309', '1e-400', 'inf', '-Infinity', 'nan', '0x1.8p1', '', '.', '-', '1.2.3', ' 1',
      '1 ', '00000000000000000001.25', '0.0000000000000000000001', '0.00000000000000000000001', '999999999999999.9', '16777217',
    ];
    for (const c of cases) expect(parseDoubleBytes(b(c)), c).toEqual(parseDouble(c));
    // Random decimals: the fast path must round exactly as the general one (strtod).
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      const int = Math.floor(rnd() * 10 ** Math.floor(rnd() * 8));
      const frac = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 9))).padStart(Math.floor(rnd() * 9), '0');
      const s = `${rnd() < 0.5 ? '-' : ''}${int}.${frac}`;
      expect(parseDoubleBytes(b(s)), s).toBe(parseDouble(s));
      expect(Math.fround(parseDoubleBytes(b(s))!), s).toBe(Math.fround(parseDouble(s)!));
    }
  });

  it('integers: up to 15 digits as numbers; longer or malformed ones left to parseInteger', () => {
    for (const c of ['0', '-0', '+7', '007', '-128', '255', '999999999999999', '-999999999999999']) {
      expect(parseSmallInteger(b(c)), c).toBe(Number(parseInteger(c)));
    }
    for (const c of ['1234567890123456', '9223372036854775807', '', '-', '+', '1.5', '1e3', ' 1', '0x10']) expect(parseSmallInteger(b(c)), c).toBeUndefined();
  });
});
