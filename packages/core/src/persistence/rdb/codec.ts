import { PartsWriter } from '../parts.js';
import { LzfError, lzfCompress, lzfDecompress } from './lzf.js';

/**
 * The building blocks of Redis's RDB serialization (rdb.c): lengths, strings in their three
 * encodings, times and doubles, read from a byte input and written into a list of parts. Files
 * and DUMP payloads are made of these; `values.ts` puts them together into values.
 */

/** Data that is not valid RDB (truncated, an impossible length, a bad encoding...). */
export class RdbError extends Error {}

/** Where RDB bytes are read from: a DUMP payload in memory, or a file read in chunks. */
export interface RdbInput {
  /** The next `n` bytes, advancing; throws RdbError when fewer remain. May be a view: copy to keep. */
  take(n: number): Buffer;
  u8(): number;
  /** Bytes consumed so far. */
  readonly offset: number;
}

/** An RdbInput over one buffer. */
export class BufferInput implements RdbInput {
  offset = 0;
  constructor(
    private readonly b: Buffer,
    private readonly end = b.length,
  ) {}
  get remaining(): number {
    return this.end - this.offset;
  }
  take(n: number): Buffer {
    if (n > this.end - this.offset) throw new RdbError(`unexpected end of data (${n} bytes needed at offset ${this.offset}, ${this.end - this.offset} left)`);
    const v = this.b.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  u8(): number {
    if (this.offset >= this.end) throw new RdbError(`unexpected end of data at offset ${this.offset}`);
    return this.b[this.offset++]!;
  }
}

export const RDB_6BITLEN = 0;
export const RDB_14BITLEN = 1;
export const RDB_32BITLEN = 0x80;
export const RDB_64BITLEN = 0x81;
export const RDB_ENCVAL = 3;
export const RDB_ENC_INT8 = 0;
export const RDB_ENC_INT16 = 1;
export const RDB_ENC_INT32 = 2;
export const RDB_ENC_LZF = 3;

/** A length too large to be a real one (guards allocations from corrupt lengths). */
const MAX_SAFE_LEN = Number.MAX_SAFE_INTEGER;

/**
 * A length (rdbLoadLen): >= 0, or for the special string encodings (11xxxxxx) -(type + 1).
 * 64-bit lengths above 2^53 are refused (no real length is that large).
 */
export function readLenOrEnc(inp: RdbInput): number {
  const b = inp.u8();
  const kind = (b & 0xc0) >> 6;
  if (kind === RDB_ENCVAL) return -((b & 0x3f) + 1);
  if (kind === RDB_6BITLEN) return b & 0x3f;
  if (kind === RDB_14BITLEN) return ((b & 0x3f) << 8) | inp.u8();
  if (b === RDB_32BITLEN) return inp.take(4).readUInt32BE(0);
  if (b === RDB_64BITLEN) {
    const t = inp.take(8);
    const v = t.readUInt32BE(0) * 0x1_0000_0000 + t.readUInt32BE(4);
    if (v > MAX_SAFE_LEN) throw new RdbError(`length ${t.readBigUInt64BE(0)} is out of range`);
    return v;
  }
  throw new RdbError(`unknown length encoding 0x${b.toString(16)}`);
}

/** A length that must not be one of the special encodings. */
export function readLen(inp: RdbInput): number {
  const n = readLenOrEnc(inp);
  if (n < 0) throw new RdbError('an encoded value where a length was expected');
  return n;
}

/** A length read as a bigint (module ids are 64-bit). */
export function readLenBig(inp: RdbInput): bigint {
  const b = inp.u8();
  if (b === RDB_64BITLEN) return inp.take(8).readBigUInt64BE(0);
  const kind = (b & 0xc0) >> 6;
  if (kind === RDB_6BITLEN) return BigInt(b & 0x3f);
  if (kind === RDB_14BITLEN) return BigInt(((b & 0x3f) << 8) | inp.u8());
  if (b === RDB_32BITLEN) return BigInt(inp.take(4).readUInt32BE(0));
  throw new RdbError(`unknown length encoding 0x${b.toString(16)}`);
}

/**
 * A string in any of its encodings: raw, an integer (8/16/32-bit, returned as its decimal text,
 * as Redis does), or LZF-compressed. A raw string is a view into the input (copy to keep it).
 */
export function readString(inp: RdbInput): Buffer {
  const n = readLenOrEnc(inp);
  if (n >= 0) return inp.take(n);
  switch (-n - 1) {
    case RDB_ENC_INT8:
      return Buffer.from(String(inp.take(1).readInt8(0)), 'latin1');
    case RDB_ENC_INT16:
      return Buffer.from(String(inp.take(2).readInt16LE(0)), 'latin1');
    case RDB_ENC_INT32:
      return Buffer.from(String(inp.take(4).readInt32LE(0)), 'latin1');
    case RDB_ENC_LZF: {
      const clen = readLen(inp);
      const len = readLen(inp);
      if (len === 0) throw new RdbError('an LZF string of length 0');
      // LZF expands at most ~88x (3 bytes for a 264-byte reference): a larger claim is corrupt,
      // and must not become an allocation.
      if (len > clen * 90 + 64) throw new RdbError(`an LZF string of ${clen} bytes cannot hold ${len}`);
      try {
        return lzfDecompress(inp.take(clen), len);
      } catch (e) {
        if (e instanceof LzfError) throw new RdbError(`bad LZF string: ${e.message}`);
        throw e;
      }
    }
    default:
      throw new RdbError(`unknown string encoding ${-n - 1}`);
  }
}

/** A string that is copied when it is a view, so it does not keep the input's chunk alive. */
export function readOwnedString(inp: RdbInput): Buffer {
  const s = readString(inp);
  return s.buffer.byteLength > s.length * 2 ? Buffer.from(s) : s;
}

/** An expiry in ms (RDB_OPCODE_EXPIRETIME_MS): 8 bytes little-endian. */
export function readMillis(inp: RdbInput): number {
  return Number(inp.take(8).readBigInt64LE(0));
}

/** An old expiry in seconds (RDB_OPCODE_EXPIRETIME): 4 bytes little-endian. */
export function readSeconds(inp: RdbInput): number {
  return inp.take(4).readInt32LE(0);
}

/** A binary double (zsets since RDB 8, module doubles): 8 bytes little-endian. */
export function readBinaryDouble(inp: RdbInput): number {
  return inp.take(8).readDoubleLE(0);
}

/** A double as text (old zsets): a length byte (253 NaN, 254 +inf, 255 -inf) then ASCII. */
export function readTextDouble(inp: RdbInput): number {
  const n = inp.u8();
  if (n === 253) return NaN;
  if (n === 254) return Infinity;
  if (n === 255) return -Infinity;
  return Number(inp.take(n).toString('latin1'));
}


export interface WriterOptions {
  /** `rdbcompression`: LZF-compress strings longer than 20 bytes when that saves space. */
  compress: boolean;
}

/**
 * RDB bytes as parts (see PartsWriter: large strings are referenced, never copied); `take()` hands
 * over what was written so far, for streaming to a file.
 */
export class RdbWriter extends PartsWriter {
  constructor(readonly options: WriterOptions = { compress: true }) {
    super(4096);
  }

  /** rdbSaveLen. */
  len(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a length: ${n}`);
    if (n < 1 << 6) return this.u8(n);
    if (n < 1 << 14) return this.u8(((n >> 8) & 0x3f) | (RDB_14BITLEN << 6)).u8(n & 0xff);
    if (n <= 0xffffffff) {
      const at = this.reserve(5);
      this.cur[at] = RDB_32BITLEN;
      this.cur.writeUInt32BE(n, at + 1);
    } else {
      const at = this.reserve(9);
      this.cur[at] = RDB_64BITLEN;
      this.cur.writeBigUInt64BE(BigInt(n), at + 1);
    }
    return this;
  }
  /** A 64-bit length (module ids). */
  lenBig(n: bigint): this {
    if (n <= 0xffffffffn) return this.len(Number(n));
    const b = Buffer.allocUnsafe(9);
    b[0] = RDB_64BITLEN;
    b.writeBigUInt64BE(n, 1);
    return this.raw(b);
  }
  /**
   * rdbSaveRawString: canonical integers up to 11 characters as 8/16/32-bit integers, strings
   * over 20 bytes LZF-compressed when that saves at least 4 bytes, the rest raw. Unlike Redis,
   * compression is abandoned when the first eighth of a string saved nothing (see lzfCompress):
   * such strings are written raw.
   */
  string(s: Uint8Array): this {
    const len = s.length;
    if (len <= 11 && len > 0) {
      const enc = integerEncoding(s);
      if (enc !== undefined) return this.raw(enc);
    }
    if (this.options.compress && len > 20) {
      const c = lzfCompress(s, len - 4, true);
      if (c !== undefined) {
        this.u8((RDB_ENCVAL << 6) | RDB_ENC_LZF);
        this.len(c.length);
        this.len(len);
        return this.raw(c);
      }
    }
    this.len(len);
    return this.raw(s);
  }
  /** An expiry in ms: 8 bytes little-endian. */
  millis(ms: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64LE(BigInt(ms), 0);
    return this.raw(b);
  }
  binaryDouble(v: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(v, 0);
    return this.raw(b);
  }
}

/** rdbTryIntegerEncoding: the integer encoding of `s` when it is a canonical int32. */
function integerEncoding(s: Uint8Array): Buffer | undefined {
  // Canonical: what ll2string would print (no '+', no leading zeros, no "-0").
  const first = s[0]!;
  if (!((first >= 0x30 && first <= 0x39) || first === 0x2d)) return undefined;
  let i = first === 0x2d ? 1 : 0;
  if (i >= s.length) return undefined;
  if (s[i] === 0x30 && s.length > i + 1) return undefined;
  if (first === 0x2d && s[1] === 0x30) return undefined;
  let v = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
  }
  if (first === 0x2d) v = -v;
  if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
    const b = Buffer.allocUnsafe(2);
    b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
    b.writeInt8(v, 1);
    return b;
  }
  if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
    const b = Buffer.allocUnsafe(3);
    b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
    b.writeInt16LE(v, 1);
    return b;
  }
  if (v >= -(2 ** 31) && v <= 2 ** 31 - 1) {
    const b = Buffer.allocUnsafe(5);
    b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
    b.writeInt32LE(v, 1);
    return b;
  }
  return undefined;
}
