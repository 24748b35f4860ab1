import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { RawClient, type Arg } from './raw-client.js';
import { startServer, type RunningServer } from './server.js';

/** Debian's redis-server, when installed (scripts/bootstrap installs it). */
export const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns redis-server with `args`; resolves once it logs that it is ready (rejects if it exits first). */
export async function spawnRedisServer(args: string[]): Promise<{ proc: ChildProcess; exited: Promise<void> }> {
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`redis-server exited:\n${out}`)));
  });
  return { proc, exited };
}

export interface RedisServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * A real redis-server 7 for reply comparisons: a free port (or `port`, to bring a stopped one
 * back), its own temporary --dir, no persistence, default settings otherwise (no config file).
 * Resolves once it is ready.
 */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'respai-redis-'));
  const port = opts.port ?? (await freePort());
  const { proc, exited } = await spawnRedisServer(['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no']);
  return {
    port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A real redis-server and respai side by side, one raw connection to each (see {@link twinServers}). */
export interface TwinServers {
  /** The connection to redis-server. */
  readonly redis: RawClient;
  /** The connection to respai. */
  readonly respai: RawClient;
  /** The respai server (its process, its log). */
  readonly respaiServer: RunningServer;
  /**
   * Sends each command to both, one after the other, and describes those whose replies differ once
   * passed through `view` (default: the raw bytes): an empty list when all agree.
   */
  differences(commands: readonly Arg[][], view?: (raw: string) => unknown): Promise<string[]>;
}

/**
 * Starts redis-server and respai (each with defaults and a temporary dir of its own) before the
 * enclosing describe's tests and stops them after: for tests that compare replies byte for byte.
 */
export function twinServers(): TwinServers {
  let redis: RedisServer | undefined;
  let respai: RunningServer | undefined;
  let a: RawClient | undefined;
  let b: RawClient | undefined;
  beforeAll(async () => {
    [redis, respai] = await Promise.all([startRedisServer(), startServer()]);
    [a, b] = await Promise.all([RawClient.connect(redis.port), RawClient.connect(respai.port)]);
  }, 30_000);
  afterAll(async () => {
    a?.close();
    b?.close();
    await Promise.all([redis?.stop(), respai?.stop()]);
  });
  const cut = (t: string) => (t.length > 400 ? `${t.slice(0, 400)}...` : t);
  return {
    get redis() {
      return a!;
    },
    get respai() {
      return b!;
    },
    get respaiServer() {
      return respai!;
    },
    async differences(commands, view = (raw) => raw) {
      const diffs: string[] = [];
      for (const c of commands) {
        const [x, y] = await Promise.all([a!.call(...c), b!.call(...c)]);
        const [vx, vy] = [JSON.stringify(view(x)), JSON.stringify(view(y))];
        const line = c.map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v))).join(' ');
        if (vx !== vy) diffs.push(`${cut(line)}\n  redis:  ${cut(vx)}\n  respai: ${cut(vy)}`);
      }
      return diffs;
    },
  };
}
