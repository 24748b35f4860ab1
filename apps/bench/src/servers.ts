import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: this file sits at apps/bench/{src,dist}/servers.*. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const respaiCli = `${repoRoot}apps/server/dist/cli.js`;

export interface ServerHandle {
  name: string;
  port: number;
  pid: number;
  /** Resident set size from /proc/<pid>/status (VmRSS), in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
/** Temporary `--dir`s of the servers started here, removed at exit. */
const tempDirs = new Set<string>();
let exitHook = false;
let signalHooks = false;

/** Last resort on any exit path, an uncaught error included: never leave servers on their ports. */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * For the CLI: Ctrl-C / SIGTERM kill the servers and exit. Not installed by merely importing this
 * module, since a test runner owns its own signals.
 */
export function installCleanup(): void {
  installExitHook();
  if (signalHooks) return;
  signalHooks = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping servers\n`);
      for (const c of running) c.kill('SIGKILL');
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopChild(c)));
}

/** A port nothing listens on right now (the OS picks it; a tiny race with other processes remains). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `extraArgs` come after the defaults, so they override them (`--appendonly yes`, `--dir ...`). */
export async function startRedis(port?: number, extraArgs: readonly string[] = []): Promise<ServerHandle> {
  const p = port ?? (await freePort());
  return startServer('redis', 'redis-server', ['--port', String(p), '--save', '', '--appendonly', 'no', ...ownDir(extraArgs), ...extraArgs], p);
}

/** `--dir` of a fresh temporary directory unless `args` name one: no server reads files left in the repository. */
function ownDir(args: readonly string[]): string[] {
  if (args.includes('--dir')) return [];
  const dir = mkdtempSync(join(tmpdir(), 'respai-bench-'));
  tempDirs.add(dir);
  return ['--dir', dir];
}

export function respaiAvailable(): boolean {
  return existsSync(respaiCli);
}

/** Starts respai (`cli`: another build's apps/server/dist/cli.js, for A/B runs). */
export async function startRespai(port?: number, extraArgs: readonly string[] = [], cli = respaiCli): Promise<ServerHandle> {
  if (!existsSync(cli)) throw new Error(`${cli} not found: run \`npm run build\` first`);
  const p = port ?? (await freePort());
  return startServer(
    'respai',
    process.execPath,
    [cli, '--port', String(p), '--loglevel', 'warning', ...ownDir(extraArgs), ...extraArgs],
    p,
  );
}

async function startServer(name: string, cmd: string, args: string[], port: number): Promise<ServerHandle> {
  installExitHook();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | undefined;
  child.on('exit', (code, sig) => {
    running.delete(child);
    exited = `exited (${sig ?? code})`;
  });
  child.on('error', (e) => {
    running.delete(child);
    exited = `failed to start: ${e.message}`;
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`${name} ${exited}\n${output.trim()}`);
    if (await ping(port)) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${name} did not answer PING on port ${port} within 20 s\n${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return { name, port, pid, rssBytes: () => readRss(pid), stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      running.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function readRss(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** One PING; true on +PONG. False on refusal or timeout, so callers can retry while a server boots. */
export function ping(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let got = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('connect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
    s.on('error', () => done(false));
  });
}

/**
 * CPU time (utime + stime) in microseconds, from /proc (USER_HZ 100 on Linux): of the whole
 * process, or for a negative pid its main thread alone (/proc/<pid>/task/<pid>: the event loop).
 */
export function cpuUs(pid: number): number {
  const stat = readFileSync(pid < 0 ? `/proc/${-pid}/task/${-pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}
