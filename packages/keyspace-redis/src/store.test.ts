/**
 * The store client against a real redis-server (Debian's, started here on a free port with its own
 * --dir): the write scripts' type checks and atomicity, EVAL after NOSCRIPT, reads, and faults:
 * a store that stops answering (SIGSTOP) gives `ERR keyspace unavailable: timeout` within the
 * deadline, and one that is gone gives `ERR keyspace unavailable: ...` at once; both recover.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E, RespaiError, Tensor } from '@respai/core';
import { OverlayKeyspace } from './overlay.js';
import { ExternalKeyspace } from './external.js';
import { SET_VALUES } from './lua.js';

const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function redis(port: number, extra: string[] = []): Promise<{ proc: ChildProcess; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'respai-store-test-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((resolve) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  return {
    proc,
    async stop() {
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const t = (...v: number[]) => Tensor.fromValues('FLOAT', [v.length], v.map((x) => Buffer.from(String(x))));
const wrongType = new RespaiError(E.wrongType);

describe.skipIf(!hasRedis)('ExternalKeyspace over a real redis-server', () => {
  let port: number;
  let server: Awaited<ReturnType<typeof redis>>;
  let ks: ExternalKeyspace;
  const send = (...args: string[]) => ks.store.send(args, args[1]);

  beforeAll(async () => {
    port = await freePort();
    server = await redis(port);
    // The engine is only used to load models and scripts, which these tests do not.
    ks = new ExternalKeyspace({ url: `redis://127.0.0.1:${port}`, timeoutMs: 300, checkIntervalMs: 0, engine: undefined as never });
    await ks.start();
  });

  afterAll(async () => {
    await ks?.close();
    await server?.stop();
  });

  it('writes tensors in one script call, and reads them back into an overlay', async () => {
    await ks.writeTensors([['a', t(1, 2)], ['b', t(3)]]);
    const o = new OverlayKeyspace();
    await ks.prefetch(o, [['a', 'tensor'], ['b', 'tensor'], ['none', 'tensor']]);
    expect([...o.getTyped('a', 'tensor')!.view()]).toEqual([1, 2]);
    expect([...o.getTyped('b', 'tensor')!.view()]).toEqual([3]);
    expect(o.getTyped('none', 'tensor')).toBeUndefined();
  });

  it('checks every key type before writing any: WRONGTYPE leaves all keys as they were', async () => {
    await send('SET', 's', 'x');
    await expect(ks.writeTensors([['a', t(9)], ['s', t(9)]])).rejects.toEqual(wrongType);
    expect(await send('GET', 's')).toEqual(Buffer.from('x'));
    const o = new OverlayKeyspace();
    await ks.prefetch(o, [['a', 'tensor']]);
    expect([...o.getTyped('a', 'tensor')!.view()]).toEqual([1, 2]);
    // A plain hash is not a tensor either, and a respai value of another type neither.
    await send('HSET', 'h', 'f', 'v');
    await expect(ks.writeTensors([['h', t(1)]])).rejects.toEqual(wrongType);
    await send('HSET', 'm', 'respai:type', 'AI__MODEL');
    await expect(ks.writeTensors([['m', t(1)]])).rejects.toEqual(wrongType);
  });

  it('replaces a tensor whole, clearing its TTL, as SET does', async () => {
    await send('EXPIRE', 'a', '100');
    await ks.writeTensors([['a', t(5)]]);
    expect(await send('TTL', 'a')).toBe(-1);
  });

  it('reads plain values as their type alone', async () => {
    const o = new OverlayKeyspace();
    await ks.prefetch(o, [['s', 'tensor'], ['h', 'tensor'], ['m', 'tensor']]);
    for (const k of ['s', 'h', 'm']) expect(() => o.getTyped(k, 'tensor')).toThrow(wrongType);
  });

  it('EVAL after NOSCRIPT (a store that never saw the script, or flushed it)', async () => {
    await send('SCRIPT', 'FLUSH');
    await ks.writeTensors([['c', t(7)]]);
    expect(await ks.store.send(['SCRIPT', 'EXISTS', SET_VALUES.sha], undefined)).toEqual([1]);
  });

  it('deletes models only: missing is false, another type WRONGTYPE', async () => {
    expect(await ks.deleteValue('nothing', 'model')).toBe(false);
    await expect(ks.deleteValue('c', 'model')).rejects.toEqual(wrongType);
    expect(await ks.deleteValue('m', 'model')).toBe(true);
  });

  it('a store that stops answering: ERR keyspace unavailable: timeout within the deadline, then it works again', async () => {
    server.proc.kill('SIGSTOP');
    try {
      await expect(send('GET', 's')).rejects.toEqual(new RespaiError(E.keyspaceUnavailable('timeout')));
      await expect(ks.writeTensors([['d', t(1)]])).rejects.toEqual(new RespaiError(E.keyspaceUnavailable('timeout (the write may or may not have been applied)')));
      expect(ks.store.state.status).toBe('down');
      expect(ks.store.state.timeouts).toBeGreaterThanOrEqual(2);
    } finally {
      server.proc.kill('SIGCONT');
    }
    expect(await send('GET', 's')).toEqual(Buffer.from('x'));
  });

  it('a store that is gone fails at once, and is found again when it is back', async () => {
    await server.stop();
    await expect(send('GET', 's')).rejects.toThrow(/^ERR keyspace unavailable: /);
    server = await redis(port);
    let r: unknown;
    for (let i = 0; i < 100; i++) {
      r = await send('PING').catch((e: Error) => e.message);
      if (String(r) === 'PONG') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(String(r)).toBe('PONG');
  });
});

describe.skipIf(!hasRedis)('a store that wants a password', () => {
  it('connects with the URL\'s credentials; the wrong ones give ERR keyspace unavailable with the store\'s reason', async () => {
    const port = await freePort();
    const server = await redis(port, ['--requirepass', 's3cret']);
    const good = new ExternalKeyspace({ url: `redis://:s3cret@127.0.0.1:${port}`, timeoutMs: 1000, checkIntervalMs: 0, engine: undefined as never });
    const bad = new ExternalKeyspace({ url: `redis://127.0.0.1:${port}`, password: 'wrong', timeoutMs: 1000, checkIntervalMs: 0, engine: undefined as never });
    try {
      await good.start();
      await good.writeTensors([['k', t(1)]]);
      expect(await good.store.send(['HGET', 'k', 'dtype'], 'k')).toEqual(Buffer.from('FLOAT'));
      await bad.start();
      await expect(bad.store.send(['GET', 'k'], 'k')).rejects.toThrow(/^ERR keyspace unavailable: .*(WRONGPASS|invalid)/);
      expect(bad.store.state.masters).toEqual([]);
    } finally {
      await good.close();
      await bad.close();
      await server.stop();
    }
  });
});
