import { describe, expect, it } from 'vitest';
import { OK } from '../resp/reply.js';
import { select } from './select.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

describe('SELECT', () => {
  it('database 0 is OK', () => {
    expect(select.parse(args('0'), pctx)).toBe(0);
    expect(select.execute({} as ExecContext, 0)).toBe(OK);
  });

  it.each(['1', '15', '16', '-1', '2147483647', '-2147483648'])('database %s is out of range (respai has one)', (db) => {
    expect(errorOf(() => select.parse(args(db), pctx))).toBe('ERR DB index is out of range');
  });

  it.each(['abc', '1.5', '', ' 0', '00', '99999999999999999999'])('%j is not an integer', (db) => {
    expect(errorOf(() => select.parse(args(db), pctx))).toBe('ERR value is not an integer or out of range');
  });

  // Redis reads the index as a C int.
  it.each(['2147483648', '-2147483649', '9223372036854775807'])('database %s is out of int range like Redis', (db) => {
    expect(errorOf(() => select.parse(args(db), pctx))).toBe(
      'ERR value is out of range, value must between -2147483648 and 2147483647',
    );
  });
});
