import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedis, type ServerHandle } from '../servers.js';
import { encodeCommand, runLoad, sendBatch } from './index.js';

// Needs a real redis-server; skipped where none is installed.
describe.skipIf(!haveRedisServer())('loadgen against redis-server', () => {
  let redis: ServerHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('counts SET and GET ops for about a second, each client on its own key', async () => {
    const blob = Buffer.alloc(1024, 1);
    const key = (i: number) => `smoke:${i}`;
    const opts = { port: redis.port, connections: 4, pipeline: 2, windowMs: 200, warmupMs: 100, maxWindows: 3 };
    const set = await runLoad({ ...opts, requests: (i) => encodeCommand(['SET', key(i), blob]) });
    const get = await runLoad({ ...opts, requests: (i) => encodeCommand(['GET', key(i)]) });
    for (const r of [set, get]) {
      expect(r.opsPerSec).toBeGreaterThan(100);
      expect(r.errors).toBe(0);
      expect(r.windows.length).toBeGreaterThanOrEqual(1);
      expect(r.histogram.count).toBeGreaterThan(0);
      expect(r.p99Us).toBeGreaterThanOrEqual(r.p50Us);
    }
    const check = await sendBatch(redis.port, [encodeCommand(['DBSIZE'])]);
    expect(check.errors).toBe(0);
  });

  it('counts error replies apart from ops and keeps the first message', async () => {
    const r = await runLoad({
      port: redis.port,
      connections: 2,
      windowMs: 200,
      warmupMs: 100,
      maxWindows: 3,
      requests: () => [encodeCommand(['PING']), encodeCommand(['NOSUCHCOMMAND'])],
    });
    expect(r.errors).toBeGreaterThan(0);
    expect(r.firstError).toMatch(/unknown command/i);
    expect(r.opsPerSec).toBeGreaterThan(0); // the PINGs
  });
});
