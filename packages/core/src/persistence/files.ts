import { closeSync, fdatasync, fsyncSync, fdatasyncSync, openSync, renameSync, rmSync, write, writeSync, writev, writevSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const writevAsync = promisify(writev);
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

/** Most iovecs one writev takes (Linux IOV_MAX). */
const IOV_MAX = 1024;

/** Writes every part at the fd's position, retrying short writes. */
export function writeAllSync(fd: number, parts: readonly Buffer[]): number {
  let total = 0;
  for (let i = 0; i < parts.length; ) {
    const batch = parts.slice(i, i + IOV_MAX);
    const want = batch.reduce((n, b) => n + b.length, 0);
    let done = batch.length === 1 ? writeSync(fd, batch[0]!) : writevSync(fd, batch);
    if (done < want) done += finishShort(fd, batch, done);
    total += want;
    i += batch.length;
  }
  return total;
}

function finishShort(fd: number, batch: readonly Buffer[], done: number): number {
  let skip = done;
  let extra = 0;
  for (const b of batch) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    let rest = b.subarray(skip);
    skip = 0;
    while (rest.length > 0) {
      const n = writeSync(fd, rest);
      rest = rest.subarray(n);
      extra += n;
    }
  }
  return extra;
}

/** Asynchronous `writeAllSync` (the thread pool writes; the event loop keeps serving). */
export async function writeAll(fd: number, parts: readonly Buffer[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < parts.length; ) {
    const batch = parts.slice(i, i + IOV_MAX);
    const want = batch.reduce((n, b) => n + b.length, 0);
    let done = (await writevAsync(fd, batch as Buffer[])).bytesWritten;
    let skip = done;
    for (const b of batch) {
      if (done >= want) break;
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      let rest = b.subarray(skip);
      skip = 0;
      while (rest.length > 0) {
        const { bytesWritten } = await writeAsync(fd, rest);
        rest = rest.subarray(bytesWritten);
        done += bytesWritten;
      }
    }
    total += want;
    i += batch.length;
  }
  return total;
}

export const datasync = fdatasyncAsync;

/** fsync of a directory, so a rename or a new file in it survives a power loss. */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    // Some filesystems refuse fsync on directories (EINVAL); nothing more can be done there.
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL' && (e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

let tempCounter = 0;

/**
 * A file written under a temporary name next to its final path, then fsynced and renamed into
 * place (and the directory fsynced): readers see the old file or the complete new one, never a
 * partial one, whatever moment the process or the machine stops.
 */
export class AtomicFile {
  readonly temp: string;
  readonly fd: number;
  bytes = 0;
  private done = false;

  constructor(readonly path: string) {
    this.temp = join(dirname(path), `temp-${process.pid}-${++tempCounter}-${basename(path)}`);
    this.fd = openSync(this.temp, 'w', 0o644);
  }

  writeSync(parts: readonly Buffer[]): void {
    this.bytes += writeAllSync(this.fd, parts);
  }

  async write(parts: readonly Buffer[]): Promise<void> {
    this.bytes += await writeAll(this.fd, parts);
  }

  /** fsync, close, rename over `path`, fsync the directory. */
  commitSync(): void {
    fdatasyncSync(this.fd);
    this.finish();
  }

  /**
   * Like commitSync with the (long) data fsync off the event loop; `cancelled` is asked again
   * right before the rename (a newer file may have been written meanwhile).
   */
  async commit(cancelled: () => boolean = () => false): Promise<void> {
    await fdatasyncAsync(this.fd);
    if (cancelled()) throw new Error('cancelled');
    this.finish();
  }

  private finish(): void {
    closeSync(this.fd);
    this.done = true;
    renameSync(this.temp, this.path);
    fsyncDirSync(dirname(this.path));
  }

  /** Removes the temporary file (after a failure); the file at `path` is untouched. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    rmSync(this.temp, { force: true });
  }
}
