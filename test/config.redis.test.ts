/**
 * CONFIG against a real redis-server 7, for the options respai shares with it: the defaults
 * CONFIG GET reports, and CONFIG SET's refusals, byte for byte. Each server runs with its own
 * defaults (redis-server: the test helper's port, dir, `save ""` and `appendonly no` only).
 */
import { describe, expect, it } from 'vitest';
import { hasRedisServer, twinServers } from './helpers/redis-server.js';

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
  const twins = twinServers();

  it('CONFIG GET: the same defaults', async () => {
    expect(await twins.differences(SHARED.map((o) => ['CONFIG', 'GET', o]))).toEqual([]);
  });

  it("CONFIG SET: the same refusals (and nothing changed by them)", async () => {
    expect(
      await twins.differences([
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
