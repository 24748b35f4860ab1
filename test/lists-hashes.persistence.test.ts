/**
 * Lists and hashes survive a restart: through the append-only file (in-place changes recorded as
 * CHANGE records, EVAL's effects included), through BGREWRITEAOF, and through a snapshot (SAVE).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from './helpers/raw-client.js';
import { startServer, type RunningServer } from './helpers/server.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(args: string[]): Promise<{ s: RunningServer; c: RawClient }> {
  const s = await startServer(args);
  servers.push(s);
  return { s, c: await RawClient.connect(s.port) };
}

/** Every change kind, with binary data, TTLs, deletions by emptying, renames and a script. */
async function workload(c: RawClient): Promise<void> {
  const bin = Buffer.from([0, 1, 2, 13, 10, 255]);
  await c.call('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'f', bin);
  await c.call('LPUSH', 'l', 'z', 'y');
  await c.call('LPOP', 'l');
  await c.call('RPOP', 'l', 2);
  await c.call('LSET', 'l', -1, 'E');
  await c.call('LREM', 'l', 0, 'b');
  await c.call('LTRIM', 'l', 1, -1);
  await c.call('RPUSH', 'gone', 'x');
  await c.call('LPOP', 'gone');
  await c.call('HSET', 'h', 'f1', 'v1', 'f2', 'v2', bin, bin);
  await c.call('HDEL', 'h', 'f1');
  await c.call('HINCRBY', 'h', 'n', 41);
  await c.call('HSETNX', 'h', 'f2', 'no');
  await c.call('HSET', 'h', 'f1', 'again');
  await c.call('HSET', 'h2', 'only', 'x');
  await c.call('HDEL', 'h2', 'only');
  await c.call('RPUSH', 'ttl', 'x');
  await c.call('EXPIRE', 'ttl', 1000);
  await c.call('RPUSH', 'ttl', 'y');
  await c.call('HSET', 'ren', 'a', 'b');
  await c.call('RENAME', 'ren', 'renamed');
  await c.call('EVAL', "redis.call('RPUSH', KEYS[1], 'from-lua') redis.call('HINCRBY', KEYS[2], 'n', 1) return 1", 2, 'l', 'h');
}

async function dump(c: RawClient): Promise<string[]> {
  return Promise.all([
    c.call('LRANGE', 'l', 0, -1),
    c.call('HGETALL', 'h'),
    c.call('EXISTS', 'gone', 'h2', 'ren'),
    c.call('LRANGE', 'ttl', 0, -1),
    c.call('HGETALL', 'renamed'),
    c.call('TYPE', 'l'),
    c.call('TYPE', 'h'),
    c.call('DBSIZE'),
  ]);
}

describe('lists and hashes persist', () => {
  it('through the append-only file, and again after BGREWRITEAOF', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respai-lh-aof-'));
    dirs.push(dir);
    const args = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'];
    let { s, c } = await start(args);
    await workload(c);
    const before = await dump(c);
    expect(before[0]).toContain('from-lua');
    c.close();
    await s.stop();
    ({ s, c } = await start(args));
    expect(await dump(c)).toEqual(before);
    const ttl = Number((await c.call('TTL', 'ttl')).slice(1));
    expect(ttl).toBeGreaterThan(900);
    // Rewrite (the values as SET records), then change more and restart again.
    expect(await c.call('BGREWRITEAOF')).toMatch(/^\+Background append only file rewriting/);
    for (let i = 0; i < 200 && (await c.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:1'); i++) await new Promise((r) => setTimeout(r, 25));
    await c.call('RPUSH', 'l', 'after-rewrite');
    const after = await dump(c);
    c.close();
    await s.stop();
    ({ s, c } = await start(args));
    expect(await dump(c)).toEqual(after);
    c.close();
  }, 60_000);

  it('through a snapshot (SAVE)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respai-lh-rdb-'));
    dirs.push(dir);
    let { s, c } = await start(['--dir', dir]);
    await workload(c);
    const before = await dump(c);
    expect(await c.call('SAVE')).toBe('+OK\r\n');
    c.close();
    await s.stop();
    ({ s, c } = await start(['--dir', dir]));
    expect(await dump(c)).toEqual(before);
    c.close();
  }, 60_000);
});
