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
  ) {
    if (requests.length === 0) throw new Error('loadgen: a connection needs at least one request');
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
    this.sentAt[(this.head + this.inflight) % this.pipeline] = process.hrtime.bigint();
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

  private fail(e: Error): void {
    if (this.failed) this.failed(e);
    else if (!this.stopping) this.onFatal(e);
    this.failed = undefined;
    this.drained = undefined;
  }
}
