import { describe, expect, it } from 'vitest';
import { dbsize } from './dbsize.js';
import { fakeCtx, setStr } from './test-helpers.js';

describe('DBSIZE', () => {
  it('takes no arguments and replies the number of live keys', () => {
    const ctx = fakeCtx();
    expect(dbsize.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    expect(dbsize.execute(ctx, undefined)).toBe(0);
    setStr(ctx, 'a', '1');
    setStr(ctx, 'b', '1');
    expect(dbsize.execute(ctx, undefined)).toBe(2);
  });
});
