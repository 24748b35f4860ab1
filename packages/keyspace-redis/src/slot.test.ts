import { describe, expect, it } from 'vitest';
import { keySlot, sameSlot } from './slot.js';

describe('keySlot', () => {
  // Values from Redis's CLUSTER KEYSLOT (the cluster spec's examples and redis-cli).
  it.each([
    ['123456789', 12739],
    ['foo', 12182],
    ['bar', 5061],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['', 0],
  ])('%j is in slot %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('reads string keys as latin1 bytes', () => {
    expect(keySlot('\xff')).toBe(keySlot(Buffer.from([0xff])));
  });

  it('groups keys by hash tag', () => {
    expect(sameSlot(['a{1}', 'b{1}', '{1}'])).toBe(true);
    expect(sameSlot(['a', 'b'])).toBe(false);
    expect(sameSlot([])).toBe(true);
  });
});
