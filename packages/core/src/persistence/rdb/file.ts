import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Key } from '../../keyspace/keyspace.js';
import { keyToBuffer } from '../../keyspace/keyspace.js';
import type { Entry } from '../snapshot.js';
import { RdbError, RdbWriter, readLen, readMillis, readSeconds, readString, type RdbInput } from './codec.js';
import { crc64Bytes, crc64Start, crc64Update, type Crc64 } from './crc64.js';
import { RDB_MAX_VERSION, RDB_VERSION } from './dump.js';
import { readLenBig } from './codec.js';
import { skipModuleFields } from './ai.js';
import { isObjectType, readValue, typeName, writeValue, type RdbValue } from './values.js';

/**
 * RDB files as Redis 7 writes and reads them (rdb.c rdbSaveRio / rdbLoadRioWithLoadingCtx):
 *
 *   "REDIS" + 4-digit version | AUX fields | [FUNCTION2 ...] | per database: SELECTDB n,
 *   RESIZEDB size expires, then per key [EXPIRETIME_MS t] [IDLE n] [FREQ n] type key value |
 *   EOF (0xff) | CRC-64 of everything before it, 8 bytes little-endian (0: not computed)
 */

export const RDB_OPCODE = {
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

export interface RdbWriteOptions {
  /** AI.CONFIG MODEL_CHUNK_SIZE. */
  modelChunkSize: number;
  /** `rdbcompression`. */
  compress: boolean;
  /** AUX fields written after the header, in order (redis-ver, redis-bits, ctime, ...). */
  aux: readonly (readonly [string, string])[];
}

const BATCH_BYTES = 4 << 20;
const BATCH_PARTS = 4096;

/**
 * The bytes of an RDB file holding `entries` (all in database 0), in batches of about 4 MiB that
 * reference the values' own buffers; the checksum is computed as the batches are produced, and
 * the last batch ends with EOF and the checksum.
 */
export function* rdbFileBatches(entries: readonly Entry[], o: RdbWriteOptions): Generator<Buffer[]> {
  const w = new RdbWriter({ compress: o.compress });
  const crc = crc64Start();
  const flush = (): Buffer[] => {
    const parts = w.take();
    for (const p of parts) crc64Update(crc, p);
    return parts;
  };
  w.raw(Buffer.from(`REDIS${String(RDB_VERSION).padStart(4, '0')}`, 'latin1'));
  for (const [k, v] of o.aux) w.u8(RDB_OPCODE.AUX).string(Buffer.from(k, 'latin1')).string(Buffer.from(v, 'utf8'));
  if (entries.length > 0) {
    w.u8(RDB_OPCODE.SELECTDB).len(0);
    w.u8(RDB_OPCODE.RESIZEDB).len(entries.length).len(entries.reduce((n, e) => n + (e.expireAt === 0 ? 0 : 1), 0));
  }
  for (const e of entries) {
    if (e.expireAt !== 0) w.u8(RDB_OPCODE.EXPIRETIME_MS).millis(e.expireAt);
    writeValue(w, e.value, o, keyToBuffer(e.key));
    if (w.pending >= BATCH_BYTES || w.parts >= BATCH_PARTS) yield flush();
  }
  w.u8(RDB_OPCODE.EOF);
  const last = flush();
  last.push(crc64Bytes(crc));
  yield last;
}

/** What loading found besides the keys. */
export interface RdbFileInfo {
  version: number;
  aux: Map<string, string>;
  /** The file's checksum matched (false: it was 0, i.e. written without one). */
  checksummed: boolean;
  /** Function libraries, module AUX data: read past, not loaded. */
  skipped: Map<string, number>;
}

export interface RdbKeyRecord {
  db: number;
  key: Key;
  value: RdbValue;
  /** ms since the epoch; 0 = none. */
  expireAt: number;
  /** RDB type byte the value had. */
  rdbType: number;
  /** Where the value's bytes lie in the file (after the key; `end` exclusive), e.g. to DUMP them as they are. */
  valueStart: number;
  valueEnd: number;
}

export interface RdbLoadOptions {
  onKey(rec: RdbKeyRecord): void;
  onAux?(key: string, value: string): void;
  /** Called every few MiB with the bytes read so far. */
  onProgress?(loaded: number, total: number): void;
  /** Yield to the event loop every this many ms (0: after every key; omitted: never), so a server answers INFO meanwhile. */
  yieldEveryMs?: number;
  /** Wait this long after every key (Redis's key-load-delay, for tests of loading). */
  keyDelayMs?: number;
}

/** An RDB file that cannot be loaded: where and why. */
export class RdbFileError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const CHUNK = 1 << 20;
/** Reads at least this large get a buffer of their own (values keep it; nothing else is pinned). */
const OWN_BUFFER = 256 * 1024;

/** Sequential reads of a file through 1 MiB chunks, with the CRC-64 of what was consumed. */
class FileInput implements RdbInput {
  private chunk = Buffer.alloc(0);
  private chunkStart = 0;
  private at = 0;
  private crcFrom = 0;
  readonly crc: Crc64 = crc64Start();

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  get offset(): number {
    return this.chunkStart + this.at;
  }

  /** Folds every byte consumed so far into the CRC. */
  settleCrc(): void {
    if (this.at > this.crcFrom) crc64Update(this.crc, this.chunk.subarray(this.crcFrom, this.at));
    this.crcFrom = this.at;
  }

  private read(into: Buffer, from: number, fileOffset: number): number {
    let got = from;
    while (got < into.length) {
      const r = readSync(this.fd, into, got, into.length - got, fileOffset + got - from);
      if (r === 0) break;
      got += r;
    }
    return got;
  }

  take(n: number): Buffer {
    if (this.at + n <= this.chunk.length) {
      const v = this.chunk.subarray(this.at, this.at + n);
      this.at += n;
      return v;
    }
    if (n > this.size - this.offset) throw new RdbError(`unexpected end of file (${n} bytes needed at offset ${this.offset}, the file has ${this.size})`);
    this.settleCrc();
    const left = this.chunk.length - this.at;
    const fileOffset = this.offset + left;
    if (n >= OWN_BUFFER) {
      // A large value: a buffer of exactly its size, then continue with an empty chunk.
      const b = Buffer.allocUnsafeSlow(n);
      this.chunk.copy(b, 0, this.at);
      if (this.read(b, left, fileOffset) < n) throw new RdbError(`short read at offset ${fileOffset}`);
      crc64Update(this.crc, b);
      this.chunkStart = this.offset + n;
      this.chunk = Buffer.alloc(0);
      this.at = 0;
      this.crcFrom = 0;
      return b;
    }
    const next = Buffer.allocUnsafe(Math.max(n, Math.min(CHUNK, this.size - this.offset)));
    this.chunk.copy(next, 0, this.at);
    const got = this.read(next, left, fileOffset);
    if (got < n) throw new RdbError(`short read at offset ${fileOffset}`);
    this.chunkStart = this.offset;
    this.chunk = next.subarray(0, got);
    this.at = n;
    this.crcFrom = 0;
    return next.subarray(0, n);
  }

  u8(): number {
    if (this.at < this.chunk.length) return this.chunk[this.at++]!;
    return this.take(1)[0]!;
  }
}

/**
 * Loads an RDB file (versions 1 to 11), handing each key to `onKey` as it is read; AUX fields go
 * to `onAux`. Function libraries and module AUX data are read past (counted in `skipped`).
 * Throws RdbFileError for a file that is not a valid RDB or whose checksum does not match.
 */
export async function loadRdbFile(path: string, o: RdbLoadOptions): Promise<RdbFileInfo> {
  const fd = openSync(path, 'r');
  try {
    const inp = new FileInput(fd, fstatSync(fd).size);
    try {
      const steps = loadSteps(inp, o);
      const delay = o.keyDelayMs ?? 0;
      for (;;) {
        const r = steps.next();
        if (r.done === true) return r.value;
        await new Promise((resolve) => (delay > 0 ? setTimeout(resolve, delay) : setImmediate(resolve)));
      }
    } catch (e) {
      if (e instanceof RdbError) throw new RdbFileError(e.message, inp.offset);
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

/** `loadRdbFile` without ever yielding to the event loop (checking tools). */
export function loadRdbFileSync(path: string, o: Omit<RdbLoadOptions, 'yieldEveryMs'>): RdbFileInfo {
  const fd = openSync(path, 'r');
  try {
    const inp = new FileInput(fd, fstatSync(fd).size);
    try {
      const steps = loadSteps(inp, o);
      for (;;) {
        const r = steps.next();
        if (r.done === true) return r.value;
      }
    } catch (e) {
      if (e instanceof RdbError) throw new RdbFileError(e.message, inp.offset);
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

/** The loading loop; it yields (to let the caller serve the event loop) every `yieldEveryMs`. */
function* loadSteps(inp: FileInput, o: RdbLoadOptions): Generator<void, RdbFileInfo> {
  if (inp.size < 9) throw new RdbError('the file is shorter than an RDB header');
  const magic = inp.take(9).toString('latin1');
  if (!magic.startsWith('REDIS') || !/^\d{4}$/.test(magic.slice(5))) throw new RdbError('Wrong signature trying to load DB from file');
  const version = Number(magic.slice(5));
  if (version < 1 || version > RDB_MAX_VERSION) throw new RdbError(`Can't handle RDB format version ${version}`);
  const info: RdbFileInfo = { version, aux: new Map(), checksummed: false, skipped: new Map() };
  const skip = (what: string) => info.skipped.set(what, (info.skipped.get(what) ?? 0) + 1);
  let db = 0;
  let expireAt = 0;
  let lastYield = Date.now();
  let lastProgress = 0;
  const yieldMs = (o.keyDelayMs ?? 0) > 0 ? 0 : (o.yieldEveryMs ?? -1);
  for (;;) {
    const type = inp.u8();
    switch (type) {
      case RDB_OPCODE.EXPIRETIME:
        expireAt = readSeconds(inp) * 1000;
        continue;
      case RDB_OPCODE.EXPIRETIME_MS:
        expireAt = readMillis(inp);
        continue;
      case RDB_OPCODE.FREQ:
        inp.u8();
        continue;
      case RDB_OPCODE.IDLE:
        readLenBig(inp);
        continue;
      case RDB_OPCODE.SELECTDB:
        db = readLen(inp);
        continue;
      case RDB_OPCODE.RESIZEDB:
        readLen(inp);
        readLen(inp);
        continue;
      case RDB_OPCODE.AUX: {
        const k = readString(inp).toString('latin1');
        const v = readString(inp).toString('utf8');
        info.aux.set(k, v);
        o.onAux?.(k, v);
        continue;
      }
      case RDB_OPCODE.MODULE_AUX: {
        readLenBig(inp); // module id
        if (readLen(inp) !== 2) throw new RdbError('bad when_opcode in module AUX data');
        readLen(inp);
        skipModuleFields(inp);
        skip('module AUX data');
        continue;
      }
      case RDB_OPCODE.FUNCTION2:
        readString(inp);
        skip('function library');
        continue;
      case RDB_OPCODE.FUNCTION_PRE_GA:
        throw new RdbError('function libraries of Redis 7.0 release candidates cannot be read');
      case RDB_OPCODE.EOF: {
        inp.settleCrc();
        if (version >= 5) {
          const sum = inp.take(8);
          const zero = sum.readBigUInt64LE(0) === 0n;
          if (!zero) {
            const want = sum.readBigUInt64LE(0);
            const got = (BigInt(inp.crc.hi >>> 0) << 32n) | BigInt(inp.crc.lo >>> 0);
            if (want !== got) throw new RdbError(`Wrong RDB checksum expected: (${want.toString(16)}) got (${got.toString(16)})`);
            info.checksummed = true;
          }
        }
        o.onProgress?.(inp.offset, inp.size);
        return info;
      }
      default: {
        if (!isObjectType(type)) throw new RdbError(`unknown RDB opcode or value type ${type}`);
        const key = readString(inp).toString('latin1');
        const valueStart = inp.offset;
        let value: RdbValue;
        try {
          value = readValue(inp, type);
        } catch (e) {
          if (e instanceof RdbError) throw new RdbError(`key '${key.slice(0, 200)}' (${typeName(type)}): ${e.message}`);
          throw e;
        }
        o.onKey({ db, key, value, expireAt, rdbType: type, valueStart, valueEnd: inp.offset });
        expireAt = 0;
        if (yieldMs >= 0 || o.onProgress !== undefined) {
          const now = Date.now();
          if (o.onProgress !== undefined && (inp.offset - lastProgress >= CHUNK * 4 || yieldMs === 0)) {
            lastProgress = inp.offset;
            o.onProgress(inp.offset, inp.size);
          }
          if (yieldMs >= 0 && now - lastYield >= yieldMs) {
            yield;
            lastYield = Date.now();
          }
        }
      }
    }
  }
}

/** Whether the file at `path` starts like an RDB file ("REDIS" and a version). */
export function looksLikeRdb(head: Buffer): boolean {
  return head.length >= 9 && head.subarray(0, 5).toString('latin1') === 'REDIS' && /^\d{4}$/.test(head.subarray(5, 9).toString('latin1'));
}
