import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_CLI = `${REPO}apps/server/dist/cli.js`;

export interface RunningServer {
  port: number;
  proc: ChildProcess;
  /** Everything the server printed so far (logs). */
  output(): string;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Resolves when the process exits. */
  exited: Promise<number | null>;
}

/**
 * Starts the built respai-server on a free port (`--port 0`, the port is read from the
 * "Ready" log line) and resolves once it accepts connections.
 */
export async function startServer(args: string[] = []): Promise<RunningServer> {
  if (!existsSync(SERVER_CLI)) throw new Error(`${SERVER_CLI} missing: run the build (npm test does)`);
  // A directory of its own unless the test names one: never a snapshot or AOF lying in the repository.
  const ownDir = args.includes('--dir') ? undefined : mkdtempSync(join(tmpdir(), 'respai-test-'));
  const dirArgs = ownDir === undefined ? [] : ['--dir', ownDir];
  // A free port unless the test names one (TLS tests open a plain and a TLS port together).
  const portArgs = args.includes('--port') ? [] : ['--port', '0'];
  const proc = spawn(process.execPath, [SERVER_CLI, ...args, ...dirArgs, ...portArgs, '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  if (ownDir !== undefined) void exited.then(() => rmSync(ownDir, { recursive: true, force: true }));
  const port = await new Promise<number>((resolve, reject) => {
    // A safety net only: a server loading a snapshot of models on a busy machine can take a while.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    const check = () => {
      const m = /"port":(\d+)[^\n]*Ready to accept connections|Ready to accept connections[^\n]*"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1] ?? m[2]));
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    port,
    proc,
    exited,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Sends raw bytes and collects everything received until the server closes or `ms` pass. */
export function rawExchange(port: number, data: Buffer | string, ms = 1000): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ reply, closed });
    }, ms);
    sock.on('data', (d) => (reply += d.toString('latin1')));
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ reply, closed });
    });
    sock.on('error', () => undefined);
    sock.write(data);
  });
}
