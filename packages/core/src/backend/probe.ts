import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';

/**
 * Checking new models and scripts in a process of their own.
 *
 * Native runtimes are not hardened against hostile bytes: TFLite 2.2 aborts on some flatbuffers
 * that pass its verifier, libtorch's archive loader reads freed memory on some damaged archives and
 * its TorchScript parser overflows the stack on deep nesting. A backend therefore loads every blob
 * or source it has not seen before in a child process first (a spawned Node process for TFLITE,
 * a fork of the server inside the TORCH addon), and only bytes the child loaded cleanly reach the
 * server's runtime. {@link Prober} remembers what passed by SHA-256, so a RESTORE, a reload from
 * the snapshot or a second key with the same model does not pay the check again.
 */

/** How a check in a child process ended. */
export type ProbeVerdict =
  /** `output`: what a child process wrote on stdout (its findings), where the check ran in one. */
  | { readonly kind: 'ok'; readonly output?: string }
  /** The runtime refused the bytes with an error (its message). */
  | { readonly kind: 'refused'; readonly message: string; readonly output?: string }
  /** The child died: a signal name (`SIGSEGV`) or `exit code N`; `output` says how far it got. */
  | { readonly kind: 'crashed'; readonly message: string; readonly output?: string }
  /** The child ran past its time limit and was killed; `cpuMs` is the CPU time it used. */
  | { readonly kind: 'timedOut'; readonly cpuMs: number }
  /** No child could be started (`message` says why). */
  | { readonly kind: 'unavailable'; readonly message: string };

export interface ProberOptions {
  /** Digests of blobs that passed, kept up to this many (least recently used go first). */
  readonly capacity?: number;
  /** Checks running at once (more wait their turn); default: the machine's parallelism, at least 2. */
  readonly concurrency?: number;
}

/**
 * Runs each distinct blob's check once: what passed is remembered by digest, concurrent checks of
 * the same bytes share one child. A child that timed out having used under a tenth of its time on
 * CPU was stuck, not busy (a lock another thread held at fork time): it is checked once more.
 */
export class Prober {
  private readonly passed = new Map<string, true>();
  private readonly inflight = new Map<string, Promise<ProbeVerdict>>();
  private readonly capacity: number;
  private readonly concurrency: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Checks run in a child (not answered from the cache), for statistics and tests. */
  checks = 0;

  constructor(options: ProberOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.concurrency = options.concurrency ?? Math.max(2, availableParallelism());
  }

  /**
   * The verdict on `bytes`, checked by `run` unless these bytes passed before. `kind` keeps models
   * and scripts (or two checks of different strength) apart.
   */
  async check(kind: string, bytes: Uint8Array | string, run: (attempt: number) => Promise<ProbeVerdict>, timeoutMs: number): Promise<ProbeVerdict> {
    const key = `${kind}:${await digest(bytes)}`;
    if (this.passed.has(key)) {
      this.passed.delete(key);
      this.passed.set(key, true);
      return OK;
    }
    let p = this.inflight.get(key);
    if (p === undefined) {
      p = this.runChecked(key, run, timeoutMs).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Forgets every digest (tests, or after the runtime changed). */
  clear(): void {
    this.passed.clear();
  }

  private async runChecked(key: string, run: (attempt: number) => Promise<ProbeVerdict>, timeoutMs: number): Promise<ProbeVerdict> {
    let verdict: ProbeVerdict;
    // A flood of stores must not become a flood of child processes.
    if (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      for (let attempt = 0; ; attempt++) {
        this.checks++;
        verdict = await run(attempt);
        const stuck = verdict.kind === 'timedOut' && verdict.cpuMs < timeoutMs / 10;
        if (!stuck || attempt > 0) break;
      }
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
    if (verdict.kind === 'ok') {
      this.passed.set(key, true);
      if (this.passed.size > this.capacity) this.passed.delete(this.passed.keys().next().value!);
    }
    return verdict;
  }
}

const OK: ProbeVerdict = { kind: 'ok' };

/** Bytes hashed between two turns of the event loop (about 1 ms). */
const DIGEST_SLICE = 1 << 20;

/**
 * SHA-256 of the bytes (a string as UTF-8), hex. Hashed a slice at a time, yielding to the event
 * loop between slices, so a large model never blocks it for long (WebCrypto's digest runs off the
 * loop but several times slower: it copies the input and takes no SHA extensions).
 */
export async function digest(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const h = createHash('sha256');
  for (let at = 0; at < data.length; at += DIGEST_SLICE) {
    if (at > 0) await new Promise((r) => setImmediate(r));
    h.update(data.subarray(at, at + DIGEST_SLICE));
  }
  return h.digest('hex');
}

/** The exit code of a child that refused the bytes (EX_DATAERR): any other failure is a crash. */
export const PROBE_REFUSED_EXIT = 65;

export interface ChildProcessProbeOptions {
  /**
   * The module the child runs: it reads the bytes from stdin, exits 0 when they load, and
   * {@link PROBE_REFUSED_EXIT} with the reason on stderr when the runtime refuses them.
   */
  readonly module: string;
  readonly input: Uint8Array;
  readonly timeoutMs: number;
  /** Arguments after the module. */
  readonly args?: readonly string[];
}

/** Stderr kept from a child (its reason), and stdout (its findings), at most. */
const MAX_STDERR = 64 * 1024;
const MAX_STDOUT = 256 * 1024;

/** Runs `module` in a new Node process with `input` on its stdin; see {@link ChildProcessProbeOptions}. */
export function probeChildProcess(options: ChildProcessProbeOptions): Promise<ProbeVerdict> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [options.module, ...(options.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_STDERR) stderr += d.slice(0, MAX_STDERR - stderr.length);
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_STDOUT) stdout += d.slice(0, MAX_STDOUT - stdout.length);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ kind: 'unavailable', message: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // The CPU time of one child is not reported by Node: a timed-out child counts as busy.
      const output = stdout === '' ? {} : { output: stdout };
      if (timedOut) resolve({ kind: 'timedOut', cpuMs: options.timeoutMs });
      else if (code === 0) resolve({ kind: 'ok', ...output });
      else if (signal !== null) resolve({ kind: 'crashed', message: signal, ...output });
      else if (code === PROBE_REFUSED_EXIT) resolve({ kind: 'refused', message: stderr.trim(), ...output });
      else resolve({ kind: 'crashed', message: `exit code ${code}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`, ...output });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
