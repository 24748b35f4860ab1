/**
 * Cluster routing of @respai/client. respai has no cluster mode, so the cluster here is three
 * Debian redis-servers (started and stopped by the test, each in its own temporary dir): they do
 * not know the AI.* commands and answer each with an error, which Redis counts per node
 * (`total_error_replies` in INFO stats). A command routed by its key must be refused by the node
 * that owns the key's slot, and by no other.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { RespaiClient, RespaiError } from '@respai/client';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

interface Node {
  port: number;
  proc: ChildProcess;
}

const nodes: Node[] = [];
let dir: string;

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor(ok: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

/**
 * One plain connection per node, kept open: a new node-redis connection sends CLIENT SETINFO,
 * which Redis 7.0 does not know, and that error would count on the node.
 */
const direct = new Map<number, ReturnType<typeof createClient>>();
async function nodeCommand(port: number, ...args: string[]): Promise<unknown> {
  let c = direct.get(port);
  if (!c) {
    c = createClient({ socket: { port, host: '127.0.0.1' } });
    c.on('error', () => undefined);
    await c.connect();
    direct.set(port, c);
  }
  return c.sendCommand(args);
}

const errors = async (port: number) => Number(/total_error_replies:(\d+)/.exec(String(await nodeCommand(port, 'INFO', 'stats')))![1]);

/** The port of the node serving `key`'s slot. */
async function owner(key: string): Promise<number> {
  const slot = Number(await nodeCommand(nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key));
  const slots = (await nodeCommand(nodes[0]!.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return slots.find(([lo, hi]) => slot >= lo && slot <= hi)![2][1];
}

describe.skipIf(!haveRedis)('cluster routing (a redis-server cluster that knows no AI.* command)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'respai-cluster-'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
          '--dir', dir, '--save', '', '--appendonly', 'no', '--cluster-node-timeout', '2000'],
        { stdio: 'ignore' },
      );
      nodes.push({ port, proc });
    }
    for (const n of nodes) await waitFor(() => listening(n.port), `redis-server on ${n.port}`);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    expect(create.status, create.stdout + create.stderr).toBe(0);
    for (const n of nodes) await waitFor(async () => String(await nodeCommand(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), 'cluster_state:ok');
  }, 60_000);

  afterAll(async () => {
    for (const c of direct.values()) await c.close().catch(() => undefined);
    for (const n of nodes) n.proc.kill('SIGTERM');
    await Promise.all(nodes.map((n) => new Promise((r) => (n.proc.exitCode !== null ? r(null) : n.proc.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `call`, which must be refused, and returns which nodes counted an error meanwhile. */
  async function refusedBy(call: () => Promise<unknown>): Promise<number[]> {
    const before = await Promise.all(nodes.map((n) => errors(n.port)));
    const e = await call().then(() => undefined, (x: unknown) => x);
    expect(RespaiError.isInstance(e) && e.text, String(e)).toMatch(/^ERR unknown command 'AI\./);
    const after = await Promise.all(nodes.map((n) => errors(n.port)));
    return nodes.filter((_, i) => after[i]! > before[i]!).map((n) => n.port);
  }

  const keys = ['{a}tensor', '{b}tensor', '{c}tensor', 'model:1', 'model:2'];

  it('node-redis cluster: each command goes to the node owning its key', async () => {
    const cluster = createCluster({ rootNodes: nodes.map((n) => ({ url: `redis://127.0.0.1:${n.port}` })) });
    await cluster.connect();
    const ai = new RespaiClient(cluster);
    expect(ai.transport.kind).toBe('node-redis-cluster');
    try {
      const owners = new Set<number>();
      for (const key of keys) {
        const want = await owner(key);
        owners.add(want);
        expect(await refusedBy(() => ai.tensorSet(key, new Float32Array([1])))).toEqual([want]);
        expect(await refusedBy(() => ai.tensorGet(key))).toEqual([want]);
        expect(await refusedBy(() => ai.modelExecute(key, { inputs: ['x'], outputs: ['y'] }))).toEqual([want]);
        expect(await refusedBy(() => ai.dag({ load: [key] }).tensorGet(key).run())).toEqual([want]);
      }
      expect(owners.size).toBeGreaterThan(1); // the keys do spread over nodes
    } finally {
      await cluster.close();
    }
  });

  it('ioredis Cluster: the same, although its command table has no AI.* command', async () => {
    const cluster = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    await new Promise((r) => cluster.once('ready', r));
    const ai = new RespaiClient(cluster);
    expect(ai.transport.kind).toBe('ioredis-cluster');
    try {
      for (const key of keys) {
        const want = await owner(key);
        expect(await refusedBy(() => ai.tensorSet(key, new Float32Array([1])))).toEqual([want]);
        expect(await refusedBy(() => ai.scriptExecute(key, 'f', { inputs: ['x'] }))).toEqual([want]);
        expect(await refusedBy(() => ai.dag({ routing: key }).tensorSet('t', [1], { dtype: 'FLOAT' }).run())).toEqual([want]);
      }
    } finally {
      await cluster.quit();
    }
  });
});
