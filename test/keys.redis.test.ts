/**
 * Key patterns and SCAN cursors against a real redis-server 7: the same keys go to both servers,
 * then KEYS, SCAN MATCH and HSCAN MATCH with hand-picked and seeded random glob patterns (classes,
 * ranges, escapes, stray `]` and `-`, high bytes, the empty key) must select the same keys, and
 * SCAN's cursor and COUNT arguments must be accepted or refused alike, with the same error text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, replyEnd, type Arg } from './helpers/raw-client.js';
import { hasRedisServer, startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { startServer, type RunningServer } from './helpers/server.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The bulk strings of a flat RESP array reply, sorted (hash order is Redis's own). */
function sortedItems(raw: string): string[] {
  const buf = bytes(raw);
  if (raw[0] !== '*') throw new Error(`not an array: ${JSON.stringify(raw.slice(0, 80))}`);
  const out: string[] = [];
  let pos = buf.indexOf(10) + 1;
  while (pos < buf.length) {
    const end = replyEnd(buf, pos);
    const lf = buf.indexOf(10, pos);
    out.push(buf.toString('latin1', lf + 1, end - 2));
    pos = end;
  }
  return out.sort();
}

/** A seeded generator (mulberry32), so a failure names a pattern that can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_CHARS = ['a', 'b', 'A', 'z', '-', ']', '[', '^', '_', '`', '\\', '*', '?', '\x00', '\x01', '\x7f', '\x80', '\xc0', '\xff'];
const PATTERN_CHARS = ['a', 'b', 'A', '-', ']', '[', '^', '\\', '*', '?', '\x80', '\xff', 'z'];

function randomString(next: () => number, chars: readonly string[], maxLen: number): string {
  let s = '';
  for (let n = Math.floor(next() * (maxLen + 1)); n > 0; n--) s += chars[Math.floor(next() * chars.length)]!;
  return s;
}

const FIXED_KEYS = ['', 'a', 'b', ']', '^', '_', '`', '-', 'ba', '-a', 'ab', 'abc', 'a]b', '\\', '[', 'A', 'Z', 'z', '\x00', '\x01', '\x7f', '\x80', '\xc0', '\xff', 'h\xe9llo', 'user:1:name', 'user:22:age'];
const FIXED_PATTERNS = [
  '*', '**', '', '?', '??', '[b-]a', '[b-]', '[a-', '[a-\xff]', '[\x80-\xff]', '[z-a]', '[Z-a]', '[^a]', '[^', '[', '[]', '[]a]',
  '[\\]]', '[\\-]', '[a\\-z]', '\\', 'a\\', '\\*', '\\a', '[abc', 'a[', ']', '*[b-]*', 'user:*:name', '*:*', '[^0-9]*', 'h[^e]llo',
  '*\\', '[\\', '[a-]', '[-a]', '[--]', '[^-]', '[\xff-\x80]', '[\x01-\x80]',
];

const run = hasRedisServer ? describe : describe.skip;

run('key patterns and SCAN arguments: replies equal redis-server 7', () => {
  let redis: RedisServer;
  let respai: RunningServer;
  let a: RawClient;
  let b: RawClient;

  const next = rng(22);
  const keys = [...new Set([...FIXED_KEYS, ...Array.from({ length: 200 }, () => randomString(next, KEY_CHARS, 4))])];
  const patterns = [...FIXED_PATTERNS, ...Array.from({ length: 2500 }, () => randomString(next, PATTERN_CHARS, 6))];

  beforeAll(async () => {
    [redis, respai] = await Promise.all([startRedisServer(), startServer()]);
    [a, b] = await Promise.all([RawClient.connect(redis.port), RawClient.connect(respai.port)]);
    for (const c of [a, b]) {
      expect(await c.call('MSET', ...keys.flatMap((k) => [bytes(k), 'v']))).toBe('+OK\r\n');
      // Small: both servers return the whole hash in one HSCAN page.
      expect(await c.call('HSET', 'h', ...keys.slice(0, 60).flatMap((k) => [bytes(k), 'v']))).toBe(':60\r\n');
    }
  }, 30_000);

  afterAll(async () => {
    a?.close();
    b?.close();
    await Promise.all([redis?.stop(), respai?.stop()]);
  });

  /** For each command, both servers' replies made comparable by `view`; the differing ones. */
  async function differences(commands: Arg[][], view: (raw: string) => unknown): Promise<string[]> {
    const diffs: string[] = [];
    const replies = await Promise.all(commands.map((c) => Promise.all([a.call(...c), b.call(...c)])));
    replies.forEach(([x, y], i) => {
      const [vx, vy] = [JSON.stringify(view(x)), JSON.stringify(view(y))];
      if (vx !== vy) diffs.push(`${JSON.stringify(commands[i]!.map(String))}\n  redis:  ${vx}\n  respai: ${vy}`);
    });
    return diffs;
  }

  it(`KEYS selects the same keys for ${patterns.length} patterns`, async () => {
    expect(await differences(patterns.map((p) => ['KEYS', bytes(p)]), sortedItems)).toEqual([]);
  });

  it('SCAN MATCH and HSCAN MATCH select the same keys and fields', async () => {
    const some = patterns.slice(0, 600);
    // COUNT past the key count: one page, the whole keyspace, cursor 0 on both.
    const page = (raw: string) => {
      const buf = bytes(raw);
      const cursorEnd = replyEnd(buf, buf.indexOf(10) + 1);
      return [buf.toString('latin1', 0, cursorEnd), sortedItems(buf.toString('latin1', cursorEnd))];
    };
    expect(await differences(some.map((p) => ['SCAN', '0', 'MATCH', bytes(p), 'COUNT', '100000']), page)).toEqual([]);
    // HSCAN replies field, value pairs: with every value 'v', sorted items compare the fields.
    expect(await differences(some.map((p) => ['HSCAN', 'h', '0', 'MATCH', bytes(p)]), page)).toEqual([]);
  });

  it('SCAN cursors and COUNTs are accepted or refused alike, with the same error', async () => {
    // An accepted cursor replies some page (where it lands depends on each server's table): compare
    // accepted vs refused, and the error texts.
    const outcome = (raw: string) => (raw.startsWith('-') ? raw : 'a page');
    const cursors = ['0', '-1', '+1', '', '007', '18446744073709551615', '18446744073709551616', '-18446744073709551615',
      '-18446744073709551616', '-', '+', ' 1', '1 ', '\t1', '0x10', '1.5', 'abc', '99999999999999999999', '-0'];
    const counts = ['1', '0', '-1', '9223372036854775807', '9223372036854775808', '+5', '05', '1.5', 'x', ''];
    const commands: Arg[][] = [
      ...cursors.map((c) => ['SCAN', c]),
      ...cursors.map((c) => ['HSCAN', 'h', c]),
      ...counts.map((n) => ['SCAN', '0', 'COUNT', n]),
      ...counts.map((n) => ['HSCAN', 'h', '0', 'COUNT', n]),
      ['SCAN', 'x', 'COUNT', 'y'],
      ['SCAN', '0', 'COUNT'],
      ['SCAN', '0', 'MATCH'],
      ['SCAN', '0', 'NOPE', '1'],
    ];
    expect(await differences(commands, outcome)).toEqual([]);
  });
});
