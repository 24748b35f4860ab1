/**
 * Key patterns and SCAN cursors against a real redis-server 7: the same keys go to both servers,
 * then KEYS, SCAN MATCH and HSCAN MATCH with hand-picked and seeded random glob patterns (classes,
 * ranges, escapes, stray `]` and `-`, high bytes, the empty key) must select the same keys, and
 * SCAN's cursor and COUNT arguments must be accepted or refused alike, with the same error text.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@respai/core/fuzz';
import { replyEnd, type Arg } from './helpers/raw-client.js';
import { hasRedisServer, twinServers } from './helpers/redis-server.js';

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

const KEY_CHARS = ['a', 'b', 'A', 'z', '-', ']', '[', '^', '_', '`', '\\', '*', '?', '\x00', '\x01', '\x7f', '\x80', '\xc0', '\xff'];
const PATTERN_CHARS = ['a', 'b', 'A', '-', ']', '[', '^', '\\', '*', '?', '\x80', '\xff', 'z'];

function randomString(r: Rng, chars: readonly string[], maxLen: number): string {
  let s = '';
  for (let n = r.int(maxLen + 1); n > 0; n--) s += r.pick(chars);
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
  const twins = twinServers();
  // Seeded: a failure names a pattern that reruns.
  const r = new Rng(22);
  const keys = [...new Set([...FIXED_KEYS, ...Array.from({ length: 200 }, () => randomString(r, KEY_CHARS, 4))])];
  const patterns = [...FIXED_PATTERNS, ...Array.from({ length: 2500 }, () => randomString(r, PATTERN_CHARS, 6))];

  beforeAll(async () => {
    for (const c of [twins.redis, twins.respai]) {
      expect(await c.call('MSET', ...keys.flatMap((k) => [bytes(k), 'v']))).toBe('+OK\r\n');
      // Small: both servers return the whole hash in one HSCAN page.
      expect(await c.call('HSET', 'h', ...keys.slice(0, 60).flatMap((k) => [bytes(k), 'v']))).toBe(':60\r\n');
    }
  });

  it(`KEYS selects the same keys for ${patterns.length} patterns`, async () => {
    expect(await twins.differences(patterns.map((p) => ['KEYS', bytes(p)]), sortedItems)).toEqual([]);
  });

  it('SCAN MATCH and HSCAN MATCH select the same keys and fields', async () => {
    const some = patterns.slice(0, 600);
    // COUNT past the key count: one page, the whole keyspace, cursor 0 on both.
    const page = (raw: string) => {
      const buf = bytes(raw);
      const cursorEnd = replyEnd(buf, buf.indexOf(10) + 1);
      return [buf.toString('latin1', 0, cursorEnd), sortedItems(buf.toString('latin1', cursorEnd))];
    };
    expect(await twins.differences(some.map((p) => ['SCAN', '0', 'MATCH', bytes(p), 'COUNT', '100000']), page)).toEqual([]);
    // HSCAN replies field, value pairs: with every value 'v', sorted items compare the fields.
    expect(await twins.differences(some.map((p) => ['HSCAN', 'h', '0', 'MATCH', bytes(p)]), page)).toEqual([]);
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
    expect(await twins.differences(commands, outcome)).toEqual([]);
  });
});
