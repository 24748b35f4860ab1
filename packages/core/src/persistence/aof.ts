import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeHeader } from './format.js';
import { fsyncDirSync, writeAllSync } from './files.js';

/** When appended records reach the disk: `always` before any reply, `everysec` once a second, `no` when the OS decides. */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

/**
 * The open append-only file. Records are appended to memory first; they are written to the file
 * once per event-loop turn (setImmediate) or earlier, synchronously, when a reply is about to go
 * out (`barrier`). Under `always`, `barrier` returns a promise that resolves once an fdatasync
 * that started after every record appended so far has completed: all clients' records of one
 * turn share one fdatasync (group commit), and while it runs on the thread pool, the event loop
 * keeps serving and the next batch accumulates.
 *
 * Offsets (`appended`, `written`, `durable`) count bytes since this writer opened, in one
 * sequence, so a reply's target is simply the `appended` value when it was produced.
 */
export class AofWriter {
  /** Current size of the file in bytes. */
  size: number;
  appended = 0;
  written = 0;
  durable = 0;
  fsyncs = 0;
  lastWriteError: Error | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private syncing = false;
  private closed = false;
  private waiters: { target: number; resolve: () => void }[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  private reportedError = false;

  private constructor(
    public path: string,
    private fd: number,
    public policy: FsyncPolicy,
    private readonly onError: (e: Error, fatal: boolean) => void,
  ) {
    this.size = fstatSync(fd).size;
    this.timer = setInterval(() => this.everySecond(), 1000);
    this.timer.unref();
  }

  /**
   * Opens `path` for appending; a missing or empty file gets a header first (fsynced, with its
   * directory, so the file exists after a crash).
   */
  static open(path: string, policy: FsyncPolicy, onError: (e: Error, fatal: boolean) => void): AofWriter {
    const fd = openSync(path, 'a', 0o644);
    try {
      if (fstatSync(fd).size === 0) {
        writeAllSync(fd, [encodeHeader('aof')]);
        fdatasyncSync(fd);
        fsyncDirSync(dirname(path));
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new AofWriter(path, fd, policy, onError);
  }

  /** Bytes appended but not yet written to the file. */
  get buffered(): number {
    return this.pendingBytes;
  }

  get syncInFlight(): boolean {
    return this.syncing;
  }

  append(parts: readonly Buffer[], bytes: number): void {
    if (this.closed) return;
    for (const p of parts) this.pending.push(p);
    this.pendingBytes += bytes;
    this.appended += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
  }

  /**
   * Called before replies are written. `always`: a promise that resolves once everything
   * appended so far is on disk (undefined when it already is). Otherwise the records are written
   * to the file now (so a crash of the process alone loses nothing replied to) and undefined.
   */
  barrier(): Promise<void> | undefined {
    if (this.closed) return undefined;
    if (this.policy !== 'always') {
      this.writePending();
      return undefined;
    }
    if (this.durable >= this.appended) return undefined;
    if (!this.scheduled && !this.syncing) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
    const target = this.appended;
    return new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
  }

  private readonly tick = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    this.writePending();
    if (this.policy === 'always') this.startSync();
  };

  /** Writes the pending records (synchronously: page cache, microseconds). False on error. */
  writePending(): boolean {
    if (this.pendingBytes === 0 || this.closed) return true;
    const parts = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      writeAllSync(this.fd, parts);
    } catch (e) {
      // Undo a partial write so the file never holds half a record followed by whole ones.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        /* reported below; the next write retries */
      }
      this.pending = parts.concat(this.pending);
      this.pendingBytes += bytes;
      this.fail(e as Error);
      return false;
    }
    this.size += bytes;
    this.written += bytes;
    if (this.reportedError) {
      this.reportedError = false;
      this.lastWriteError = undefined;
    }
    return true;
  }

  private fail(e: Error): void {
    this.lastWriteError = e;
    const fatal = this.policy === 'always';
    if (fatal || !this.reportedError) this.onError(e, fatal);
    this.reportedError = true;
  }

  private startSync(): void {
    if (this.syncing || this.closed) return;
    if (this.written <= this.durable) {
      this.resolveWaiters();
      return;
    }
    this.syncing = true;
    const target = this.written;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (!this.closed) {
        if (err) this.fail(err);
        else {
          this.durable = Math.max(this.durable, target);
          this.fsyncs++;
          this.resolveWaiters();
        }
        if (this.waiters.length > 0 && this.policy === 'always') {
          this.writePending();
          this.startSync();
        }
      }
      if (!this.syncing) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private resolveWaiters(): void {
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.target <= this.durable) this.waiters[n++]!.resolve();
    if (n > 0) this.waiters.splice(0, n);
  }

  private everySecond(): void {
    if (this.closed) return;
    this.writePending();
    if (this.policy === 'everysec' || this.waiters.length > 0) this.startSync();
  }

  /** Resolves when no fdatasync is in flight (the fd may then be closed or swapped). */
  idle(): Promise<void> {
    if (!this.syncing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes and fsyncs what is pending (synchronously). Throws on error. */
  flushSync(): void {
    if (this.closed) return;
    if (!this.writePending()) throw this.lastWriteError ?? new Error('AOF write failed');
    fdatasyncSync(this.fd);
    this.durable = this.written;
    this.resolveWaiters();
  }

  /**
   * After a rewrite renamed a complete, fsynced file over `path`: continue appending there.
   * Everything appended so far is in that file, so pending records are dropped and every waiter
   * is released. Call only when `idle` (no fdatasync in flight).
   */
  swap(path: string): void {
    const fd = openSync(path, 'a', 0o644);
    closeSync(this.fd);
    this.fd = fd;
    this.path = path;
    this.size = fstatSync(fd).size;
    this.pending = [];
    this.pendingBytes = 0;
    this.written = this.appended;
    this.durable = this.appended;
    this.resolveWaiters();
  }

  /** Writes, fsyncs and closes (shutdown, appendonly no). Throws if the data could not be written. */
  close(): void {
    if (this.closed) return;
    try {
      this.flushSync();
    } finally {
      this.closed = true;
      clearInterval(this.timer);
      closeSync(this.fd);
      // On success flushSync released every waiter; after a failure none may ever be released.
      this.waiters = [];
    }
  }
}
