/**
 * Fuzzing lists, hashes and EVAL against a real redis-server 7: seeded random commands with random
 * arguments (wrong arities, bad and extreme integers, binary values, keys of every type) go to
 * both servers; every reply must be byte for byte the same and respai must stay up. Hashes stay
 * small (listpack-sized in Redis) so that field order is comparable too.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '@respai/core/fuzz';
import { RawClient, type Arg } from './helpers/raw-client.js';
import { hasRedisServer, twinServers } from './helpers/redis-server.js';

/** A seeded generator, so a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const KEYS = ['l1', 'l2', 'h1', 'h2', 's1', 'missing', 'x{t}'];
const FIELDS = ['f1', 'f2', 'f3', 'a', 'b', 'n', 'ab', ''];
const VALUES = ['v', 'a', 'b', '1', '0', '-7', '10', 'x y', '', '\u0000\r\n', '9223372036854775807'];
const INTS = ['0', '1', '-1', '2', '3', '-2', '5', '-5', '100', '-100', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '01', '-0', '1.5', 'abc', '', ' 1', '+1'];

function fuzzCommand(r: () => number): Arg[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const some = <T>(xs: readonly T[], max: number): T[] => Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(xs));
  const key = pick(KEYS);
  const table: (() => Arg[])[] = [
    () => ['LPUSH', key, ...some(VALUES, 4)],
    () => ['RPUSH', key, ...some(VALUES, 4)],
    () => [pick(['LPUSHX', 'RPUSHX']), key, ...some(VALUES, 2)],
    () => [pick(['LPOP', 'RPOP']), key, ...some(INTS, 2)],
    () => ['LLEN', key, ...(r() < 0.1 ? ['x'] : [])],
    () => ['LRANGE', key, pick(INTS), pick(INTS)],
    () => ['LINDEX', key, pick(INTS)],
    () => ['LSET', key, pick(INTS), pick(VALUES)],
    () => ['LREM', key, pick(INTS), pick(VALUES)],
    () => ['LTRIM', key, pick(INTS), pick(INTS)],
    () => ['LPOS', key, pick(VALUES), ...some(['RANK', 'COUNT', 'MAXLEN', ...INTS], 4)],
    () => ['HSET', key, ...some(FIELDS.flatMap((f) => [f, pick(VALUES)]), 5)],
    () => ['HMSET', key, ...some(FIELDS, 4)],
    () => ['HSETNX', key, pick(FIELDS), pick(VALUES)],
    () => ['HGET', key, pick(FIELDS)],
    () => ['HMGET', key, ...some(FIELDS, 3)],
    () => [pick(['HGETALL', 'HKEYS', 'HVALS', 'HLEN']), key],
    () => ['HDEL', key, ...some(FIELDS, 3)],
    () => [pick(['HEXISTS', 'HSTRLEN']), key, pick(FIELDS)],
    () => ['HINCRBY', key, pick(FIELDS), pick(INTS)],
    () => ['HSCAN', key, pick(['0', '1', 'x', '-1']), ...some(['COUNT', 'MATCH', '*', 'f*', ...INTS], 3)],
    () => ['SET', key, pick(VALUES)],
    () => ['GET', key],
    () => ['INCR', key],
    () => ['DEL', key, ...some(KEYS, 2)],
    () => ['EXISTS', key],
    () => ['TYPE', key],
    () => ['EXPIRE', key, pick(['100', '1000', '-1', 'x'])],
    () => ['PERSIST', key],
    () => ['RENAME', key, pick(KEYS)],
    // EVAL: the same random command from inside a script, through pcall, with its result returned.
    () => {
      const inner = fuzzCommand(r).filter((a) => typeof a === 'string') as string[];
      const lit = (s: string) => `'${[...Buffer.from(s, 'latin1')].map((c) => `\\${c}`).join('')}'`;
      return ['EVAL', `return redis.pcall(${inner.map(lit).join(', ')})`, 0];
    },
    () => ['EVAL', `local n = 0 for i = 1, #KEYS do n = n + redis.call('EXISTS', KEYS[i]) end return {n, ARGV[1], type(tonumber(ARGV[2]))}`, pick(['0', '1', '2', '-1', '9']), ...some(KEYS, 3), ...some(INTS, 2)],
    () => ['EVALSHA', pick(['fd758d1589d044dd850a6f05d52f2eefd27f033f', 'nope', '']), pick(INTS), ...some(KEYS, 2)],
  ];
  return pick(table)();
}

function seeds(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [lo, hi] = part.split('-').map(Number);
    return Array.from({ length: (hi ?? lo!) - lo! + 1 }, (_, i) => lo! + i);
  });
}

const run = hasRedisServer ? describe : describe.skip;

run('fuzzing lists, hashes and EVAL against redis-server 7', () => {
  const twins = twinServers();

  // FUZZ_SEEDS=1-200 runs more (a range or a comma list).
  for (const seed of seeds(process.env['FUZZ_SEEDS'] ?? '1-4')) {
    it(`seed ${seed}: 1500 random commands, identical replies, server alive`, async () => {
      const r = prng(seed);
      await Promise.all([twins.redis.call('FLUSHALL'), twins.respai.call('FLUSHALL')]);
      const proto = seed % 2 === 0 ? 3 : 2;
      await Promise.all([twins.redis.call('HELLO', proto), twins.respai.call('HELLO', proto)]);
      const diffs: string[] = [];
      for (let i = 0; i < 1500 && diffs.length < 5; i++) {
        const c = fuzzCommand(r);
        const [x, y] = await Promise.all([twins.redis.call(...c), twins.respai.call(...c)]);
        if (x !== y) diffs.push(`#${i} ${JSON.stringify(c)}\n  redis:  ${JSON.stringify(x)}\n  respai: ${JSON.stringify(y)}`);
      }
      expect(diffs).toEqual([]);
      expect(await twins.respai.call('PING')).toBe('+PONG\r\n');
      expect(twins.respaiServer.proc.exitCode).toBeNull();
      // The final keyspaces hold the same keys with the same contents.
      for (const k of KEYS) {
        const dump = async (c: RawClient) => {
          const t = await c.call('TYPE', k);
          if (t === '+list\r\n') return t + (await c.call('LRANGE', k, 0, -1));
          if (t === '+hash\r\n') return t + (await c.call('HGETALL', k));
          if (t === '+string\r\n') return t + (await c.call('GET', k));
          return t;
        };
        expect(await dump(twins.respai)).toBe(await dump(twins.redis));
      }
    }, 120_000);
  }
});
