/**
 * Lists and hashes against a real redis-server 7: the same command sequences (errors included:
 * arity, WRONGTYPE, bad integers, out-of-range indexes) go to both servers and every reply is
 * compared byte for byte, in RESP2 and RESP3.
 */
import { describe, expect, it } from 'vitest';
import { RawClient, type Arg } from './helpers/raw-client.js';
import { hasRedisServer, twinServers } from './helpers/redis-server.js';

/** Commands written as one line each; words split on spaces. */
const cmds = (text: string): Arg[][] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/ +/));

const SCENARIOS: Record<string, Arg[][]> = {
  'push, pop, length': cmds(`
    LPUSH l a b c
    RPUSH l d e
    LLEN l
    LRANGE l 0 -1
    LPOP l
    RPOP l
    LPOP l 2
    RPOP l 5
    LPOP l
    RPOP l
    LPOP l 2
    EXISTS l
    RPUSH l x
    LPOP l 0
    LPOP l -1
    LPOP l abc
    LPOP l 1 2
    RPOP l 1.5
    LPUSHX nolist a
    RPUSHX nolist a
    LPUSHX l y z
    RPUSHX l w
    LRANGE l 0 -1
    LLEN nolist
    LPOP nolist
    LPOP nolist 3
    LPOP nolist 0
    LPUSH
    LPUSH l
    RPUSH l
    LLEN
    LLEN l extra
    TYPE l
  `),
  'ranges and indexes': cmds(`
    RPUSH l 0 1 2 3 4 5 6 7 8 9
    LRANGE l 0 0
    LRANGE l -3 -1
    LRANGE l 5 2
    LRANGE l -100 100
    LRANGE l 9 9
    LRANGE l 10 20
    LRANGE l -1 -3
    LRANGE l 0 -11
    LRANGE l 0 -10
    LRANGE l 0 9223372036854775807
    LRANGE l -9223372036854775808 2
    LRANGE l 0 9223372036854775808
    LRANGE l a 1
    LRANGE l 1 b
    LRANGE l 01 2
    LRANGE l -0 2
    LRANGE l +1 2
    LRANGE nolist 0 -1
    LRANGE nolist x y
    LINDEX l 0
    LINDEX l -1
    LINDEX l 10
    LINDEX l -11
    LINDEX l abc
    LINDEX nolist abc
    LINDEX l 9223372036854775807
    LSET l 0 zero
    LSET l -1 nine
    LSET l 10 x
    LSET l -11 x
    LSET l abc x
    LSET nolist 0 x
    LSET nolist abc x
    LRANGE l 0 -1
  `),
  'LREM and LTRIM': cmds(`
    RPUSH l a b a c a b a
    LREM l 2 a
    LRANGE l 0 -1
    LREM l -1 a
    LRANGE l 0 -1
    LREM l 0 b
    LRANGE l 0 -1
    LREM l 0 zz
    LREM l x a
    LREM nolist 0 a
    LREM l 0 a
    LREM l 0 c
    EXISTS l
    RPUSH l 1 2 3 4 5 6 7 8
    LTRIM l 1 -2
    LRANGE l 0 -1
    LTRIM l -3 100
    LRANGE l 0 -1
    LTRIM l x 1
    LTRIM nolist 0 1
    LTRIM l 2 1
    EXISTS l
    RPUSH l a b c
    LTRIM l 5 10
    EXISTS l
    RPUSH l a b c
    LTRIM l -100 -4
    EXISTS l
  `),
  LPOS: cmds(`
    RPUSH l a b c 1 2 3 c c
    LPOS l c
    LPOS l c RANK 2
    LPOS l c RANK -1
    LPOS l c RANK -3
    LPOS l c RANK 4
    LPOS l c COUNT 0
    LPOS l c COUNT 2
    LPOS l c COUNT 2 RANK 2
    LPOS l c COUNT 0 RANK -1
    LPOS l c MAXLEN 3
    LPOS l c MAXLEN 3 COUNT 0
    LPOS l c RANK -1 MAXLEN 1
    LPOS l c RANK -1 MAXLEN 2 COUNT 0
    LPOS l zz
    LPOS l zz COUNT 1
    LPOS l c RANK 0
    LPOS l c RANK x
    LPOS l c COUNT -1
    LPOS l c COUNT x
    LPOS l c MAXLEN -1
    LPOS l c MAXLEN x
    LPOS l c RANK
    LPOS l c FOO 1
    LPOS l c COUNT 1 COUNT 2
    LPOS nolist c
    LPOS nolist c COUNT 0
    LPOS nolist c RANK 0
    LPOS l
  `),
  'hashes: set, get, delete': cmds(`
    HSET h f1 v1 f2 v2
    HSET h f1 v1b f3 v3
    HGET h f1
    HGET h nofield
    HGET nohash f
    HMGET h f1 nofield f3
    HMGET nohash a b
    HGETALL h
    HKEYS h
    HVALS h
    HLEN h
    HEXISTS h f2
    HEXISTS h zz
    HEXISTS nohash f
    HSTRLEN h f1
    HSTRLEN h zz
    HSTRLEN nohash f
    HDEL h f2 zz f2
    HGETALL h
    HSET h f2 again
    HGETALL h
    HSETNX h f1 x
    HSETNX h f9 x
    HSETNX newh a b
    HGETALL newh
    HMSET h a 1 b 2
    HMSET h a
    HSET h a
    HSET h
    HGET h
    HDEL h
    HDEL nohash a
    HDEL h f1 f2 f3 f9 a b
    EXISTS h
    HGETALL nohash
    HKEYS nohash
    HVALS nohash
    HLEN nohash
    TYPE newh
  `),
  HINCRBY: cmds(`
    HINCRBY h n 5
    HINCRBY h n -7
    HINCRBY h n 0
    HGET h n
    HSET h s abc
    HINCRBY h s 1
    HSET h sp 010
    HINCRBY h sp 1
    HINCRBY h n x
    HINCRBY h n 1.5
    HINCRBY h n 9223372036854775808
    HSET h big 9223372036854775800
    HINCRBY h big 7
    HINCRBY h big 1
    HINCRBY h big -1
    HSET h small -9223372036854775800
    HINCRBY h small -8
    HINCRBY h small -1
    HINCRBY nohash f x
    HINCRBY h n
    HGETALL h
  `),
  HSCAN: cmds(`
    HSET h a 1 b 2 c 3 aa 4 ab 5
    HSCAN h 0
    HSCAN h 0 COUNT 1
    HSCAN h 0 MATCH a*
    HSCAN h 0 MATCH a* COUNT 100
    HSCAN h 0 MATCH *
    HSCAN h 7
    HSCAN h 0 COUNT 0
    HSCAN h 0 COUNT -1
    HSCAN h 0 COUNT x
    HSCAN h 0 FOO bar
    HSCAN h 0 COUNT
    HSCAN h x
    HSCAN h -1
    HSCAN h 18446744073709551616
    HSCAN nohash 0
    HSCAN nohash 0 FOO
    HSCAN nohash x
    HSCAN h
  `),
  'WRONGTYPE across strings, lists and hashes': cmds(`
    SET s v
    RPUSH l a
    HSET h f v
    LPUSH s x
    RPUSH h x
    LPUSHX s x
    LPOP s
    RPOP h 2
    LLEN s
    LRANGE h 0 -1
    LRANGE s x y
    LINDEX s 0
    LINDEX s x
    LSET s 0 x
    LSET h x y
    LREM s 0 x
    LTRIM s 0 1
    LPOS s x
    LPOS s x RANK 0
    HSET s f v
    HSET l f v
    HSETNX l f v
    HGET l f
    HMGET s f
    HGETALL l
    HKEYS s
    HVALS l
    HDEL s f
    HEXISTS l f
    HLEN s
    HSTRLEN l f
    HINCRBY l f 1
    HINCRBY l f x
    HSCAN l 0
    HSCAN l 0 FOO
    HMSET l a b
    GET l
    GET h
    INCR l
    SET l x
    TYPE l
    TYPE h
    TYPE s
  `),
  'keyspace commands on lists and hashes': cmds(`
    RPUSH l a b
    HSET h f v
    EXPIRE l 100
    TTL l
    RPUSH l c
    TTL l
    LPOP l 3
    EXISTS l
    TTL l
    RENAME h h2
    HGETALL h2
    DEL h2
    EXISTS h2
    RPUSH l 1
    HSET h f v
    SCAN 0 TYPE list
    SCAN 0 TYPE hash
    DBSIZE
    PERSIST l
    TTL l
  `),
};

const run = hasRedisServer ? describe : describe.skip;

run('lists and hashes: replies equal redis-server 7', () => {
  const twins = twinServers();


  for (const proto of [2, 3] as const) {
    for (const [name, commands] of Object.entries(SCENARIOS)) {
      it(`RESP${proto}: ${name}`, async () => {
        expect(await twins.differences([['FLUSHALL'], ['HELLO', proto, 'SETNAME', 'x']].map((c) => c) as Arg[][]).then((d) => d.filter((l) => !l.startsWith('HELLO')))).toEqual([]);
        expect(await twins.differences(commands)).toEqual([]);
      });
    }
  }

  it('binary-safe elements, fields and values (NUL, CR LF, high bytes)', async () => {
    const bin = Buffer.from([0, 13, 10, 255, 128, 36, 42]);
    const diffs = await twins.differences([
      ['FLUSHALL'],
      ['RPUSH', 'l', bin, Buffer.alloc(0), bin],
      ['LRANGE', 'l', 0, -1],
      ['LPOS', 'l', bin, 'COUNT', 0],
      ['LREM', 'l', 1, bin],
      ['HSET', 'h', bin, bin, Buffer.alloc(0), 'empty'],
      ['HGETALL', 'h'],
      ['HGET', 'h', Buffer.alloc(0)],
      ['HSTRLEN', 'h', bin],
      ['HSCAN', 'h', 0, 'MATCH', Buffer.from([0, 42])],
    ]);
    expect(diffs).toEqual([]);
  });

  it('large lists and hashes: LRANGE slices, LTRIM, HLEN; HGETALL and HSCAN hold the same pairs', async () => {
    const n = 1000;
    const items = Array.from({ length: n }, (_, i) => `item-${i}`);
    const diffs = await twins.differences([
      ['FLUSHALL'],
      ['RPUSH', 'l', ...items],
      ['LPUSH', 'l', ...items.slice(0, 300)],
      ['LRANGE', 'l', 250, 400],
      ['LRANGE', 'l', -20, -1],
      ['LINDEX', 'l', 777],
      ['LTRIM', 'l', 100, -100],
      ['LLEN', 'l'],
      ['LPOP', 'l', 150],
      ['RPOP', 'l', 150],
      ['LRANGE', 'l', 0, -1],
      ['LPOS', 'l', 'item-500', 'RANK', -1, 'COUNT', 0],
      ['HSET', 'h', ...items.flatMap((x) => [x, x.toUpperCase()])],
      ['HLEN', 'h'],
      ['HGET', 'h', 'item-999'],
      ['HDEL', 'h', ...items.slice(0, 400)],
      ['HLEN', 'h'],
    ]);
    expect(diffs).toEqual([]);
    // A large hash's order is Redis's hash table order: compare as sets.
    const pairs = (flat: Buffer[]) => {
      const out: string[] = [];
      for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}=${flat[i + 1]}`);
      return out.sort();
    };
    const parse = (reply: string) => reply.split('\r\n').filter((l) => l !== '' && !/^[*$%]/.test(l)).map((l) => Buffer.from(l));
    expect(pairs(parse(await twins.respai.call('HGETALL', 'h')))).toEqual(pairs(parse(await twins.redis.call('HGETALL', 'h'))));
    async function scanAll(c: RawClient): Promise<string[]> {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const r = (await c.call('HSCAN', 'h', cursor, 'COUNT', 37)).split('\r\n');
        cursor = r[2]!;
        const flat = r.slice(4).filter((l) => l !== '' && !l.startsWith('$') && !l.startsWith('*'));
        for (let i = 0; i < flat.length; i += 2) seen.add(`${flat[i]}=${flat[i + 1]}`);
      } while (cursor !== '0');
      return [...seen].sort();
    }
    expect(await scanAll(twins.respai)).toEqual(await scanAll(twins.redis));
  });
});
