/**
 * Durability of the built server: snapshots (SAVE, BGSAVE, SHUTDOWN, SIGTERM), the append-only
 * file (truncated and corrupted files, respai-check-aof), and the crash test: writers store
 * tensors, strings and models while the server is killed with SIGKILL again and again under
 * `appendfsync always`; every acknowledged write must be there after each restart.
 *
 * The crash test runs DURABILITY_CYCLES cycles (default 8, about 20 s); e.g.
 * `DURABILITY_CYCLES=200 vitest run test/durability.test.ts` for a long run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { OnnxType, binaryModel } from '@respai/backend-onnx/testing';
import { REPO, startServer, type RunningServer } from './helpers/server.js';

type Client = ReturnType<typeof createClient>;

/** Bulk strings as Buffers, integers as decimal strings (int64 extremes stay exact). */
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.NUMBER]: String } } as const;

const CHECK_AOF = `${REPO}apps/server/dist/check-aof.js`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
const servers: RunningServer[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'respai-durability-'));
  dirs.push(d);
  return d;
}

async function start(args: string[]): Promise<RunningServer> {
  const s = await startServer(args);
  servers.push(s);
  return s;
}

async function connect(port: number): Promise<Client> {
  const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false }, disableOfflineQueue: true });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function kill9(s: RunningServer): Promise<void> {
  s.proc.kill('SIGKILL');
  await s.exited;
}

/** An ONNX model computing c = a + b on FLOAT [2]: every model-persistence check uses it. */
const addModel = binaryModel('Add', OnnxType.FLOAT, [2], [2], [2]);

afterAll(async () => {
  for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) await kill9(s);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const info = async (c: Client): Promise<Record<string, string>> =>
  Object.fromEntries(
    String(await c.sendCommand(['INFO', 'persistence']))
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );

/** Stores one of everything; returns a function that checks it all came back. */
async function storeEverything(c: Client): Promise<(c: Client) => Promise<void>> {
  await c.sendCommand(['SET', 'str', 'hello']);
  await c.sendCommand(['SET', 'bin\x00key', Buffer.from([0, 255, 10, 13])]);
  await c.sendCommand(['SET', 'ttl', 'v', 'EX', '3600']);
  await c.sendCommand(['AI.TENSORSET', 't:f', 'FLOAT', '2', '2', 'VALUES', '1.5', '-2', '3.25', '0']);
  await c.sendCommand(['AI.TENSORSET', 't:i', 'INT64', '2', 'VALUES', '-9223372036854775808', '9223372036854775807']);
  await c.sendCommand(['AI.TENSORSET', 't:s', 'STRING', '2', 'VALUES', 'abc', 'de']);
  await c.sendCommand(['AI.TENSORSET', 't:b', 'UINT8', '5', 'BLOB', Buffer.from([1, 2, 3, 4, 5])]);
  await c.sendCommand(['PEXPIRE', 't:f', '7200000']);
  expect(await c.sendCommand(['AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'TAG', 'v1', 'BLOB', addModel])).toBe('OK');
  return async (d: Client) => {
    expect(await d.sendCommand(['GET', 'str'])).toBe('hello');
    expect(await d.sendCommand(['GET', 'bin\x00key'], RAW)).toEqual(Buffer.from([0, 255, 10, 13]));
    expect(Number(await d.sendCommand(['TTL', 'ttl']))).toBeGreaterThan(3500);
    expect(Number(await d.sendCommand(['PTTL', 't:f']))).toBeGreaterThan(7_000_000);
    expect(await d.sendCommand(['AI.TENSORGET', 't:f', 'VALUES'])).toEqual(['1.5', '-2', '3.25', '0']);
    expect(await d.sendCommand(['AI.TENSORGET', 't:i', 'VALUES'], RAW)).toEqual(['-9223372036854775808', '9223372036854775807']);
    expect(await d.sendCommand(['AI.TENSORGET', 't:s', 'VALUES'])).toEqual(['abc', 'de']);
    expect(await d.sendCommand(['AI.TENSORGET', 't:b', 'BLOB'], RAW)).toEqual(Buffer.from([1, 2, 3, 4, 5]));
    const meta = (await d.sendCommand(['AI.MODELGET', 'm', 'META'])) as unknown[];
    expect(meta).toContain('ONNX');
    expect(meta).toContain('v1');
    await d.sendCommand(['AI.TENSORSET', 'x', 'FLOAT', '2', 'VALUES', '1', '2']);
    expect(await d.sendCommand(['AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'x', 'x', 'OUTPUTS', '1', 'y'])).toBe('OK');
    expect(await d.sendCommand(['AI.TENSORGET', 'y', 'VALUES'])).toEqual(['2', '4']);
  };
}

describe('snapshots', () => {
  it('SAVE, then a crash: every value type comes back at start', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir]);
    const c = await connect(s.port);
    const check = await storeEverything(c);
    const before = Number(await c.sendCommand(['LASTSAVE']));
    await sleep(1100);
    expect(await c.sendCommand(['SAVE'])).toBe('OK');
    expect(Number(await c.sendCommand(['LASTSAVE']))).toBeGreaterThan(before);
    expect((await info(c)).rdb_changes_since_last_save).toBe('0');
    await c.sendCommand(['SET', 'after-save', 'lost']);
    await kill9(s);
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);

    const s2 = await start(['--dir', dir]);
    expect(s2.output()).toMatch(/DB loaded from disk/);
    const d = await connect(s2.port);
    await check(d);
    expect(await d.sendCommand(['EXISTS', 'after-save'])).toBe(0);
    await d.quit();
    await s2.stop();
  });

  it('BGSAVE serves clients while it writes; the snapshot is the keyspace when it started', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir]);
    const c = await connect(s.port);
    const blob = Buffer.alloc(1 << 20, 1);
    for (let i = 0; i < 40; i++) await c.sendCommand(['AI.TENSORSET', `big${i}`, 'UINT8', String(blob.length), 'BLOB', blob]);
    expect(await c.sendCommand(['BGSAVE'])).toBe('Background saving started');
    // Served meanwhile, and not part of the snapshot.
    expect(await c.sendCommand(['SET', 'during', '1'])).toBe('OK');
    let i = await info(c);
    const sawInProgress = i.rdb_bgsave_in_progress === '1';
    const end = Date.now() + 20_000;
    while (i.rdb_bgsave_in_progress === '1' && Date.now() < end) {
      await sleep(20);
      i = await info(c);
    }
    expect(i.rdb_last_bgsave_status).toBe('ok');
    expect(i.rdb_saves).toBe('1');
    expect(i.rdb_changes_since_last_save).toBe('1');
    await kill9(s);
    const s2 = await start(['--dir', dir]);
    const d = await connect(s2.port);
    expect(await d.sendCommand(['DBSIZE'])).toBe(40);
    expect(await d.sendCommand(['EXISTS', 'during'])).toBe(0);
    console.log(`BGSAVE of 40 MiB: in progress when first polled: ${sawInProgress}`);
    await d.quit();
    await s2.stop();
  });

  it('SHUTDOWN saves when save points are configured; SHUTDOWN NOSAVE does not; SIGTERM does', async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--save', '3600 1'];
    let s = await start(args);
    let c = await connect(s.port);
    await c.sendCommand(['AI.TENSORSET', 'a', 'FLOAT', '1', 'VALUES', '1']);
    await c.sendCommand(['SHUTDOWN']).catch(() => undefined);
    expect(await s.exited).toBe(0);

    s = await start(args);
    c = await connect(s.port);
    expect(await c.sendCommand(['EXISTS', 'a'])).toBe(1);
    await c.sendCommand(['SET', 'b', '1']);
    await c.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => undefined);
    expect(await s.exited).toBe(0);

    s = await start(args);
    c = await connect(s.port);
    expect(await c.sendCommand(['EXISTS', 'a', 'b'])).toBe(1);
    await c.sendCommand(['SET', 'c', '1']);
    expect(await s.stop()).toBe(0); // SIGTERM

    s = await start(['--dir', dir]); // no save points: SHUTDOWN does not save, SHUTDOWN SAVE does
    c = await connect(s.port);
    expect(await c.sendCommand(['EXISTS', 'a', 'b', 'c'])).toBe(2);
    await c.sendCommand(['SET', 'd', '1']);
    await c.sendCommand(['SHUTDOWN']).catch(() => undefined);
    await s.exited;
    s = await start(['--dir', dir]);
    c = await connect(s.port);
    expect(await c.sendCommand(['EXISTS', 'd'])).toBe(0);
    await c.sendCommand(['SET', 'e', '1']);
    await c.sendCommand(['SHUTDOWN', 'SAVE']).catch(() => undefined);
    await s.exited;
    s = await start(['--dir', dir]);
    c = await connect(s.port);
    expect(await c.sendCommand(['EXISTS', 'e'])).toBe(1);
    await c.quit();
    await s.stop();
  });

  it('SHUTDOWN refuses to stop when the snapshot cannot be written', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir, '--save', '3600 1']);
    const c = await connect(s.port);
    await c.sendCommand(['CONFIG', 'SET', 'dir', join(dir, 'missing')]);
    await expect(c.sendCommand(['SHUTDOWN'])).rejects.toThrow('ERR Errors trying to SHUTDOWN. Check logs.');
    expect(await c.sendCommand(['PING'])).toBe('PONG');
    await c.sendCommand(['CONFIG', 'SET', 'dir', dir]);
    await c.quit();
    await s.stop();
  });
});

describe('append-only file', () => {
  const aof = (dir: string) => join(dir, 'appendonly.respai');

  it('CONFIG shows the options; BGREWRITEAOF compacts; everything survives a crash', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']);
    const c = await connect(s.port);
    expect(await c.sendCommand(['CONFIG', 'GET', 'append*'])).toEqual(['appendonly', 'yes', 'appendfilename', 'appendonly.respai', 'appendfsync', 'always']);
    const check = await storeEverything(c);
    for (let i = 0; i < 300; i++) await c.sendCommand(['SET', 'counter', String(i)]);
    const grown = statSync(aof(dir)).size;
    expect(await c.sendCommand(['BGREWRITEAOF'])).toBe('Background append only file rewriting started');
    await c.sendCommand(['SET', 'during-rewrite', '1']);
    let i = await info(c);
    while (i.aof_rewrite_in_progress === '1') {
      await sleep(20);
      i = await info(c);
    }
    expect(i.aof_last_bgrewrite_status).toBe('ok');
    expect(statSync(aof(dir)).size).toBeLessThan(grown);
    await c.sendCommand(['SET', 'after-rewrite', '1']);
    await kill9(s);
    const s2 = await start(['--dir', dir, '--appendonly', 'yes']);
    expect(s2.output()).toMatch(/DB loaded from append only file/);
    const d = await connect(s2.port);
    await check(d);
    expect(await d.sendCommand(['MGET', 'counter', 'during-rewrite', 'after-rewrite'])).toEqual(['299', '1', '1']);
    await d.quit();
    await s2.stop();
  });

  it('CONFIG SET appendonly yes at runtime writes the AOF from the current data', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir]);
    const c = await connect(s.port);
    await c.sendCommand(['SET', 'before', '1']);
    await c.sendCommand(['CONFIG', 'SET', 'appendonly', 'yes']);
    await c.sendCommand(['SET', 'after', '1']);
    while ((await info(c)).aof_rewrite_in_progress === '1') await sleep(20);
    await c.sendCommand(['SET', 'later', '1']);
    await kill9(s);
    const s2 = await start(['--dir', dir, '--appendonly', 'yes']);
    const d = await connect(s2.port);
    expect(await d.sendCommand(['EXISTS', 'before', 'after', 'later'])).toBe(3);
    await d.quit();
    await s2.stop();
  });

  it('a truncated tail (a crash mid-write) loads up to the last complete record, with a warning', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir, '--appendonly', 'yes']);
    const c = await connect(s.port);
    for (let i = 0; i < 5; i++) await c.sendCommand(['AI.TENSORSET', `t${i}`, 'FLOAT', '2', 'VALUES', String(i), '0']);
    await kill9(s);
    truncateSync(aof(dir), statSync(aof(dir)).size - 7);
    const s2 = await start(['--dir', dir, '--appendonly', 'yes']);
    expect(s2.output()).toMatch(/ends with an incomplete record/);
    const d = await connect(s2.port);
    expect(await d.sendCommand(['EXISTS', 't0', 't1', 't2', 't3', 't4'])).toBe(4);
    await d.sendCommand(['SET', 'new', '1']);
    await kill9(s2);
    const s3 = await start(['--dir', dir, '--appendonly', 'yes']);
    expect(s3.output()).not.toMatch(/incomplete record/);
    const e = await connect(s3.port);
    expect(await e.sendCommand(['EXISTS', 't0', 't1', 't2', 't3', 'new'])).toBe(5);
    await e.quit();
    await s3.stop();
  });

  it('a corrupted AOF refuses to start, naming respai-check-aof --fix, which then makes it start', async () => {
    const dir = tempDir();
    const s = await start(['--dir', dir, '--appendonly', 'yes']);
    const c = await connect(s.port);
    for (let i = 0; i < 10; i++) await c.sendCommand(['SET', `k${i}`, 'x'.repeat(200)]);
    await kill9(s);
    const bytes = readFileSync(aof(dir));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    writeFileSync(aof(dir), bytes);

    const err = await startServer(['--dir', dir, '--appendonly', 'yes']).then(
      (x) => {
        servers.push(x);
        return '';
      },
      (e: Error) => e.message,
    );
    expect(err).toMatch(/server exited with 1/);
    expect(err).toContain(`Bad file format reading the append only file '${aof(dir)}'`);
    expect(err).toContain(`respai-check-aof --fix ${aof(dir)}`);

    const check = spawnSync(process.execPath, [CHECK_AOF, aof(dir)], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/Corrupt at offset \d+ \(record \d+\): record checksum mismatch/);
    const fix = spawnSync(process.execPath, [CHECK_AOF, '--fix', aof(dir)], { encoding: 'utf8' });
    expect(fix.status).toBe(0);
    expect(fix.stdout).toMatch(/Successfully truncated AOF .* from \d+ to \d+ bytes/);
    console.log(`respai-check-aof --fix:\n${fix.stdout}`);

    const s2 = await start(['--dir', dir, '--appendonly', 'yes']);
    const d = await connect(s2.port);
    const n = Number(await d.sendCommand(['DBSIZE']));
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThan(10);
    await d.quit();
    await s2.stop();
  });
});

describe('crash test: SIGKILL under appendfsync always', () => {
  const CYCLES = Number(process.env.DURABILITY_CYCLES ?? 8);
  const WRITERS = Number(process.env.DURABILITY_WRITERS ?? 4);
  const DEPTH = 4;

  it(`loses no acknowledged write over ${CYCLES} kill -9 cycles`, { timeout: Math.max(120_000, CYCLES * 15_000) }, async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--auto-aof-rewrite-min-size', '64kb', '--auto-aof-rewrite-percentage', '20'];
    /** Acknowledged: key -> expected value (strings; tensors as their VALUES joined). */
    const present = new Map<string, string>();
    const deleted = new Set<string>();
    const models: string[] = [];
    /** Per writer: highest acknowledged / sent value of its overwritten key. */
    const latestAcked = new Array<number>(WRITERS).fill(-1);
    const latestSent = new Array<number>(WRITERS).fill(-1);
    let acked = 0;
    let losses = 0;
    const lost: string[] = [];
    /** MODELSTORE failures other than the server being killed: each fails the test. */
    const modelErrors: string[] = [];
    let rewritesStarted = 0;
    let rewritesDone = 0;
    const count = (text: string, what: string) => text.split(what).length - 1;
    const t0 = Date.now();
    let loadMs = 0;

    const verify = async (c: Client, keys: Iterable<string>) => {
      const list = [...keys];
      for (let i = 0; i < list.length; i += 500) {
        const part = list.slice(i, i + 500);
        const got = await Promise.all(
          part.map(async (k) => {
            const want = present.get(k)!;
            if (k.includes(':t')) {
              const v = (await c.sendCommand(['AI.TENSORGET', k, 'VALUES']).catch((e: Error) => e.message)) as unknown;
              return Array.isArray(v) ? v.map(String).join(',') : String(v);
            }
            return String(await c.sendCommand(['GET', k]));
          }),
        );
        part.forEach((k, j) => {
          if (got[j] !== present.get(k)) {
            losses++;
            if (lost.length < 10) lost.push(`${k}: ${got[j]} (expected ${present.get(k)})`);
          }
        });
      }
    };

    let server = await start(args);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const clients = await Promise.all(Array.from({ length: WRITERS }, () => connect(server.port)));
      let stop = false;
      const newKeys: string[] = [];
      const ackedBefore = acked;
      // One model per cycle, stored while the writers run.
      let modelDone = false;
      void clients[0]!
        .sendCommand(['AI.MODELSTORE', `model:${cycle}`, 'ONNX', 'CPU', 'BLOB', addModel])
        .then(
          () => {
            models.push(`model:${cycle}`);
            acked++;
          },
          (e: Error) => {
            if (!/closed|Socket|ECONN|disconnect/i.test(e.message)) modelErrors.push(`cycle ${cycle}: ${e.message}`);
          },
        )
        .finally(() => (modelDone = true));
      const loops = clients.flatMap((c, w) =>
        Array.from({ length: DEPTH }, async (_, lane) => {
          for (let seq = 0; !stop; seq++) {
            const id = `w${w}:c${cycle}:l${lane}:${seq}`;
            try {
              switch (seq % 4) {
                case 0:
                case 1: {
                  const key = `${id}:t`;
                  await c.sendCommand(['AI.TENSORSET', key, 'INT64', '3', 'VALUES', String(w), String(cycle), String(seq)]);
                  present.set(key, `${w},${cycle},${seq}`);
                  newKeys.push(key);
                  break;
                }
                case 2: {
                  const key = `${id}:s`;
                  await c.sendCommand(['SET', key, id]);
                  present.set(key, id);
                  newKeys.push(key);
                  break;
                }
                case 3: {
                  // Delete this lane's previous string (acknowledged deletes must stay deleted),
                  // and overwrite the writer's counter tensor.
                  const victim = `w${w}:c${cycle}:l${lane}:${seq - 1}:s`;
                  const v = ++latestSent[w]!;
                  // Sent, so the key may be gone after a crash even if the reply never came.
                  present.delete(victim);
                  await Promise.all([
                    c.sendCommand(['DEL', victim]).then(() => {
                      deleted.add(victim);
                      acked++;
                    }),
                    c.sendCommand(['AI.TENSORSET', `w${w}:latest`, 'INT64', '1', 'VALUES', String(v)]).then(() => {
                      latestAcked[w] = Math.max(latestAcked[w]!, v);
                      acked++;
                    }),
                  ]);
                  continue;
                }
              }
              acked++;
            } catch {
              return; // the server is gone: unacknowledged, may or may not be there
            }
          }
        }),
      );
      // Kill at a random moment of the write phase, once the cycle's model and at least 50 other
      // writes were acknowledged (so every cycle has something to lose, whatever the machine's speed).
      while (!modelDone || acked - ackedBefore < 51) await sleep(5);
      await sleep(Math.random() * 700);
      await kill9(server);
      stop = true;
      rewritesStarted += count(server.output(), 'Background append only file rewriting started');
      rewritesDone += count(server.output(), 'Background AOF rewrite terminated with success');
      await Promise.all(loops);
      for (const c of clients) if (c.isOpen) c.destroy();

      const t = Date.now();
      server = await start(args);
      loadMs = Math.max(loadMs, Date.now() - t);
      const c = await connect(server.port);
      // Everything acknowledged in this cycle, deletes, counters and models; all keys at the end.
      await verify(c, cycle === CYCLES - 1 ? present.keys() : newKeys.filter((k) => present.has(k)));
      const gone = [...deleted].filter((k) => k.includes(`:c${cycle}:`));
      if (gone.length > 0) {
        const n = Number(await c.sendCommand(['EXISTS', ...gone]));
        if (n !== 0) {
          losses += n;
          lost.push(`${n} acknowledged DELs undone in cycle ${cycle}`);
        }
      }
      for (let w = 0; w < WRITERS; w++) {
        if (latestAcked[w]! < 0) continue;
        const v = (await c.sendCommand(['AI.TENSORGET', `w${w}:latest`, 'VALUES'])) as unknown[];
        const got = Number(v[0]);
        if (!(got >= latestAcked[w]! && got <= latestSent[w]!)) {
          losses++;
          lost.push(`w${w}:latest = ${got}, acknowledged ${latestAcked[w]}`);
        }
        latestSent[w] = Math.max(latestSent[w]!, got);
      }
      for (const m of cycle === CYCLES - 1 ? models : models.filter((k) => k === `model:${cycle}`)) {
        const meta = (await c.sendCommand(['AI.MODELGET', m, 'META']).catch((e: Error) => [e.message])) as unknown[];
        if (!meta.includes('ONNX')) {
          losses++;
          lost.push(`${m}: ${String(meta)}`);
        }
      }
      c.destroy();
    }
    // The last cycle's model still runs after all those restarts.
    const last = await connect(server.port);
    await last.sendCommand(['AI.TENSORSET', 'x', 'FLOAT', '2', 'VALUES', '1', '2']);
    expect(await last.sendCommand(['AI.MODELEXECUTE', `model:${CYCLES - 1}`, 'INPUTS', '2', 'x', 'x', 'OUTPUTS', '1', 'y'])).toBe('OK');
    expect(await last.sendCommand(['AI.TENSORGET', 'y', 'VALUES'])).toEqual(['2', '4']);
    last.destroy();
    const aofSize = statSync(join(dir, 'appendonly.respai')).size;
    await server.stop();
    console.log(
      `crash test: ${CYCLES} SIGKILL cycles, ${WRITERS} writers x ${DEPTH} in flight, ${acked} acknowledged writes ` +
        `(${present.size} keys, ${deleted.size} deletes, ${models.length} models), ` +
        `${losses} lost; every restart succeeded (slowest ${loadMs} ms); ` +
        `automatic AOF rewrites: ${rewritesStarted} started, ${rewritesDone} completed, the rest killed midway; ` +
        `final AOF ${aofSize} bytes; ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(modelErrors).toEqual([]);
    expect(models).toHaveLength(CYCLES);
    expect(lost).toEqual([]);
    expect(losses).toBe(0);
  });
});
