import { describe, expect, it } from 'vitest';
import { StoreError, StoreErrorReply, VerbatimString } from '@respai/keyspace-redis';
import { BoolReply, ErrorReply, MapReply, SetReply, SimpleString, VerbatimReply } from '../resp/reply.js';
import { commandTable } from '../commands/index.js';
import { routeKey, toReply } from './forward.js';

describe('toReply: a store reply (RESP3, decoded with FORWARD_TYPES) as respai replies', () => {
  it('keeps every type apart', () => {
    expect(toReply(Buffer.from('bulk'))).toEqual(Buffer.from('bulk'));
    expect(toReply('OK')).toEqual(new SimpleString('OK'));
    expect(toReply('42')).toBe(42);
    expect(toReply('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(toReply(null)).toBe(null);
    expect(toReply([Buffer.from('a'), '1', null])).toEqual([Buffer.from('a'), 1, null]);
    expect(toReply(new Map([[Buffer.from('f'), Buffer.from('v')]]))).toEqual(new MapReply([[Buffer.from('f'), Buffer.from('v')]]));
    expect(toReply(new Set([Buffer.from('m')]))).toEqual(new SetReply([Buffer.from('m')]));
    expect(toReply(true)).toEqual(new BoolReply(true));
    const v = new VerbatimString('txt', 'hello');
    expect(toReply(v)).toEqual(new VerbatimReply('txt', 'hello'));
    expect(toReply(new StoreErrorReply('WRONGTYPE x'))).toEqual(new ErrorReply('WRONGTYPE x'));
    expect(toReply([new StoreError('ERR y')])).toEqual([new ErrorReply('ERR y')]);
  });
});

describe('routeKey', () => {
  const argv = (...a: string[]) => a.map((s) => Buffer.from(s));
  it('routes by the first key, EVAL by its first declared key, keyless commands nowhere', () => {
    expect(routeKey(commandTable.get('get')!, argv('GET', 'k'))?.toString()).toBe('k');
    expect(routeKey(commandTable.get('mset')!, argv('MSET', 'a', '1', 'b', '2'))?.toString()).toBe('a');
    expect(routeKey(commandTable.get('eval')!, argv('EVAL', 's', '1', 'k', 'arg'))?.toString()).toBe('k');
    expect(routeKey(commandTable.get('eval')!, argv('EVAL', 's', '0'))).toBeUndefined();
    expect(routeKey(commandTable.get('ping')!, argv('PING'))).toBeUndefined();
  });
});
