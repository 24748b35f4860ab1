import net from 'node:net';
import type { Histogram } from './histogram.js';
import { ReplyScanner } from './resp.js';

/** Shared by every connection of a run; the runner swaps `hist` and zeroes counters per window. */
export interface Recorder {
  hist: Histogram;
  ok: number;
  errors: number;
  firstError: string | undefined;
}

/**
 * One closed-loop client: keeps `pipeline` requests in flight, sending the next one as soon as a
 * reply arrives. Reads go through a reused buffer (net's `onread`) so the generator allocates
 * nothing per reply besides a bigint timestamp.
 */
export class LoadConnection {
  private socket: net.Socket | undefined;
  private readonly scanner = new ReplyScanner();
  private readonly sentAt: bigint[]; // ring of send times, oldest at `head`
  private head = 0;
  private inflight = 0;
  private next = 0;
  private partial = 0; // replies received towards the oldest request in flight
  private step = 0; // requests of the current chain already answered
  private chainStart = 0n;
  private chainError = false;
  private stopping = false;
  private drained: (() => void) | undefined;
  private failed: ((e: Error) => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly requests: readonly Buffer[],
    private readonly pipeline: number,
    private readonly rec: Recorder,
    private readonly readBuffer: Buffer,
    /** Called once when the connection breaks mid-run, so the runner can abort. */
    private readonly onFatal: (e: Error) => void,
    /** Replies that make one request complete (a request buffer may hold several commands). */
    private readonly repliesPerRequest = 1,
    /**
     * Consecutive requests that make one sample, each sent when the previous one is answered (a
     * client awaiting each command). Needs pipeline 1 and a request list whose length it divides.
     */
    private readonly chain = 1,
  ) {
    if (requests.length === 0) throw new Error('loadgen: a connection needs at least one request');
    if (chain > 1 && (pipeline !== 1 || requests.length % chain !== 0)) {
      throw new Error(`loadgen: chain ${chain} needs pipeline 1 and a request list of a multiple of ${chain} (got pipeline ${pipeline}, ${requests.length} requests)`);
    }
    this.sentAt = new Array<bigint>(pipeline).fill(0n);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: this.host,
        port: this.port,
        noDelay: true,
        onread: {
          buffer: this.readBuffer,
          callback: (n: number, buf: Uint8Array) => {
            this.onRead(buf as Buffer, n);
            return true;
          },
        },
      });
      this.socket = socket;
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', (e) => this.fail(e));
        socket.on('close', () => {
          if (!this.stopping || this.inflight > 0) this.fail(new Error('connection closed by server'));
        });
        resolve();
      });
      socket.once('error', reject);
    });
  }

  start(): void {
    const s = this.socket!;
    s.cork();
    for (let i = 0; i < this.pipeline; i++) this.send();
    s.uncork();
  }

  /** Stops issuing requests; resolves once every request in flight has its reply. */
  stop(): Promise<void> {
    this.stopping = true;
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.drained = resolve;
      this.failed = reject;
    });
  }

  close(): void {
    this.stopping = true;
    this.socket?.destroy();
  }

  private send(): void {
    const req = this.requests[this.next]!;
    if (++this.next === this.requests.length) this.next = 0;
    const now = process.hrtime.bigint();
    if (this.step === 0) this.chainStart = now;
    this.sentAt[(this.head + this.inflight) % this.pipeline] = now;
    this.inflight++;
    this.socket!.write(req);
  }

  private onRead(buf: Buffer, n: number): void {
    const sc = this.scanner;
    const errsBefore = sc.errors;
    let done: number;
    try {
      done = sc.feed(buf, 0, n);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    if (this.repliesPerRequest !== 1) {
      this.partial += done;
      done = Math.floor(this.partial / this.repliesPerRequest);
      this.partial -= done * this.repliesPerRequest;
    }
    if (done === 0) return;
    if (this.chain > 1) {
      this.onChainStep(sc.errors - errsBefore > 0);
      return;
    }
    const now = process.hrtime.bigint();
    const rec = this.rec;
    const hist = rec.hist;
    for (let i = 0; i < done; i++) {
      hist.record(Number(now - this.sentAt[this.head]!));
      if (++this.head === this.pipeline) this.head = 0;
    }
    this.inflight -= done;
    const errs = Math.min(sc.errors - errsBefore, done);
    rec.ok += done - errs;
    if (errs > 0) {
      rec.errors += errs;
      rec.firstError ??= sc.firstError;
    }
    if (this.stopping) {
      if (this.inflight === 0) this.drained?.();
      return;
    }
    if (done === 1) {
      this.send();
    } else {
      const s = this.socket!;
      s.cork();
      for (let i = 0; i < done; i++) this.send();
      s.uncork();
    }
  }

  /** Pipeline 1, so exactly one request (one step of the chain) was just answered. */
  private onChainStep(failed: boolean): void {
    this.inflight = 0;
    if (failed) this.chainError = true;
    if (++this.step < this.chain) {
      // Stopping mid-chain drops the unfinished sample.
      if (this.stopping) this.drained?.();
      else this.send();
      return;
    }
    const rec = this.rec;
    rec.hist.record(Number(process.hrtime.bigint() - this.chainStart));
    this.step = 0;
    if (this.chainError) {
      rec.errors++;
      rec.firstError ??= this.scanner.firstError;
      this.chainError = false;
    } else rec.ok++;
    if (this.stopping) this.drained?.();
    else this.send();
  }

  private fail(e: Error): void {
    if (this.failed) this.failed(e);
    else if (!this.stopping) this.onFatal(e);
    this.failed = undefined;
    this.drained = undefined;
  }
}
