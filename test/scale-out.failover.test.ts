/**
 * A Cluster master killed while two respai nodes run models against it (docs/scale-out.md,
 * "Faults and reconnection"): while the replica takes over, affected commands fail with
 * `ERR keyspace unavailable: ...` (never another error, never a hang); afterwards every command
 * succeeds again through both nodes without restarting them, and a model re-stored through one
 * node is what the other runs next (no stale model across the failover).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { OnnxType, binaryModel } from '@respai/backend-onnx/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { hasRedisServer } from './helpers/redis-server.js';
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js';

type Client = ReturnType<typeof createClient>;
const ADD = binaryModel('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);
const MUL = binaryModel('Mul', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasRedisServer)('a Cluster failover under load', () => {
  let cluster: RedisCluster;
  let nodes: RunningServer[] = [];
  let clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const opts = ['--keyspace-cluster-nodes', cluster.seeds, '--keyspace-check-interval', '100', '--keyspace-timeout', '2000'];
    nodes = await Promise.all([startServer(opts), startServer(opts)]);
    for (const n of nodes) {
      // Several connections per node, so runs overlap as under real load.
      for (let i = 0; i < 3; i++) {
        const c = createClient({ socket: { port: n.port, host: '127.0.0.1', reconnectStrategy: false } });
        c.on('error', () => undefined);
        clients.push((await c.connect()) as Client);
      }
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    const codes = await Promise.all(nodes.map((n) => n.stop()));
    await cluster?.stop();
    expect(codes).toEqual(nodes.map(() => 0));
    for (const n of nodes) expect(n.output()).not.toMatch(/"level":50/);
    clients = [];
    nodes = [];
  });

  it('fails with ERR keyspace unavailable only while the replica takes over, then serves everything, never a stale model', async () => {
    const [a, b] = [clients[0]!, clients[3]!];
    expect(await a.sendCommand(['AI.MODELSTORE', 'fm{f}', 'ONNX', 'CPU', 'BLOB', ADD])).toBe('OK');
    expect(await a.sendCommand(['AI.TENSORSET', 'fa{f}', 'FLOAT', '1', '2', 'VALUES', '1', '2'])).toBe('OK');
    expect(await b.sendCommand(['AI.MODELEXECUTE', 'fm{f}', 'INPUTS', '2', 'fa{f}', 'fa{f}', 'OUTPUTS', '1', 'fo{f}'])).toBe('OK');
    await cluster.synced();

    // Load: every client runs the model and reads its output, until told to stop.
    let stop = false;
    const errors = new Map<string, number>();
    let ok = 0;
    const wrong: unknown[] = [];
    const loops = clients.map(async (c, i) => {
      for (let n = 0; !stop && n < 100_000; n++) {
        try {
          const out = `fo{f}${i}`;
          expect(await c.sendCommand(['AI.MODELEXECUTE', 'fm{f}', 'INPUTS', '2', 'fa{f}', 'fa{f}', 'OUTPUTS', '1', out])).toBe('OK');
          const v = ((await c.sendCommand(['AI.TENSORGET', out, 'VALUES'])) as string[]).map(Number);
          if (v[0] !== 2 || v[1] !== 4) wrong.push(v);
          ok++;
        } catch (e) {
          const m = (e as Error).message;
          errors.set(m, (errors.get(m) ?? 0) + 1);
          await sleep(10);
        }
      }
    });
    await sleep(200);
    const before = ok;
    const { killed, promoted } = await cluster.killMasterOf('fm{f}');
    expect(promoted).not.toBe(killed);

    // Every client gets through again, without a restart (bounded wait for the topology refresh).
    const settled = ok;
    const end = Date.now() + 15_000;
    while (ok < settled + 50 && Date.now() < end) await sleep(20);
    stop = true;
    await Promise.all(loops);
    expect(before).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(settled + 50);
    expect(wrong).toEqual([]);
    for (const m of errors.keys()) expect(m).toMatch(/^ERR keyspace unavailable: /);

    // Now every command succeeds, through both nodes, on every shard.
    for (const c of [a, b]) {
      for (let i = 0; i < 20; i++) {
        expect(await c.sendCommand(['SET', `after${i}`, String(i)])).toBe('OK');
        expect(await c.sendCommand(['GET', `after${i}`])).toBe(String(i));
      }
      expect(await c.sendCommand(['AI.MODELEXECUTE', 'fm{f}', 'INPUTS', '2', 'fa{f}', 'fa{f}', 'OUTPUTS', '1', 'fo{f}'])).toBe('OK');
      expect(Number(await c.sendCommand(['DBSIZE']))).toBeGreaterThan(20);
    }
    // A model re-stored through A after the failover is what B runs next.
    expect(await a.sendCommand(['AI.MODELSTORE', 'fm{f}', 'ONNX', 'CPU', 'BLOB', MUL])).toBe('OK');
    expect(await b.sendCommand(['AI.MODELEXECUTE', 'fm{f}', 'INPUTS', '2', 'fa{f}', 'fa{f}', 'OUTPUTS', '1', 'fo{f}'])).toBe('OK');
    expect(await b.sendCommand(['AI.TENSORGET', 'fo{f}', 'VALUES'])).toEqual(['1', '4']);
    const info = String(await b.sendCommand(['INFO', 'keyspace_store']));
    expect(info).toContain('keyspace_store_status:ok');
    expect(info).toMatch(/keyspace_store_masters:3\r/);
    expect(info).not.toContain(`:${killed},`);
  }, 90_000);
});
