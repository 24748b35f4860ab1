import { Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { del } from './del.js';
import { unlink } from './unlink.js';
import { args, fakeCtx, pctx, setStr } from './test-helpers.js';

// UNLINK is DEL under another name.
describe.each([del, unlink])('$name', (command) => {
  it('parses every key binary-safely', () => {
    expect(command.parse(args('a', 'b', 'a'), pctx)).toEqual(['a', 'b', 'a']);
    expect(command.parse([Buffer.from([0xff, 0])], pctx)).toEqual(['\u00ff\u0000']);
  });

  it('deletes keys of any type and counts those that existed (a repeat only once)', () => {
    const ctx = fakeCtx();
    setStr(ctx, 'a', '1');
    setStr(ctx, 'b', '2');
    ctx.keyspace.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [1]) });
    expect(command.execute(ctx, command.parse(args('a', 'a', 'missing', 't'), pctx))).toBe(2);
    expect(ctx.keyspace.has('a')).toBe(false);
    expect(ctx.keyspace.has('t')).toBe(false);
    expect(ctx.keyspace.has('b')).toBe(true);
    expect(command.execute(ctx, command.parse(args('a'), pctx))).toBe(0);
  });
});
