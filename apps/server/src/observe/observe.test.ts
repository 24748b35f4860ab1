import { describe, expect, it } from 'vitest';
import { Hist } from './histogram.js';
import { LabelCap, OTHER } from './metrics.js';
import { slowlogArgs } from './commands.js';
import { commandTable } from '../commands/index.js';

describe('Hist', () => {
  it('counts each value in the first bucket whose bound is at least the value; above all bounds in the last', () => {
    const h = new Hist([1, 2, 5]);
    for (const v of [0, 1, 1.5, 2, 4.9, 5, 7]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 2, 1]);
    expect(h.count).toBe(7);
    expect(h.sum).toBeCloseTo(21.4);
  });
});

describe('LabelCap', () => {
  it('keeps the first `cap` values and maps later ones to other, forever', () => {
    const c = new LabelCap(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((v) => c.label(v))).toEqual(['a', 'b', OTHER, 'a', OTHER, 'b']);
  });
});

describe('slowlogArgs', () => {
  const b = (...s: string[]) => s.map((x) => Buffer.from(x));
  const texts = (a: Buffer[]) => a.map((x) => x.toString());
  it('cuts arguments at 128 bytes and the list at 32 arguments, as Redis', () => {
    const set = commandTable.get('set')!;
    expect(texts(slowlogArgs(set, b('SET', 'k', 'x'.repeat(130))))).toEqual(['SET', 'k', `${'x'.repeat(128)}... (2 more bytes)`]);
    const mset = commandTable.get('mset')!;
    const many = slowlogArgs(mset, b('MSET', ...Array.from({ length: 40 }, (_, i) => `k${i}`)));
    expect(many.length).toBe(32);
    expect(many[31]!.toString()).toBe('... (10 more arguments)');
    expect(many[30]!.toString()).toBe('k29');
  });
  it('redacts AUTH, HELLO AUTH and ACL SETUSER secrets', () => {
    expect(texts(slowlogArgs(commandTable.get('auth')!, b('AUTH', 'u', 'p')))).toEqual(['AUTH', '(redacted)', '(redacted)']);
    expect(texts(slowlogArgs(commandTable.get('hello')!, b('HELLO', '3', 'AUTH', 'u', 'p', 'SETNAME', 'n')))).toEqual(['HELLO', '3', 'AUTH', '(redacted)', '(redacted)', 'SETNAME', 'n']);
    expect(texts(slowlogArgs(commandTable.get('acl')!, b('ACL', 'SETUSER', 'u', '>p')))).toEqual(['ACL', 'SETUSER', '(redacted)', '(redacted)']);
    expect(texts(slowlogArgs(commandTable.get('acl')!, b('ACL', 'LIST')))).toEqual(['ACL', 'LIST']);
  });
});
