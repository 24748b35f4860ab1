/**
 * CONFIG against a real redis-server 7, for the options respai shares with it: the defaults
 * CONFIG GET reports, and CONFIG SET's refusals, byte for byte. Each server runs with its own
 * defaults (redis-server: the test helper's port, dir, `save ""` and `appendonly no` only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, type Arg } from './helpers/raw-client.js';
import { hasRedisServer, startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { startServer, type RunningServer } from './helpers/server.js';

/**
 * Redis's options with the same meaning and default in respai (maxclients follows the fd limit in
 * Redis). loglevel is compared by its default only: respai takes Redis 7.2's `nothing`, which the
 * 7.0 server here does not know.
 */
const SHARED = [
  'proto-max-bulk-len', 'loglevel', 'requirepass', 'dbfilename', 'appendonly', 'appendfsync', 'auto-aof-rewrite-percentage',
  'auto-aof-rewrite-min-size', 'rdbcompression', 'key-load-delay',
];

const run = hasRedisServer ? describe : describe.skip;

run('CONFIG: replies equal redis-server 7 for the options both have', () => {
  let redis: RedisServer;
  let respai: RunningServer;
  let a: RawClient;
  let b: RawClient;

  beforeAll(async () => {
    [redis, respai] = await Promise.all([startRedisServer(), startServer()]);
    [a, b] = await Promise.all([RawClient.connect(redis.port), RawClient.connect(respai.port)]);
  }, 30_000);

  afterAll(async () => {
    a?.close();
    b?.close();
    await Promise.all([redis?.stop(), respai?.stop()]);
  });

  async function differences(commands: Arg[][]): Promise<string[]> {
    const diffs: string[] = [];
    for (const c of commands) {
      const [x, y] = await Promise.all([a.call(...c), b.call(...c)]);
      if (x !== y) diffs.push(`${c.join(' ')}\n  redis:  ${JSON.stringify(x)}\n  respai: ${JSON.stringify(y)}`);
    }
    return diffs;
  }

  it('CONFIG GET: the same defaults', async () => {
    expect(await differences(SHARED.map((o) => ['CONFIG', 'GET', o]))).toEqual([]);
  });

  it("CONFIG SET: the same refusals (and nothing changed by them)", async () => {
    expect(
      await differences([
        ['CONFIG', 'SET', 'maxclients', '0'],
        ['CONFIG', 'SET', 'maxclients', 'abc'],
        ['CONFIG', 'SET', 'maxclients', '-1'],
        ['CONFIG', 'SET', 'maxclients', '4294967296'],
        ['CONFIG', 'SET', 'proto-max-bulk-len', '1'],
        ['CONFIG', 'SET', 'proto-max-bulk-len', 'lots'],
        ['CONFIG', 'SET', 'appendfsync', 'sometimes'],
        ['CONFIG', 'SET', 'rdbcompression', 'maybe'],
        ['CONFIG', 'SET', 'auto-aof-rewrite-percentage', '-1'],
        ['CONFIG', 'SET', 'key-load-delay', 'x'],
        ['CONFIG', 'SET', 'nope', '1'],
        ['CONFIG', 'SET', 'Foo', 'bar'],
        ['CONFIG', 'SET', 'loglevel', 'warning', 'LOGLEVEL', 'notice'],
        ['CONFIG', 'SET', 'loglevel', 'warning', 'nope', '1'],
        ['CONFIG', 'SET', 'loglevel'],
        ['CONFIG', 'SET'],
        ['CONFIG', 'GET'],
        ['CONFIG', 'NOPE'],
        ...SHARED.map((o) => ['CONFIG', 'GET', o]),
      ]),
    ).toEqual([]);
  });
});
