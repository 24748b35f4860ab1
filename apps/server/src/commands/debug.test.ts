import { E, MemoryKeyspace, Tensor } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { datasetDigest, debug, valueDigest } from './debug.js';
import { args, errorOf, pctx } from './test-helpers.js';

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
    expect(errorOf(() => debug.parse(args('segfault'), pctx))).toBe(E.subcommandOrArity('segfault', 'debug'));
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
  it('matches redis-server 7 for strings, with and without an expiry', () => {
    // Computed by redis-server 7.0.15: SET foo bar; DEBUG DIGEST-VALUE foo; DEBUG DIGEST;
    // SET n 12345; EXPIRE n 1000; DEBUG DIGEST-VALUE n; DEBUG DIGEST.
    const a = ks();
    a.set('foo', { type: 'string', value: Buffer.from('bar') });
    expect(valueDigest(a, 'foo', 1024)).toBe('68467c70ae30376e7ce005bcc8827f5ba7fd67dc');
    expect(datasetDigest(a, 1024)).toBe('d2ab4820c1be0580ea28efbfe8bfa1dc05bb802a');
    a.set('n', { type: 'string', value: Buffer.from('12345') }, { expireAt: Date.now() + 1_000_000 });
    expect(valueDigest(a, 'n', 1024)).toBe('074a6e8892a0b0b4fcf085794cb69322c36c9d00');
    expect(datasetDigest(a, 1024)).toBe('8642e4878ba9bfbee925cb8441ceb4037b4374bf');
  });
});
