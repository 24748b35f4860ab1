import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from './crc32.js';
import {
  FORMAT_VERSION,
  FRAME_HEAD,
  FormatError,
  HEADER_SIZE,
  chainChecksum,
  decodeHeader,
  decodeRecord,
  readU64,
  type FileKind,
  type FileRecord,
} from './format.js';

/** Where and why reading a file stopped early. */
export interface ScanProblem {
  /**
   * `truncated`: the file ends inside a record (or in zero bytes a crash left): everything before
   * `offset` is good. `corrupt`: bytes before the end of the file fail their checksum or make no sense.
   */
  readonly type: 'truncated' | 'corrupt';
  /** Offset of the record (or header) that could not be read. */
  readonly offset: number;
  /** 1-based number of that record (0: the header). */
  readonly record: number;
  readonly reason: string;
}

export interface ScanResult {
  /** `empty`: a zero-length file. */
  readonly kind: FileKind | 'empty';
  readonly version: number;
  readonly createdAt: number;
  readonly fileSize: number;
  /** Complete, valid records read (a snapshot's END record not counted). */
  readonly records: number;
  /** Offset just after the last valid record: the length `--fix` truncates to. */
  readonly validEnd: number;
  /** Snapshots: whether the END record was read and matched. */
  readonly ended: boolean;
  readonly problem?: ScanProblem;
}

const CHUNK = 1 << 20;

/** Sequential reads over a file descriptor through a 1 MiB buffer; large records read directly. */
class Input {
  pos = 0;
  private chunk = Buffer.alloc(0);
  private chunkPos = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  /** The next `n` bytes (which must remain in the file), advancing. Never reuses a returned buffer. */
  take(n: number): Buffer {
    const have = this.chunk.length - this.chunkPos;
    if (n <= have) {
      const b = this.chunk.subarray(this.chunkPos, this.chunkPos + n);
      this.chunkPos += n;
      this.pos += n;
      return b;
    }
    const fill = n > CHUNK ? n : Math.min(CHUNK, this.size - this.pos);
    const next = Buffer.allocUnsafe(Math.max(fill, n));
    this.chunk.copy(next, 0, this.chunkPos);
    let got = have;
    while (got < next.length) {
      const r = readSync(this.fd, next, got, next.length - got, this.pos + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) throw new Error(`short read at offset ${this.pos + got}`);
    this.chunk = next.subarray(0, got);
    this.chunkPos = n;
    this.pos += n;
    return next.subarray(0, n);
  }

  /** True when every byte from the current position to the end is zero (not advancing). */
  restIsZero(): boolean {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, this.remaining)));
    let at = this.pos;
    while (at < this.size) {
      const r = readSync(this.fd, buf, 0, Math.min(buf.length, this.size - at), at);
      if (r === 0) break;
      for (let i = 0; i < r; i++) if (buf[i] !== 0) return false;
      at += r;
    }
    return true;
  }
}

/**
 * Reads a snapshot or append-only file from start to end, checking every checksum, and hands each
 * decoded record to `onRecord` (omit it to only check). Never throws for bad content: the result
 * says how far the file is good and why it stops there. `onRecord` may throw to abort.
 */
export function scanFile(path: string, onRecord?: (rec: FileRecord, offset: number) => void): ScanResult {
  const fd = openSync(path, 'r');
  try {
    return scanFd(fd, onRecord);
  } finally {
    closeSync(fd);
  }
}

function scanFd(fd: number, onRecord?: (rec: FileRecord, offset: number) => void): ScanResult {
  const size = fstatSync(fd).size;
  const input = new Input(fd, size);
  if (size === 0) return { kind: 'empty', version: FORMAT_VERSION, createdAt: 0, fileSize: 0, records: 0, validEnd: 0, ended: false };
  let kind: FileKind | undefined;
  let version = 0;
  let createdAt = 0;
  let records = 0;
  let chain = 0;
  let ended = false;
  const result = (problem?: ScanProblem): ScanResult => ({
    kind: kind ?? 'aof',
    version,
    createdAt,
    fileSize: size,
    records,
    validEnd: problem?.offset ?? size,
    ended,
    ...(problem === undefined ? {} : { problem }),
  });
  const stop = (type: ScanProblem['type'], offset: number, reason: string) =>
    result({ type, offset, record: offset === 0 ? 0 : records + 1, reason });

  if (size < HEADER_SIZE) {
    const head = input.take(size);
    // A crash right after the file was created: an incomplete header, or zeros.
    return head.every((b) => b === 0) || Buffer.from('RESPAI').subarray(0, Math.min(6, size)).equals(head.subarray(0, Math.min(6, size)))
      ? stop('truncated', 0, `the file ends inside its ${HEADER_SIZE}-byte header (${size} bytes)`)
      : stop('corrupt', 0, 'not a respai persistence file (bad magic)');
  }
  try {
    const h = decodeHeader(input.take(HEADER_SIZE));
    kind = h.kind;
    version = h.version;
    createdAt = h.createdAt;
  } catch (e) {
    return stop('corrupt', 0, (e as Error).message);
  }

  while (input.remaining > 0) {
    const at = input.pos;
    if (ended) return stop('corrupt', at, `${input.remaining} bytes after the end marker`);
    if (input.remaining < FRAME_HEAD) {
      return stop('truncated', at, `the file ends inside a record header (${input.remaining} of ${FRAME_HEAD} bytes)`);
    }
    const head = input.take(FRAME_HEAD);
    if (head.readUInt32LE(8) !== crc32(head.subarray(0, 8))) {
      input.pos = at;
      if (isZero(head) && input.restIsZero()) return stop('truncated', at, `the last ${size - at} bytes are zeros (a crash before they were written)`);
      return stop('corrupt', at, 'record header checksum mismatch');
    }
    const len = readU64(head, 0);
    if (len < 1) return stop('corrupt', at, 'empty record');
    if (len + 4 > input.remaining) {
      return stop('truncated', at, `the last record needs ${len + FRAME_HEAD + 4} bytes, the file ends after ${size - at}`);
    }
    const body = input.take(len);
    const crc = input.take(4).readUInt32LE(0);
    if (crc !== crc32(body)) return stop('corrupt', at, 'record checksum mismatch');
    let rec: FileRecord;
    try {
      rec = decodeRecord(body);
    } catch (e) {
      if (e instanceof FormatError) return stop('corrupt', at, e.message);
      throw e;
    }
    if (rec.op === 'end') {
      if (kind !== 'snapshot') return stop('corrupt', at, 'an end marker in an append-only file');
      if (rec.count !== records || rec.checksum !== chain) {
        return stop('corrupt', at, `end marker mismatch: ${rec.count} records and checksum ${rec.checksum} expected, ${records} and ${chain} read`);
      }
      ended = true;
      continue;
    }
    if (kind === 'snapshot' && rec.op !== 'set') return stop('corrupt', at, `a ${rec.op} record in a snapshot`);
    onRecord?.(rec, at);
    records++;
    chain = chainChecksum(chain, crc);
  }
  if (kind === 'snapshot' && !ended) return stop('corrupt', size, 'the snapshot ends without its end marker (an incomplete file)');
  return result();
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
