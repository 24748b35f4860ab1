import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeMutation, type Mutation } from '../persistence/format.js';
import { Staging } from '../persistence/restore.js';
import { DurableKeyspace } from '../persistence/durable.js';
import type { Change } from './collections.js';
import { ListValue } from './list.js';
import { MemoryKeyspace } from './memory.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const strs = (xs: readonly Buffer[]) => xs.map((x) => x.toString('latin1'));

describe('ListValue', () => {
  it('pushes and pops at both ends across ring-buffer growth and shrinking', () => {
    const l = new ListValue();
    const model: string[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) (l.pushHead(b(`h${i}`)), model.unshift(`h${i}`));
      else (l.pushTail(b(`t${i}`)), model.push(`t${i}`));
    }
    expect(strs(l.toArray())).toEqual(model);
    expect(strs(l.popHead(5))).toEqual(model.splice(0, 5));
    expect(strs(l.popTail(3))).toEqual(model.splice(-3).reverse());
    expect(strs(l.popHead(250))).toEqual(model.splice(0, 250));
    expect(strs(l.toArray())).toEqual(model);
    expect(l.at(0).toString()).toBe(model[0]);
  });

  it('LREM semantics: from the head, from the tail, all', () => {
    const mk = () => new ListValue(['a', 'b', 'a', 'c', 'a'].map(b));
    let l = mk();
    expect(l.remove(2, b('a'))).toBe(2);
    expect(strs(l.toArray())).toEqual(['b', 'c', 'a']);
    l = mk();
    expect(l.remove(-1, b('a'))).toBe(1);
    expect(strs(l.toArray())).toEqual(['a', 'b', 'a', 'c']);
    l = mk();
    expect(l.remove(0, b('a'))).toBe(3);
    expect(strs(l.toArray())).toEqual(['b', 'c']);
  });
});

describe('Keyspace.apply', () => {
  it('creates on push / HSET, keeps the TTL, deletes when emptied, refuses other types', () => {
    const ks = new MemoryKeyspace({ activeExpiryMs: 0 });
    expect(ks.apply('l', { kind: 'lpop', count: 1 })).toEqual({ n: 0, changed: false });
    expect(ks.has('l')).toBe(false);
    expect(ks.apply('l', { kind: 'rpush', items: [b('x'), b('y')] }).n).toBe(2);
    ks.setExpiry('l', Date.now() + 100_000);
    ks.apply('l', { kind: 'lpush', items: [b('w')] });
    expect(ks.ttl('l')).toBeGreaterThan(90_000);
    expect(strs(ks.apply('l', { kind: 'rpop', count: 5 }).popped!)).toEqual(['y', 'x', 'w']);
    expect(ks.has('l')).toBe(false);
    ks.set('s', { type: 'string', value: b('v') });
    expect(() => ks.apply('s', { kind: 'hset', fields: ['f'], values: [b('v')] })).toThrow(/WRONGTYPE/);
    ks.apply('h', { kind: 'hset', fields: ['f'], values: [b('v')] });
    expect(() => ks.apply('h', { kind: 'rpush', items: [b('x')] })).toThrow(/WRONGTYPE/);
    expect(ks.apply('h', { kind: 'hdel', fields: ['f', 'g'] }).n).toBe(1);
    expect(ks.has('h')).toBe(false);
  });
});

describe('persistence of lists and hashes', () => {
  const changes: Change[] = [
    { kind: 'rpush', items: [b('a'), b('b'), Buffer.alloc(600, 7), b('c'), b('d')] },
    { kind: 'lpush', items: [b('z')] },
    { kind: 'lpop', count: 1 },
    { kind: 'rpop', count: 1 },
    { kind: 'lset', index: 1, item: b('B') },
    { kind: 'lrem', count: -1, item: b('a') },
    { kind: 'ltrim', head: 0, tail: 1 },
  ];

  it('every mutation record round-trips through its bytes', () => {
    const ms: Mutation[] = [
      ...changes.map((change) => ({ op: 'change' as const, key: 'l\u00ff', change })),
      { op: 'change', key: 'h', change: { kind: 'hset', fields: ['f\u0000', ''], values: [b('1'), Buffer.alloc(0)] } },
      { op: 'change', key: 'h', change: { kind: 'hdel', fields: ['f\u0000'] } },
      { op: 'set', key: 'L', value: { type: 'list', value: new ListValue([b('x'), b('y')]) }, expireAt: 123 },
      { op: 'set', key: 'H', value: { type: 'hash', value: new Map([['k', b('v')]]) }, expireAt: 0 },
    ];
    for (const m of ms) {
      const f = encodeMutation(m, 1024);
      const body = Buffer.concat(f.parts).subarray(12, -4);
      expect(decodeRecord(body)).toEqual(m);
    }
  });

  it('replaying what a DurableKeyspace reported rebuilds the same values', () => {
    const log: Mutation[] = [];
    const ks = new DurableKeyspace(new MemoryKeyspace({ activeExpiryMs: 0 }), { mutated: (m) => log.push(m) });
    for (const c of changes) ks.apply('l', c);
    ks.apply('h', { kind: 'hset', fields: ['a', 'b'], values: [b('1'), b('2')] });
    ks.apply('h', { kind: 'hdel', fields: ['a', 'zz'] });
    ks.apply('gone', { kind: 'rpush', items: [b('x')] });
    ks.apply('gone', { kind: 'lpop', count: 1 });
    ks.apply('noop', { kind: 'lpop', count: 1 });
    expect(log.some((m) => m.op === 'change' && m.key === 'noop')).toBe(false);
    const st = new Staging();
    for (const m of log) st.apply(decodeRecord(Buffer.concat(encodeMutation(m, 1024).parts).subarray(12, -4)));
    const l = ks.getTyped('l', 'list')!;
    expect(strs((st.entries.get('l')!.value.value as ListValue).toArray())).toEqual(strs(l.toArray()));
    expect(st.entries.get('h')!.value.value).toEqual(ks.getTyped('h', 'hash'));
    expect(st.entries.has('gone')).toBe(false);
  });
});
