import { describe, expect, it } from 'vitest';
import { RespaiError } from '../errors.js';
import { deviceText, parseDevice } from './device.js';

describe('parseDevice', () => {
  it.each([
    ['CPU', 'CPU', undefined, 'CPU'],
    ['cpu', 'CPU', undefined, 'CPU'],
    ['Gpu', 'GPU', undefined, 'GPU'],
    ['CPU:0', 'CPU', 0, 'CPU:0'],
    ['cpu:1', 'CPU', 1, 'CPU:1'],
    ['gPu:7', 'GPU', 7, 'GPU:7'],
    ['GPU:12345', 'GPU', 12345, 'GPU:12345'],
    ['CPU:01', 'CPU', 1, 'CPU:1'],
  ] as const)('%s -> %s index %s, canonical %s', (arg, type, index, name) => {
    const d = parseDevice(arg);
    expect({ type: d.type, index: d.index, name: d.name }).toEqual({ type, index, name });
    // Replies return the device as written.
    expect(deviceText(d)).toBe(arg);
  });

  it.each(['', 'TPU', 'CPU:', 'CPU:-1', 'CPU:123456', 'GPU:123456789', 'CPU:1.5', 'CPU:1234567890', ' CPU', 'CPU ', 'CPU:1:2', 'CPUX', 'cpu:a', 'CPU：1', 'GPU:+1'])(
    'refuses %j with ERR Invalid DEVICE',
    (arg) => {
      expect(() => parseDevice(arg)).toThrow(new RespaiError('ERR Invalid DEVICE'));
      try {
        parseDevice(arg);
      } catch (e) {
        expect(RespaiError.isInstance(e)).toBe(true);
        expect((e as Error).message).toBe('ERR Invalid DEVICE');
      }
    },
  );
});
