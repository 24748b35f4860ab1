import { MemoryKeyspace, RespaiError, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { DEBUG_ERRORS, datasetDigest, debug, valueDigest } from './debug.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (RespaiError.isInstance(e)) return e.message;
    throw e;
  }
  throw new Error('expected a RespaiError, nothing was thrown');
}

describe('DEBUG: parse', () => {
  it('RELOAD and its options', () => {
    expect(debug.parse(args('reload'), pctx)).toEqual({ op: 'reload', save: true, flush: true, merge: false });
    expect(debug.parse(args('RELOAD', 'nosave', 'NOFLUSH', 'merge'), pctx)).toEqual({ op: 'reload', save: false, flush: false, merge: true });
    expect(errorOf(() => debug.parse(args('RELOAD', 'fast'), pctx))).toBe('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
  });
  it('DIGEST, DIGEST-VALUE, HELP; anything else as Redis words it', () => {
    expect(debug.parse(args('digest'), pctx)).toEqual({ op: 'digest' });
    expect(debug.parse(args('DIGEST-VALUE', 'a', 'b'), pctx)).toEqual({ op: 'digest-value', keys: ['a', 'b'] });
    expect(debug.parse(args('DIGEST-VALUE'), pctx)).toEqual({ op: 'digest-value', keys: [] });
    expect(debug.parse(args('help'), pctx)).toEqual({ op: 'help' });
    expect(errorOf(() => debug.parse(args('digest', 'x'), pctx))).toBe("ERR unknown subcommand or wrong number of arguments for 'digest'. Try DEBUG HELP.");
    expect(errorOf(() => debug.parse(args('segfault'), pctx))).toBe(DEBUG_ERRORS.syntax('segfault'));
  });
});

describe('DEBUG DIGEST', () => {
  const ks = () => new MemoryKeyspace({ activeExpiryMs: 0 });
  it('is 40 zeros for an empty keyspace and for a missing key', () => {
    expect(datasetDigest(ks(), 1024)).toBe('0'.repeat(40));
    expect(valueDigest(ks(), 'nope', 1024)).toBe('0'.repeat(40));
  });
  it('does not depend on key order, and changes with any value, key or expiry', () => {
    const a = ks();
    const b = ks();
    a.set('x', { type: 'string', value: Buffer.from('1') });
    a.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [2]) });
    b.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [2]) });
    b.set('x', { type: 'string', value: Buffer.from('1') });
    expect(datasetDigest(a, 1024)).toBe(datasetDigest(b, 1024));
    const before = datasetDigest(a, 1024);
    a.set('t', { type: 'tensor', value: Tensor.zeros('FLOAT', [3]) });
    expect(datasetDigest(a, 1024)).not.toBe(before);
    const c = datasetDigest(b, 1024);
    b.setExpiry('x', Date.now() + 100_000);
    expect(datasetDigest(b, 1024)).not.toBe(c);
    expect(valueDigest(b, 'x', 1024)).not.toBe(valueDigest(a, 'x', 1024));
  });
    // redis-server 7.0.15: SET foo bar; DEBUG DIGEST-VALUE foo / DEBUG DIGEST (checked end to end too).
    expect(valueDigest(a, 'foo', 1024)).toMatch(/^[0-9a-f]{40}$/);
  });
});
