import { describe, expect, it } from 'vitest';
import { E, RespaiError, Tensor, type Value } from '@respai/core';
import { Miss, OverlayKeyspace } from './overlay.js';

const t = (v: number) => Tensor.fromValues('FLOAT', [1], [Buffer.from(String(v))]);

describe('OverlayKeyspace', () => {
  it('serves prefetched values, missing keys and write-only keys; records writes in order', () => {
    const o = new OverlayKeyspace();
    o.put('a', { type: 'tensor', value: t(1) });
    o.put('gone', undefined);
    o.putWriteOnly('out');
    expect(o.getTyped('a', 'tensor')?.view()[0]).toBe(1);
    expect(o.getTyped('gone', 'tensor')).toBeUndefined();
    expect(o.getTyped('out', 'tensor')).toBeUndefined();
    expect(o.has('a')).toBe(true);
    o.set('out', { type: 'tensor', value: t(2) });
    o.set('a', { type: 'tensor', value: t(3) });
    expect([...o.written.keys()]).toEqual(['out', 'a']);
    expect(o.getTyped('out', 'tensor')?.view()[0]).toBe(2);
    expect(o.size).toBe(2);
  });

  it('a key it was not given is a Miss, with the type asked for', () => {
    const o = new OverlayKeyspace();
    const miss = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof Miss ? [e.key, e.type] : e;
      }
      return 'no miss';
    };
    expect(miss(() => o.getTyped('x', 'model'))).toEqual(['x', 'model']);
    expect(miss(() => o.get('y'))).toEqual(['y', undefined]);
    expect(miss(() => o.has('z'))).toEqual(['z', undefined]);
  });

  it('a type alone answers WRONGTYPE for another type, and is a Miss for its own', () => {
    const o = new OverlayKeyspace();
    o.putType('m', 'model');
    expect(() => o.getTyped('m', 'tensor')).toThrow(new RespaiError(E.wrongType));
    expect(() => o.getTyped('m', 'model')).toThrow(Miss);
    expect(() => o.get('m')).toThrow(Miss);
    o.put('s', { type: 'string', value: Buffer.alloc(0) });
    expect(() => o.getTyped('s', 'tensor')).toThrow(new RespaiError(E.wrongType));
  });

  it('close() drops the references it holds', () => {
    let released = 0;
    const model = { release: () => released++ } as unknown as Value['value'];
    const o = new OverlayKeyspace();
    o.put('m', { type: 'model', value: model } as Value);
    o.close();
    expect(released).toBe(1);
  });

  it('what an AI command never does is refused plainly', () => {
    const o = new OverlayKeyspace();
    expect(() => o.rename()).toThrow(/not available on a request overlay/);
    expect(() => o.set('k', { type: 'tensor', value: t(1) }, { expireAt: 1 })).toThrow(/a TTL/);
  });
});
