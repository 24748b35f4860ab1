/**
 * Data compatibility end to end (issue 15): the built server against the original engine's data
 * (../shared/fixtures/redisai-1.2.7: DUMP payloads, dump.rdb, the AOF folder's RDB base) and
 * against a real redis-server 7, which this test starts and stops: RDB files and DUMP payloads
 * of strings go both ways, redis-server's lists and hashes decode to what it replies, and what
 * respai's list/hash writers produce RESTOREs into it. Also: INFO loading:1 and -LOADING while an
 * RDB file loads, DEBUG RELOAD and DEBUG DIGEST, MODULE LIST.
 *
 * No binary of the original engine exists here, so "loads into Redis 7 + RedisAI" is checked for
 * what plain redis-server can hold (strings); AI values are checked against the original's own
 * payloads and files (fixtures), byte for byte where respai writes the same thing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbWriter, crc64Bytes, crc64Start, crc64Update, readDump, writeHash, writeList } from '@respai/core';
import { itShared, sharedPath } from '@respai/core/testing';
import { createClient, RESP_TYPES } from 'redis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REPO, startServer, type RunningServer } from './helpers/server.js';

type Client = ReturnType<typeof createClient>;
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

const FIX = 'fixtures/redisai-1.2.7';
const MANIFEST = `${FIX}/manifest.json`;
const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

const dirs: string[] = [];
const servers: RunningServer[] = [];
const clients: Client[] = [];
const redisProcs: ChildProcess[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'respai-rdb-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  for (const c of clients.splice(0)) {
    try {
      await c.disconnect();
    } catch {
      /* its server went away first */
    }
  }
  for (const s of servers.splice(0)) await s.stop();
  for (const p of redisProcs.splice(0)) {
    p.kill('SIGKILL');
    await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
  }
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function connect(port: number): Promise<Client> {
  const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false }, disableOfflineQueue: true });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

async function respai(args: string[]): Promise<{ s: RunningServer; c: Client }> {
  const s = await startServer(args);
  servers.push(s);
  return { s, c: await connect(s.port) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A redis-server 7 on a free port with its own dir; resolves once it answers. */
async function redisServer(dir: string, extra: string[] = []): Promise<{ c: Client; port: number }> {
  const port = await freePort();
  const p = spawn('redis-server', ['--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', ...extra], { stdio: 'ignore' });
  redisProcs.push(p);
  for (let i = 0; i < 100; i++) {
    try {
      const c = await connect(port);
      // redis-server answers -LOADING while it loads its dump.
      for (let j = 0; j < 200; j++) {
        const info = String(await c.sendCommand(['INFO', 'persistence']));
        if (/loading:0/.test(info)) return { c, port };
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('redis-server still loading');
    } catch (e) {
      if ((e as Error).message === 'redis-server still loading') throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

interface ManifestKey {
  key: string;
  kind: 'tensor' | 'model' | 'script' | 'string';
  redis_type: string;
  dump_hex: string;
  expected: Record<string, unknown>;
}
interface ManifestRun {
  target: string;
  command: string[];
  inputs: Record<string, string>;
  output_tensorget_meta_values: [string, string, string, number[], string, string[]][];
}
const manifest = (): { keys: ManifestKey[]; runs: ManifestRun[] } => JSON.parse(readFileSync(sharedPath(MANIFEST), 'utf8'));

const num = (v: unknown) => Number(v);
/** Float text equality as close as float32 results allow. */
function closeTo(actual: unknown[], expected: string[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(num(a) - Number(expected[i]))).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(Number(expected[i])))));
}

/** Every key's readback as the manifest recorded it from the original engine, under `suffix`. */
async function checkReadbacks(c: Client, suffix: string, now: number): Promise<void> {
  for (const k of manifest().keys) {
    const key = k.key + suffix;
    const e = k.expected;
    if (k.kind === 'string' && e['has_ttl'] === true && suffix === '') {
      // Files keep the absolute expiry; loaded after it, the key is gone (as in Redis).
      const at = e['pexpiretime_ms'] as number;
      if (at <= now) {
        expect(await c.sendCommand(['EXISTS', key])).toBe(0);
        continue;
      }
      expect(Math.abs(Number(await c.sendCommand(['PTTL', key])) - (at - Date.now()))).toBeLessThan(60_000);
    }
    expect(await c.sendCommand(['TYPE', key])).toBe(k.redis_type);
    if (k.kind === 'tensor') {
      const meta = (await c.sendCommand(['AI.TENSORGET', key, 'META', 'VALUES'])) as unknown[];
      const want = e['tensorget_meta_values'] as unknown[];
      expect(meta.slice(0, 4)).toEqual(want.slice(0, 4));
      const vals = meta[5] as unknown[];
      if (want[1] === 'FLOAT' || want[1] === 'DOUBLE') closeTo(vals, want[5] as string[]);
      else expect(vals.map(String)).toEqual((want[5] as unknown[]).map(String));
      const blob = (await c.sendCommand(['AI.TENSORGET', key, 'BLOB'], RAW)) as Buffer;
      expect(blob.toString('hex')).toBe(e['blob_hex']);
    } else if (k.kind === 'model') {
      const meta = (await c.sendCommand(['AI.MODELGET', key, 'META'])) as unknown[];
      expect(meta).toEqual(e['modelget_meta']);
      const blob = (await c.sendCommand(['AI.MODELGET', key, 'BLOB'], RAW)) as Buffer;
      expect(createHash('sha256').update(blob).digest('hex')).toBe(e['blob_sha256']);
    } else if (k.kind === 'script') {
      const g = (await c.sendCommand(['AI.SCRIPTGET', key, 'META', 'SOURCE'])) as unknown[];
      // RedisAI 1.2.7 labels the entry points "Entry Points"; respai's AI.SCRIPTGET says entry_points.
      expect(g.map((x) => (x === 'entry_points' ? 'Entry Points' : x))).toEqual(e['scriptget']);
    } else {
      expect(await c.sendCommand(['GET', key])).toBe(e['value']);
    }
  }
}

/** The manifest's runs (against `suffix` keys), with its inputs and results. */
async function checkRuns(c: Client, suffix: string): Promise<number> {
  let n = 0;
  for (const r of manifest().runs) {
    for (const [name, spec] of Object.entries(r.inputs)) {
      const m = /^(\w+) \[([\d,]+)\] (?:VALUES (.*)|BLOB (\S+))/.exec(spec)!;
      const shape = m[2]!.split(',');
      if (m[3] !== undefined) await c.sendCommand(['AI.TENSORSET', name, m[1]!, ...shape, 'VALUES', ...m[3].split(' ')]);
      else await c.sendCommand(['AI.TENSORSET', name, m[1]!, ...shape, 'BLOB', readFileSync(sharedPath('models', m[4]!))]);
    }
    const cmd = r.command.map((a) => (a === r.target ? r.target.replace(/_copy$/, '') + suffix : a));
    expect(await c.sendCommand(cmd)).toBe('OK');
    const out = cmd[cmd.length - 1]!;
    const got = (await c.sendCommand(['AI.TENSORGET', out, 'META', 'VALUES'])) as unknown[];
    const want = r.output_tensorget_meta_values[0]!;
    expect(got.slice(0, 4)).toEqual(want.slice(0, 4));
    closeTo(got[5] as unknown[], want[5]);
    n++;
  }
  return n;
}

const FIXTURE_FILES = [MANIFEST, `${FIX}/dump.rdb`, 'models/one.raw'];

describe('the original engine\'s data (fixtures)', () => {
  itShared('every DUMP payload RESTOREs with the manifest\'s readbacks and run results', FIXTURE_FILES, async () => {
    const { c } = await respai([]);
    for (const k of manifest().keys) expect(await c.sendCommand(['RESTORE', `${k.key}_copy`, '0', Buffer.from(k.dump_hex, 'hex')])).toBe('OK');
    await checkReadbacks(c, '_copy', Date.now());
    expect(await checkRuns(c, '_copy')).toBe(5);
    // Inside MULTI too: the model loads when EXEC prepares it, the writes happen together.
    const iris = manifest().keys.find((k) => k.key === 'pub:model:iris')!;
    const f32 = manifest().keys.find((k) => k.key === 'pub:tensor:f32')!;
    expect(await c.sendCommand(['MULTI'])).toBe('OK');
    expect(await c.sendCommand(['RESTORE', 'tx:model', '0', Buffer.from(iris.dump_hex, 'hex')])).toBe('QUEUED');
    expect(await c.sendCommand(['RESTORE', 'tx:tensor', '0', Buffer.from(f32.dump_hex, 'hex')])).toBe('QUEUED');
    expect(await c.sendCommand(['RESTORE', 'tx:tensor', '0', Buffer.from(f32.dump_hex, 'hex')])).toBe('QUEUED');
    const tx = (await c.sendCommand(['EXEC'])) as unknown[];
    expect(tx.slice(0, 2)).toEqual(['OK', 'OK']);
    expect(String((tx[2] as Error).message ?? tx[2])).toBe('BUSYKEY Target key name already exists.');
    expect(await c.sendCommand(['TYPE', 'tx:model'])).toBe('AI__MODEL');
    // DUMP gives the original's bytes back for tensors and strings.
    for (const k of manifest().keys.filter((x) => x.kind === 'tensor' || x.kind === 'string')) {
      expect(((await c.sendCommand(['DUMP', `${k.key}_copy`], RAW)) as Buffer).toString('hex')).toBe(k.dump_hex);
    }
  });

  itShared('dump.rdb loads at start: keys, TTLs, tensors, models and scripts, and they run', FIXTURE_FILES, async () => {
    const dir = tempDir();
    copyFileSync(sharedPath(FIX, 'dump.rdb'), join(dir, 'dump.rdb'));
    const { s, c } = await respai(['--dir', dir]);
    expect(s.output()).toMatch(/Loading RDB produced by version 7\.0\.15/);
    expect(s.output()).toMatch(/Done loading RDB, keys loaded: 1[78], keys expired: [01]\./);
    await checkReadbacks(c, '', Date.now());
    expect(await checkRuns(c, '')).toBe(5);
    // What respai writes of it loads back into respai the same (DEBUG RELOAD: save, load).
    const digest = await c.sendCommand(['DEBUG', 'DIGEST']);
    expect(await c.sendCommand(['DEBUG', 'RELOAD'])).toBe('OK');
    expect(await c.sendCommand(['DEBUG', 'DIGEST'])).toBe(digest);
    await checkReadbacks(c, '', Date.now());
    expect(await checkRuns(c, '')).toBe(5);
  });

  itShared('the AOF folder\'s RDB base file loads as a snapshot', [...FIXTURE_FILES, `${FIX}/appendonlydir/appendonly.aof.1.base.rdb`], async () => {
    const dir = tempDir();
    copyFileSync(sharedPath(FIX, 'appendonlydir', 'appendonly.aof.1.base.rdb'), join(dir, 'base.rdb'));
    const { c } = await respai(['--dir', dir, '--dbfilename', 'base.rdb']);
    await checkReadbacks(c, '', Date.now());
    expect(await checkRuns(c, '')).toBe(5);
  });

  for (const variant of ['appendonlydir', 'appendonlydir-no-preamble']) {
    itShared(`the AOF folder (${variant}) is imported with appendonly yes, then respai keeps its own AOF`, [...FIXTURE_FILES, `${FIX}/${variant}/appendonly.aof.manifest`], async () => {
      const dir = tempDir();
      cpSync(sharedPath(FIX, variant), join(dir, 'appendonlydir'), { recursive: true });
      for (const f of readdirSync(join(dir, 'appendonlydir'))) chmodSync(join(dir, 'appendonlydir', f), 0o644);
      const { s, c } = await respai(['--dir', dir, '--appendonly', 'yes']);
      expect(s.output()).toMatch(/importing them, then writing respai's own AOF/);
      if (variant.endsWith('no-preamble')) expect(s.output()).toMatch(/Imported Redis's append-only files: \d+ commands replayed/);
      await checkReadbacks(c, '', Date.now());
      expect(await checkRuns(c, '')).toBe(5);
      await s.stop();
      expect(existsSync(join(dir, 'appendonly.respai'))).toBe(true);
      // The next start loads respai's AOF (what the runs wrote included).
      const again = await respai(['--dir', dir, '--appendonly', 'yes']);
      expect(again.s.output()).not.toMatch(/importing them/);
      await checkReadbacks(again.c, '', Date.now());
    });
  }
});

/** The `respai` command-line tool (apps/cli), as a user runs it. */
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'apps/cli/bin/respai.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe('respai import (the command-line tool) of RDB files into a running server', () => {
  itShared("the original's dump.rdb: the keys it held, with their readbacks and runs", FIXTURE_FILES, async () => {
    const { s, c } = await respai([]);
    const file = sharedPath(FIX, 'dump.rdb');
    const first = cli(['import', file, '-p', String(s.port), '--no-progress']);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^imported 1[78] keys from dump\.rdb \(RDB version 10\)/);
    expect(first.code).toBe(0);
    await checkReadbacks(c, '', Date.now());
    expect(await checkRuns(c, '')).toBe(5);
    // Again: every key exists, so each RESTORE is refused (BUSYKEY), and the tool says so and fails...
    const again = cli(['import', file, '-p', String(s.port), '--no-progress']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/keys were refused:\n {2}"[^"]+": BUSYKEY Target key name already exists\./);
    // ...unless told to replace them.
    const replaced = cli(['import', file, '-p', String(s.port), '--no-progress', '--replace']);
    expect(replaced.code).toBe(0);
    await checkReadbacks(c, '', Date.now());
  });

  it("a file respai wrote: every type it holds, TTLs kept, the same DEBUG DIGEST; damaged files refused whole", async () => {
    const dir = tempDir();
    const { c: a } = await respai(['--dir', dir]);
    await a.sendCommand(['SET', 'str', 'hello']);
    await a.sendCommand(['SET', 'ttl', 'soon', 'PX', '3600000']);
    await a.sendCommand(['RPUSH', 'list', 'a', 'b', 'c']);
    await a.sendCommand(['HSET', 'hash', 'f', 'v', 'g', 'w']);
    await a.sendCommand(['AI.TENSORSET', 't', 'INT64', '2', 'VALUES', '-9007199254740993', '7']);
    await a.sendCommand(['AI.SCRIPTSTORE', 'scr', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', 'def f(a):\n    return a + 1\n']);
    expect(await a.sendCommand(['SAVE'])).toBe('OK');
    const digest = await a.sendCommand(['DEBUG', 'DIGEST']);
    const { s: bs, c: b } = await respai([]);
    const r = cli(['import', join(dir, 'dump.rdb'), '-p', String(bs.port), '--no-progress']);
    expect(r.stdout).toMatch(/^imported 6 keys from dump\.rdb \(RDB version 10\); 1 with a TTL/);
    expect(r.code).toBe(0);
    expect(await b.sendCommand(['DEBUG', 'DIGEST'])).toBe(digest);
    expect(Number(await b.sendCommand(['PTTL', 'ttl']))).toBeGreaterThan(3_000_000);
    await b.sendCommand(['AI.TENSORSET', 'x', 'FLOAT', '1', 'VALUES', '1']);
    expect(await b.sendCommand(['AI.SCRIPTEXECUTE', 'scr', 'f', 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'y'])).toBe('OK');
    expect(await b.sendCommand(['AI.TENSORGET', 'y', 'VALUES'])).toEqual(['2']);
    // A damaged file: nothing is sent (the whole file is checked first).
    const bytes = readFileSync(join(dir, 'dump.rdb'));
    bytes[bytes.length - 20] ^= 0xff;
    const damaged = join(dir, 'damaged.rdb');
    writeFileSync(damaged, bytes);
    const { s: cs, c: cc } = await respai([]);
    const bad = cli(['import', damaged, '-p', String(cs.port), '--no-progress']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^respai: /);
    expect(await cc.sendCommand(['DBSIZE'])).toBe(0);
  });
});

describe('with redis-server 7 (started by the test)', () => {
  const strings: [string, Buffer][] = [
    ['plain', Buffer.from('hello')],
    ['int', Buffer.from('12345')],
    ['negative', Buffer.from('-70000')],
    ['big int', Buffer.from('9007199254740993')],
    ['empty', Buffer.alloc(0)],
    ['binary \x00\xff key', Buffer.from([0, 1, 2, 255, 254])],
    ['long compressible', Buffer.alloc(5000, 'abc')],
    ['long random', Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251))],
    ['large', Buffer.alloc(200_000, 'z')],
  ];

  it.skipIf(!hasRedis)('respai\'s RDB file of strings (TTLs included) loads into redis-server, with the same DEBUG DIGEST', async () => {
    const dir = tempDir();
    const { c } = await respai(['--dir', dir]);
    for (const [k, v] of strings) await c.sendCommand(['SET', k, v]);
    await c.sendCommand(['PEXPIRE', 'plain', '3600000']);
    expect(await c.sendCommand(['SAVE'])).toBe('OK');
    const digest = await c.sendCommand(['DEBUG', 'DIGEST']);
    const r = await redisServer(dir);
    expect(await r.c.sendCommand(['DBSIZE'])).toBe(strings.length);
    for (const [k, v] of strings) expect(((await r.c.sendCommand(['GET', k], RAW)) as Buffer).equals(v)).toBe(true);
    expect(Number(await r.c.sendCommand(['PTTL', 'plain']))).toBeGreaterThan(3_500_000);
    expect(await r.c.sendCommand(['DEBUG', 'DIGEST'])).toBe(digest);
  });

  it.skipIf(!hasRedis)('redis-server\'s RDB file loads into respai: strings in, other types refused, or skipped and counted', async () => {
    const dir = tempDir();
    const r = await redisServer(dir);
    for (const [k, v] of strings) await r.c.sendCommand(['SET', k, v]);
    await r.c.sendCommand(['PEXPIRE', 'plain', '3600000']);
    expect(await r.c.sendCommand(['SAVE'])).toBe('OK');
    const digest = await r.c.sendCommand(['DEBUG', 'DIGEST']);
    const strOnly = tempDir();
    copyFileSync(join(dir, 'dump.rdb'), join(strOnly, 'dump.rdb'));
    const { c } = await respai(['--dir', strOnly]);
    for (const [k, v] of strings) expect(((await c.sendCommand(['GET', k], RAW)) as Buffer).equals(v)).toBe(true);
    expect(Number(await c.sendCommand(['PTTL', 'plain']))).toBeGreaterThan(3_500_000);
    expect(await c.sendCommand(['DEBUG', 'DIGEST'])).toBe(digest);

    await r.c.sendCommand(['RPUSH', 'mylist', 'a', 'b']);
    await r.c.sendCommand(['HSET', 'myhash', 'f', 'v']);
    await r.c.sendCommand(['SADD', 'myset', 'x']);
    await r.c.sendCommand(['ZADD', 'myzset', '1', 'x']);
    await r.c.sendCommand(['XADD', 'mystream', '*', 'f', 'v']);
    expect(await r.c.sendCommand(['SAVE'])).toBe('OK');
    const refused = startServer(['--dir', dir]);
    await expect(refused).rejects.toThrow(/it holds the key '(myset|myzset|mystream)' of type (set|zset|stream), which respai does not hold\. To start without such keys, set rdb-skip-unsupported-types yes/);
    const { s, c: c2 } = await respai(['--dir', dir, '--rdb-skip-unsupported-types', 'yes']);
    expect(s.output()).toMatch(/Skipped 3 keys of '.*dump\.rdb' that respai does not hold \(rdb-skip-unsupported-types yes\): /);
    for (const t of ['set: 1', 'zset: 1', 'stream: 1']) expect(s.output()).toContain(t);
    expect(await c2.sendCommand(['DBSIZE'])).toBe(strings.length + 2);
    expect(await c2.sendCommand(['LRANGE', 'mylist', '0', '-1'])).toEqual(['a', 'b']);
    expect(await c2.sendCommand(['HGETALL', 'myhash'])).toEqual(['f', 'v']);
  });

  it.skipIf(!hasRedis)('DUMP payloads of strings go both ways; short ones are byte for byte the same', async () => {
    const r = await redisServer(tempDir());
    const { c } = await respai([]);
    for (const [k, v] of strings) {
      await r.c.sendCommand(['SET', k, v]);
      await c.sendCommand(['SET', k, v]);
      const theirs = (await r.c.sendCommand(['DUMP', k], RAW)) as Buffer;
      const ours = (await c.sendCommand(['DUMP', k], RAW)) as Buffer;
      if (v.length <= 20) expect(ours.toString('hex')).toBe(theirs.toString('hex'));
      expect(await c.sendCommand(['RESTORE', `${k}:from-redis`, '0', theirs])).toBe('OK');
      expect(await r.c.sendCommand(['RESTORE', `${k}:from-respai`, '0', ours])).toBe('OK');
      expect(((await c.sendCommand(['GET', `${k}:from-redis`], RAW)) as Buffer).equals(v)).toBe(true);
      expect(((await r.c.sendCommand(['GET', `${k}:from-respai`], RAW)) as Buffer).equals(v)).toBe(true);
    }
    // The same error texts for the same bad input.
    const bad = Buffer.from('not a payload at all');
    for (const args of [['RESTORE', 'plain', '0', bad], ['RESTORE', 'fresh', '-5', bad], ['RESTORE', 'fresh', '0', bad], ['RESTORE', 'fresh', '0', bad, 'FREQ', '300']]) {
      const theirs = await r.c.sendCommand(args).catch((e: Error) => e.message);
      const ours = await c.sendCommand(args).catch((e: Error) => e.message);
      expect(ours).toBe(theirs);
    }
  });

  it.skipIf(!hasRedis)('lists and hashes: redis-server\'s payloads and files load into respai and back, with the same digests; old encodings decode as redis-server reads them', async () => {
    const r = await redisServer(tempDir());
    const lists: Record<string, string[]> = {
      small: ['a', '1', '-1', '300', '-70000', '2147483648', ''],
      big: Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? String(i * 1000003) : `element-${i}`)),
      huge: ['x'.repeat(70_000), 'y'],
    };
    const hashes: Record<string, [string, string][]> = {
      small: [['f1', 'v1'], ['n', '42'], ['neg', '-9']],
      big: Array.from({ length: 300 }, (_, i) => [`field${i}`, `value-${i}`.repeat(i % 7)] as [string, string]),
      longvalue: [['f', 'v'.repeat(100)]],
    };
    for (const [k, items] of Object.entries(lists)) {
      await r.c.sendCommand(['RPUSH', `l:${k}`, ...items]);
      const v = readDump((await r.c.sendCommand(['DUMP', `l:${k}`], RAW)) as Buffer);
      expect(v.kind === 'list' && v.value.map(String)).toEqual(items);
      const w = new RdbWriter();
      writeList(w, items.map((s) => Buffer.from(s)));
      expect(await r.c.sendCommand(['RESTORE', `l:${k}:ours`, '0', seal(w)])).toBe('OK');
      expect(await r.c.sendCommand(['LRANGE', `l:${k}:ours`, '0', '-1'])).toEqual(items);
    }
    for (const [k, pairs] of Object.entries(hashes)) {
      await r.c.sendCommand(['HSET', `h:${k}`, ...pairs.flat()]);
      const v = readDump((await r.c.sendCommand(['DUMP', `h:${k}`], RAW)) as Buffer);
      expect(v.kind === 'hash' && v.value.map(([f, x]) => [String(f), String(x)])).toEqual(pairs);
      const w = new RdbWriter();
      writeHash(w, pairs.map(([f, x]) => [Buffer.from(f), Buffer.from(x)]));
      expect(await r.c.sendCommand(['RESTORE', `h:${k}:ours`, '0', seal(w)])).toBe('OK');
      expect(Object.entries((await r.c.hGetAll(`h:${k}:ours`)) as Record<string, string>)).toEqual(pairs);
    }
    // Through files: redis-server's RDB of these lists and hashes loads into respai with the same
    // DEBUG DIGEST, and what respai then saves loads back into redis-server the same.
    expect(await r.c.sendCommand(['SAVE'])).toBe('OK');
    const digest = await r.c.sendCommand(['DEBUG', 'DIGEST']);
    const rdir = String(((await r.c.sendCommand(['CONFIG', 'GET', 'dir'])) as string[])[1]);
    const mine = tempDir();
    copyFileSync(join(rdir, 'dump.rdb'), join(mine, 'dump.rdb'));
    const { c } = await respai(['--dir', mine]);
    expect(await c.sendCommand(['DEBUG', 'DIGEST'])).toBe(digest);
    expect(await c.sendCommand(['LRANGE', 'l:big', '0', '-1'])).toEqual(lists['big']);
    expect(await c.sendCommand(['SAVE'])).toBe('OK');
    const home = tempDir();
    copyFileSync(join(mine, 'dump.rdb'), join(home, 'dump.rdb'));
    const r2 = await redisServer(home);
    expect(await r2.c.sendCommand(['DEBUG', 'DIGEST'])).toBe(digest);
    // respai's DUMPs of them RESTORE into redis-server too.
    for (const k of ['l:small', 'l:huge', 'h:small', 'h:big']) {
      expect(await r2.c.sendCommand(['RESTORE', `${k}:via-respai`, '0', (await c.sendCommand(['DUMP', k], RAW)) as Buffer])).toBe('OK');
      expect(await r2.c.sendCommand(['DEBUG', 'DIGEST-VALUE', `${k}:via-respai`])).toEqual(await r.c.sendCommand(['DEBUG', 'DIGEST-VALUE', k]));
    }

    // Old encodings, as Redis 6 (ziplist) and 2.4 (zipmap) wrote them: redis-server 7 converts them on RESTORE.
    const zl = ziplist(['ab', '12', '-2', '300', '70000', String(2 ** 40), '7', 'x'.repeat(70)]);
    const old = new RdbWriter();
    old.u8(10).string(zl); // RDB_TYPE_LIST_ZIPLIST
    const oldPayload = seal(old, 9);
    const back = readDump(oldPayload);
    expect(await r.c.sendCommand(['RESTORE', 'l:ziplist', '0', oldPayload])).toBe('OK');
    expect(back.kind === 'list' && back.value.map(String)).toEqual(await r.c.sendCommand(['LRANGE', 'l:ziplist', '0', '-1']));
    const hz = new RdbWriter();
    hz.u8(13).string(ziplist(['f1', 'v1', 'f2', '99']));
    const hzPayload = seal(hz, 9);
    expect(await r.c.sendCommand(['RESTORE', 'h:ziplist', '0', hzPayload])).toBe('OK');
    const hb = readDump(hzPayload);
    expect(hb.kind === 'hash' && Object.fromEntries(hb.value.map(([f, x]) => [String(f), String(x)]))).toEqual(await r.c.hGetAll('h:ziplist'));
    const zm = new RdbWriter();
    zm.u8(9).string(Buffer.from([2, 1, 0x6b, 2, 0, 0x76, 0x31, 3, 0x6b, 0x6b, 0x32, 1, 1, 0x76, 0x00, 0xff]));
    const zmPayload = seal(zm, 9);
    expect(await r.c.sendCommand(['RESTORE', 'h:zipmap', '0', zmPayload])).toBe('OK');
    const zb = readDump(zmPayload);
    expect(zb.kind === 'hash' && Object.fromEntries(zb.value.map(([f, x]) => [String(f), String(x)]))).toEqual(await r.c.hGetAll('h:zipmap'));
    const linked = new RdbWriter();
    linked.u8(1).len(2).string(Buffer.from('p')).string(Buffer.from('12'));
    const linkedPayload = seal(linked, 9);
    expect(await r.c.sendCommand(['RESTORE', 'l:linked', '0', linkedPayload])).toBe('OK');
    const lb = readDump(linkedPayload);
    expect(lb.kind === 'list' && lb.value.map(String)).toEqual(await r.c.sendCommand(['LRANGE', 'l:linked', '0', '-1']));
  });
});

/** A DUMP payload: what `w` holds (taken from it: call once), an RDB version, the CRC-64. */
function seal(w: RdbWriter, version = 10): Buffer {
  const body = Buffer.concat([w.toBuffer(), Buffer.from([version, 0])]);
  return Buffer.concat([body, crc64Bytes(crc64Update(crc64Start(), body))]);
}

/** A ziplist as Redis 3.2 to 6.2 built them: strings as strings, integers in their smallest encoding. */
function ziplist(items: string[]): Buffer {
  const entries: Buffer[] = [];
  for (const s of items) {
    let enc: Buffer;
    const n = /^-?[1-9]\d*$|^0$/.test(s) ? Number(s) : NaN;
    if (Number.isSafeInteger(n) && n >= 0 && n <= 12) enc = Buffer.from([0xf1 + n]);
    else if (Number.isSafeInteger(n) && n >= -128 && n <= 127) enc = Buffer.from([0xfe, n & 0xff]);
    else if (Number.isSafeInteger(n) && n >= -32768 && n <= 32767) {
      enc = Buffer.alloc(3);
      enc[0] = 0xc0;
      enc.writeInt16LE(n, 1);
    } else if (Number.isSafeInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) {
      enc = Buffer.alloc(5);
      enc[0] = 0xd0;
      enc.writeInt32LE(n, 1);
    } else if (Number.isSafeInteger(n)) {
      enc = Buffer.alloc(9);
      enc[0] = 0xe0;
      enc.writeBigInt64LE(BigInt(n), 1);
    } else if (s.length < 64) enc = Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
    else enc = Buffer.concat([Buffer.from([0x40 | (s.length >> 8), s.length & 0xff]), Buffer.from(s)]);
    const prev = entries.length === 0 ? 0 : entries[entries.length - 1]!.length;
    entries.push(Buffer.concat([Buffer.from([prev]), enc]));
  }
  const body = Buffer.concat(entries);
  const hdr = Buffer.alloc(10);
  hdr.writeUInt32LE(10 + body.length + 1, 0);
  hdr.writeUInt32LE(entries.length === 0 ? 10 : 10 + body.length - entries[entries.length - 1]!.length, 4);
  hdr.writeUInt16LE(entries.length, 8);
  return Buffer.concat([hdr, body, Buffer.from([0xff])]);
}

describe('loading, DEBUG RELOAD, MODULE LIST', () => {
  it('clients connecting while an RDB file loads get -LOADING, and INFO shows loading:1 with the loading_* fields', async () => {
    const dir = tempDir();
    const { c, s } = await respai(['--dir', dir]);
    for (let i = 0; i < 60; i++) await c.sendCommand(['SET', `k${i}`, 'x'.repeat(100)]);
    await c.sendCommand(['SAVE']);
    await s.stop();
    // 60 keys x 20 ms (Redis's key-load-delay, in µs): a second of loading to look at.
    const port = await freePort();
    const proc = spawn(process.execPath, [`${REPO}apps/server/dist/cli.js`, '--dir', dir, '--port', String(port), '--key-load-delay', '20000'], { stdio: 'ignore' });
    try {
      let d: Client | undefined;
      for (let i = 0; i < 200 && d === undefined; i++) {
        d = await connect(port).catch(() => undefined);
        if (d === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      const info = String(await d!.sendCommand(['INFO', 'persistence']));
      expect(info).toMatch(/^loading:1\r$/m);
      for (const f of ['loading_start_time', 'loading_total_bytes', 'loading_rdb_used_mem', 'loading_loaded_bytes', 'loading_loaded_perc', 'loading_eta_seconds']) {
        expect(info).toMatch(new RegExp(`^${f}:[0-9.]+\\r$`, 'm'));
      }
      expect(await d!.sendCommand(['GET', 'k1']).catch((e: Error) => e.message)).toBe('LOADING Redis is loading the dataset in memory');
      expect(await d!.sendCommand(['PING']).catch((e: Error) => e.message)).toBe('LOADING Redis is loading the dataset in memory');
      for (let i = 0; i < 500 && /loading:1/.test(String(await d!.sendCommand(['INFO', 'persistence']))); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await d!.sendCommand(['GET', 'k1'])).toBe('x'.repeat(100));
      expect(await d!.sendCommand(['DBSIZE'])).toBe(60);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('MODULE LIST names the ai module with version 10207', async () => {
    const { c } = await respai([]);
    const list = (await c.sendCommand(['MODULE', 'LIST'])) as unknown[][];
    expect(list).toHaveLength(1);
    expect(list[0]!.slice(0, 4)).toEqual(['name', 'ai', 'ver', 10207]);
    const info = String(await c.sendCommand(['INFO', 'MODULES']));
    expect(info).toMatch(/module:name=ai,ver=10207,/);
    expect(info).toMatch(/ai_queue_CPU_bthread_n1_used_cpu_total:/);
  });
});
