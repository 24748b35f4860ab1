import { RdbError } from './codec.js';

/**
 * Redis's compact in-memory encodings, as RDB files carry them inside a string: listpack (Redis 7),
 * ziplist (Redis 3.2 to 6.2) and zipmap (hashes before 2.6). Pure functions: bytes in, elements
 * out (integers as their decimal text, as Redis returns them to clients), with Redis's integrity
 * checks; and the listpack writer. Anything malformed throws RdbError.
 */

const dec = (v: number | bigint): Buffer => Buffer.from(String(v), 'latin1');

// ---- listpack ---------------------------------------------------------------------------------

const LP_HDR_SIZE = 6;
const LP_EOF = 0xff;

/** The number of bytes a backlen takes for an entry of `l` bytes. */
function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

function writeBacklen(out: Buffer, at: number, l: number): number {
  const n = backlenSize(l);
  if (n === 1) {
    out[at] = l;
  } else {
    // Most significant 7-bit group first; every byte but the first has bit 7 set.
    for (let i = 0; i < n; i++) {
      const shift = 7 * (n - 1 - i);
      const group = Math.floor(l / 2 ** shift) & 127;
      out[at + i] = i === 0 ? group : group | 128;
    }
  }
  return n;
}

/** Reads a backlen ending at `end` (exclusive) backwards, as lpDecodeBacklen. */
function readBacklen(b: Buffer, end: number, start: number): number {
  let v = 0;
  let shift = 0;
  let p = end - 1;
  for (;;) {
    if (p < start) throw new RdbError('listpack backlen runs before the entry');
    const byte = b[p]!;
    v += (byte & 127) * 2 ** shift;
    shift += 7;
    if (!(byte & 128)) break;
    if (shift > 28) throw new RdbError('listpack backlen too long');
    p--;
  }
  return v;
}

/** Decodes a listpack (lpValidateIntegrity's checks included): every element, in order. */
export function decodeListpack(b: Buffer): Buffer[] {
  if (b.length < LP_HDR_SIZE + 1) throw new RdbError('listpack shorter than its header');
  const total = b.readUInt32LE(0);
  if (total !== b.length) throw new RdbError(`listpack header says ${total} bytes, ${b.length} given`);
  if (b[b.length - 1] !== LP_EOF) throw new RdbError('listpack does not end with its terminator');
  const declared = b.readUInt16LE(4);
  const out: Buffer[] = [];
  let p = LP_HDR_SIZE;
  const end = b.length - 1;
  while (p < end) {
    const start = p;
    const e = b[p]!;
    let value: Buffer;
    let encLen: number;
    const need = (n: number) => {
      if (start + n > end) throw new RdbError('listpack entry runs past the end');
    };
    if ((e & 0x80) === 0) {
      value = dec(e & 0x7f);
      encLen = 1;
    } else if ((e & 0xc0) === 0x80) {
      const n = e & 0x3f;
      need(1 + n);
      value = b.subarray(p + 1, p + 1 + n);
      encLen = 1 + n;
    } else if ((e & 0xe0) === 0xc0) {
      need(2);
      let v = ((e & 0x1f) << 8) | b[p + 1]!;
      if (v >= 1 << 12) v -= 1 << 13;
      value = dec(v);
      encLen = 2;
    } else if ((e & 0xf0) === 0xe0) {
      need(2);
      const n = ((e & 0x0f) << 8) | b[p + 1]!;
      need(2 + n);
      value = b.subarray(p + 2, p + 2 + n);
      encLen = 2 + n;
    } else if (e === 0xf0) {
      need(5);
      const n = b.readUInt32LE(p + 1);
      need(5 + n);
      value = b.subarray(p + 5, p + 5 + n);
      encLen = 5 + n;
    } else if (e === 0xf1) {
      need(3);
      value = dec(b.readInt16LE(p + 1));
      encLen = 3;
    } else if (e === 0xf2) {
      need(4);
      value = dec(b.readIntLE(p + 1, 3));
      encLen = 4;
    } else if (e === 0xf3) {
      need(5);
      value = dec(b.readInt32LE(p + 1));
      encLen = 5;
    } else if (e === 0xf4) {
      need(9);
      value = dec(b.readBigInt64LE(p + 1));
      encLen = 9;
    } else {
      throw new RdbError(`listpack entry with unknown encoding 0x${e.toString(16)}`);
    }
    const bl = backlenSize(encLen);
    need(encLen + bl);
    if (readBacklen(b, start + encLen + bl, start + encLen) !== encLen) throw new RdbError('listpack entry backlen mismatch');
    p = start + encLen + bl;
    out.push(value);
  }
  if (declared !== 65535 && declared !== out.length) throw new RdbError(`listpack header says ${declared} entries, ${out.length} found`);
  return out;
}

/** lpStringToInt64: the value of `s` when it is a canonical 64-bit integer. */
function asInt64(s: Uint8Array): bigint | undefined {
  if (s.length === 0 || s.length > 20) return undefined;
  let i = 0;
  const neg = s[0] === 0x2d;
  if (neg) i = 1;
  if (i >= s.length) return undefined;
  if (s[i] === 0x30 && (s.length > i + 1 || neg)) return undefined;
  let v = 0n;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10n + BigInt(c - 0x30);
  }
  if (neg) v = -v;
  if (v < -(1n << 63n) || v > (1n << 63n) - 1n) return undefined;
  return v;
}

/** One listpack entry (encoding, data and backlen), integers in their smallest encoding, as lpAppend. */
function listpackEntry(s: Uint8Array): Buffer {
  const iv = asInt64(s);
  let head: Buffer;
  if (iv !== undefined) {
    const v = Number(iv);
    if (iv >= 0n && iv <= 127n) head = Buffer.from([v]);
    else if (iv >= -4096n && iv <= 4095n) {
      const u = v < 0 ? v + (1 << 13) : v;
      head = Buffer.from([0xc0 | (u >> 8), u & 0xff]);
    } else if (iv >= -32768n && iv <= 32767n) {
      head = Buffer.alloc(3);
      head[0] = 0xf1;
      head.writeInt16LE(v, 1);
    } else if (iv >= -8388608n && iv <= 8388607n) {
      head = Buffer.alloc(4);
      head[0] = 0xf2;
      head.writeIntLE(v, 1, 3);
    } else if (iv >= -(1n << 31n) && iv <= (1n << 31n) - 1n) {
      head = Buffer.alloc(5);
      head[0] = 0xf3;
      head.writeInt32LE(v, 1);
    } else {
      head = Buffer.alloc(9);
      head[0] = 0xf4;
      head.writeBigInt64LE(iv, 1);
    }
  } else if (s.length < 64) {
    head = Buffer.alloc(1 + s.length);
    head[0] = 0x80 | s.length;
    head.set(s, 1);
  } else if (s.length < 4096) {
    head = Buffer.alloc(2 + s.length);
    head[0] = 0xe0 | (s.length >> 8);
    head[1] = s.length & 0xff;
    head.set(s, 2);
  } else {
    head = Buffer.alloc(5 + s.length);
    head[0] = 0xf0;
    head.writeUInt32LE(s.length, 1);
    head.set(s, 5);
  }
  const bl = Buffer.alloc(backlenSize(head.length));
  writeBacklen(bl, 0, head.length);
  return Buffer.concat([head, bl]);
}

/** Encodes elements as a listpack (the bytes Redis would hold for them). */
export function encodeListpack(elements: readonly Uint8Array[]): Buffer {
  const entries = elements.map(listpackEntry);
  const total = LP_HDR_SIZE + entries.reduce((n, e) => n + e.length, 0) + 1;
  const hdr = Buffer.alloc(LP_HDR_SIZE);
  hdr.writeUInt32LE(total, 0);
  hdr.writeUInt16LE(elements.length < 65535 ? elements.length : 65535, 4);
  return Buffer.concat([hdr, ...entries, Buffer.from([LP_EOF])], total);
}

/** The bytes one element takes inside a listpack (to size quicklist nodes). */
export function listpackEntrySize(s: Uint8Array): number {
  const enc = asInt64(s) !== undefined ? 9 : s.length < 64 ? 1 + s.length : s.length < 4096 ? 2 + s.length : 5 + s.length;
  return enc + backlenSize(enc);
}

// ---- ziplist ----------------------------------------------------------------------------------

const ZIP_END = 0xff;
const ZIP_BIG_PREVLEN = 254;

/** Decodes a ziplist (Redis 3.2 to 6.2 lists, hashes, zsets), checking it as ziplistValidateIntegrity does. */
export function decodeZiplist(b: Buffer): Buffer[] {
  if (b.length < 11) throw new RdbError('ziplist shorter than its header');
  if (b.readUInt32LE(0) !== b.length) throw new RdbError('ziplist header size mismatch');
  const tail = b.readUInt32LE(4);
  const declared = b.readUInt16LE(8);
  if (b[b.length - 1] !== ZIP_END) throw new RdbError('ziplist does not end with its terminator');
  const out: Buffer[] = [];
  let p = 10;
  const end = b.length - 1;
  let prevLen = 0;
  let lastStart = -1;
  while (p < end) {
    const start = p;
    const need = (n: number) => {
      if (p + n > end) throw new RdbError('ziplist entry runs past the end');
    };
    need(1);
    let prevlen = b[p]!;
    if (prevlen === ZIP_BIG_PREVLEN) {
      need(5);
      prevlen = b.readUInt32LE(p + 1);
      p += 5;
    } else {
      p += 1;
    }
    if (prevlen !== prevLen) throw new RdbError('ziplist entry prevlen mismatch');
    need(1);
    const enc = b[p]!;
    let value: Buffer;
    switch (enc >> 6) {
      case 0: {
        const n = enc & 0x3f;
        need(1 + n);
        value = b.subarray(p + 1, p + 1 + n);
        p += 1 + n;
        break;
      }
      case 1: {
        need(2);
        const n = ((enc & 0x3f) << 8) | b[p + 1]!;
        need(2 + n);
        value = b.subarray(p + 2, p + 2 + n);
        p += 2 + n;
        break;
      }
      case 2: {
        if (enc !== 0x80) throw new RdbError(`ziplist entry with unknown encoding 0x${enc.toString(16)}`);
        need(5);
        const n = b.readUInt32BE(p + 1);
        need(5 + n);
        value = b.subarray(p + 5, p + 5 + n);
        p += 5 + n;
        break;
      }
      default: {
        if (enc === 0xc0) {
          need(3);
          value = dec(b.readInt16LE(p + 1));
          p += 3;
        } else if (enc === 0xd0) {
          need(5);
          value = dec(b.readInt32LE(p + 1));
          p += 5;
        } else if (enc === 0xe0) {
          need(9);
          value = dec(b.readBigInt64LE(p + 1));
          p += 9;
        } else if (enc === 0xf0) {
          need(4);
          value = dec(b.readIntLE(p + 1, 3));
          p += 4;
        } else if (enc === 0xfe) {
          need(2);
          value = dec(b.readInt8(p + 1));
          p += 2;
        } else if (enc >= 0xf1 && enc <= 0xfd) {
          value = dec((enc & 0x0f) - 1);
          p += 1;
        } else {
          throw new RdbError(`ziplist entry with unknown encoding 0x${enc.toString(16)}`);
        }
      }
    }
    prevLen = p - start;
    lastStart = start;
    out.push(value);
  }
  if (lastStart === -1 ? tail !== 10 : tail !== lastStart) throw new RdbError('ziplist tail offset mismatch');
  if (declared !== 65535 && declared !== out.length) throw new RdbError(`ziplist header says ${declared} entries, ${out.length} found`);
  return out;
}

// ---- zipmap -----------------------------------------------------------------------------------

/** Decodes a zipmap (hashes written by Redis before 2.6) into field/value pairs. */
export function decodeZipmap(b: Buffer): [Buffer, Buffer][] {
  if (b.length < 2) throw new RdbError('zipmap shorter than its header');
  let p = 1;
  const out: [Buffer, Buffer][] = [];
  const len = (): number => {
    if (p >= b.length) throw new RdbError('zipmap runs past the end');
    const first = b[p]!;
    if (first < 254) {
      p += 1;
      return first;
    }
    if (first === 254) {
      if (p + 5 > b.length) throw new RdbError('zipmap runs past the end');
      const v = b.readUInt32LE(p + 1);
      p += 5;
      return v;
    }
    throw new RdbError('zipmap length where its end was not expected');
  };
  for (;;) {
    if (p >= b.length) throw new RdbError('zipmap without its terminator');
    if (b[p] === 0xff) {
      if (p !== b.length - 1) throw new RdbError('bytes after the zipmap terminator');
      break;
    }
    const kl = len();
    if (p + kl > b.length) throw new RdbError('zipmap key runs past the end');
    const key = b.subarray(p, p + kl);
    p += kl;
    const vl = len();
    if (p >= b.length) throw new RdbError('zipmap runs past the end');
    const free = b[p++]!;
    if (p + vl + free > b.length) throw new RdbError('zipmap value runs past the end');
    const value = b.subarray(p, p + vl);
    p += vl + free;
    out.push([key, value]);
  }
  return out;
}

/** Pairs up a flat field, value, field, value... list (an odd count is malformed). */
export function pairs(flat: readonly Buffer[]): [Buffer, Buffer][] {
  if (flat.length % 2 !== 0) throw new RdbError('a hash encoding with an odd number of elements');
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Redis refuses a hash whose encoding repeats a field. */
export function checkUniqueFields(p: readonly [Buffer, Buffer][]): void {
  const seen = new Set<string>();
  for (const [f] of p) {
    const k = f.toString('latin1');
    if (seen.has(k)) throw new RdbError('a hash with a duplicate field');
    seen.add(k);
  }
}
