import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnRedisServer } from './redis-server.js';

/**
 * A real Redis Cluster of 3 masters and 3 replicas from Debian's redis-server, for the external
 * keyspace's tests (docs/scale-out.md, "Tests"): six `redis-server --cluster-enabled yes` on free
 * loopback ports, each in its own temporary --dir (its nodes.conf), joined with `redis-cli
 * --cluster create ... --cluster-replicas 1 --cluster-yes`. cluster-node-timeout is 1000 ms so a
 * killed master's replica takes over within seconds. Every wait is bounded.
 */
export interface RedisCluster {
  /** Every node's port, masters first as created. */
  readonly ports: number[];
  /** `127.0.0.1:port,...` of every node (keyspace-cluster-nodes). */
  readonly seeds: string;
  /** Runs redis-cli against a live node (`-c`: follows redirections). */
  cli(args: string[], opts?: { port?: number; stdin?: Buffer }): Promise<string>;
  /** Resolves once every live replica has applied everything its master has (replication offsets). */
  synced(): Promise<void>;
  /** SIGKILLs the master serving `key`'s slot; resolves once a replica serves the slot and the cluster is ok. */
  killMasterOf(key: string): Promise<{ killed: number; promoted: number }>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], stdin?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000, maxBuffer: 64 << 20 }, (e, out, err) =>
      e ? reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}\n${out}${err}`)) : resolve(out),
    );
    child.stdin!.on('error', () => undefined); // a redis-cli that exits without reading its input
    child.stdin!.end(stdin ?? '');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it holds; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // a node not answering yet
    }
    if (Date.now() > end) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Node {
  port: number;
  dir: string;
  proc: ChildProcess;
  exited: Promise<void>;
}

async function startNode(port: number): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'respai-cluster-'));
  const { proc, exited } = await spawnRedisServer([
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', '1000', '--save', '', '--appendonly', 'no',
  ]);
  return { port, dir, proc, exited };
}

/** `CLUSTER NODES` parsed: id, port, flags, master id, slot ranges. */
function parseNodes(text: string) {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split(' ');
      const slots = f.slice(8).filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number) as [number, number?]);
      return { id: f[0]!, port: Number(f[1]!.split(':')[1]!.split('@')[0]), flags: f[2]!.split(','), master: f[3]!, slots };
    });
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const ports: number[] = [];
  while (ports.length < 6) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const nodes: Node[] = [];
  const stop = async () => {
    for (const n of nodes) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  };
  try {
    nodes.push(...(await Promise.all(ports.map(startNode))));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    const live = () => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
    const cli = (args: string[], opts: { port?: number; stdin?: Buffer } = {}) =>
      run('redis-cli', ['-c', '-h', '127.0.0.1', '-p', String(opts.port ?? live()[0]!.port), ...args], opts.stdin);
    const clusterOk = async () => {
      for (const n of live()) if (!(await cli(['CLUSTER', 'INFO'], { port: n.port })).includes('cluster_state:ok')) return false;
      return true;
    };
    await until('cluster_state:ok on every node', clusterOk);
    // Every replica in sync with its master, so a failover has somewhere to go.
    await until('replicas in sync', async () => {
      for (const n of live()) {
        const info = await cli(['INFO', 'replication'], { port: n.port });
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
      }
      return true;
    });
    const offset = (info: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? -1);
    const synced = () =>
      until('replicas caught up', async () => {
        const masters = new Map<number, number>();
        const infos = await Promise.all(live().map(async (n) => [n.port, await cli(['INFO', 'replication'], { port: n.port })] as const));
        for (const [port, info] of infos) if (info.includes('role:master')) masters.set(port, offset(info, 'master_repl_offset'));
        return infos.every(([, info]) => {
          if (!info.includes('role:slave')) return true;
          const master = masters.get(offset(info, 'master_port'));
          return master === undefined || offset(info, 'slave_repl_offset') >= master;
        });
      });
    return {
      ports,
      synced,
      seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
      cli,
      async killMasterOf(key: string) {
        const slot = Number((await cli(['CLUSTER', 'KEYSLOT', key])).trim());
        const owner = (text: string) =>
          parseNodes(text).find((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.some(([a, b]) => slot >= a && slot <= (b ?? a)));
        const victim = owner(await cli(['CLUSTER', 'NODES']));
        if (victim === undefined) throw new Error(`no master serves slot ${slot}`);
        const node = nodes.find((n) => n.port === victim.port)!;
        node.proc.kill('SIGKILL');
        await node.exited;
        let promoted = 0;
        await until(`a replica serving slot ${slot}`, async () => {
          const o = owner(await cli(['CLUSTER', 'NODES']));
          if (o === undefined || o.port === victim.port) return false;
          promoted = o.port;
          return clusterOk();
        });
        return { killed: victim.port, promoted };
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
