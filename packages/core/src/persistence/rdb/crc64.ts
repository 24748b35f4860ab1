/**
 * Redis's CRC-64 (the "Jones" polynomial 0xad93d23594c935a9, reflected input and output, initial
 * value 0, no final xor): the checksum at the end of RDB files and DUMP payloads.
 * crc64("123456789") = 0xe9c6d914c4b8d9ca. Slicing-by-8 over aligned 32-bit words; JS has no fast
 * 64-bit integers, so every 64-bit value (the CRC, each table entry) is a low and a high half.
 */
function tables(): { lo: Uint32Array[]; hi: Uint32Array[] } {
  const poly = 0x95ac9329ac4bc9b5n; // 0xad93d23594c935a9 bit-reversed
  const t0: bigint[] = [];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t0.push(c);
  }
  const all = [t0];
  for (let s = 1; s < 8; s++) all.push(all[s - 1]!.map((v) => (v >> 8n) ^ t0[Number(v & 0xffn)]!));
  return {
    lo: all.map((t) => Uint32Array.from(t, (v) => Number(v & 0xffffffffn))),
    hi: all.map((t) => Uint32Array.from(t, (v) => Number(v >> 32n))),
  };
}
const { lo: LO, hi: HI } = tables();
const [L0, L1, L2, L3, L4, L5, L6, L7] = LO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
const [H0, H1, H2, H3, H4, H5, H6, H7] = HI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** A CRC-64 in progress: two unsigned 32-bit halves. */
export interface Crc64 {
  lo: number;
  hi: number;
}

export const crc64Start = (): Crc64 => ({ lo: 0, hi: 0 });

/** Folds `data` into `c` (in place) and returns it: `update(update(s, a), b)` = CRC of a then b. */
export function crc64Update(c: Crc64, data: Uint8Array): Crc64 {
  let lo = c.lo;
  let hi = c.hi;
  const n = data.length;
  let i = 0;
  // Byte at a time up to a 4-byte boundary, then two words per step (little-endian machines only,
  // like everything else here), then the tail.
  while (i < n && ((data.byteOffset + i) & 3) !== 0) {
    const x = (lo ^ data[i++]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ L0[x]!) >>> 0;
    hi = ((hi >>> 8) ^ H0[x]!) >>> 0;
  }
  const words = ((n - i) >>> 3) * 2;
  if (words > 0) {
    const w = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const a = lo ^ w[j]!;
      const b = hi ^ w[j + 1]!;
      const a0 = a & 0xff;
      const a1 = (a >>> 8) & 0xff;
      const a2 = (a >>> 16) & 0xff;
      const a3 = a >>> 24;
      const b0 = b & 0xff;
      const b1 = (b >>> 8) & 0xff;
      const b2 = (b >>> 16) & 0xff;
      const b3 = b >>> 24;
      lo = L7[a0]! ^ L6[a1]! ^ L5[a2]! ^ L4[a3]! ^ L3[b0]! ^ L2[b1]! ^ L1[b2]! ^ L0[b3]!;
      hi = H7[a0]! ^ H6[a1]! ^ H5[a2]! ^ H4[a3]! ^ H3[b0]! ^ H2[b1]! ^ H1[b2]! ^ H0[b3]!;
    }
    i += words * 4;
  }
  while (i < n) {
    const x = (lo ^ data[i++]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ L0[x]!) >>> 0;
    hi = ((hi >>> 8) ^ H0[x]!) >>> 0;
  }
  c.lo = lo >>> 0;
  c.hi = hi >>> 0;
  return c;
}

/** The 8 bytes Redis writes for a CRC (little-endian). */
export function crc64Bytes(c: Crc64): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE(c.lo >>> 0, 0);
  b.writeUInt32LE(c.hi >>> 0, 4);
  return b;
}

/** Whether the 8 bytes at `at` in `b` (little-endian) are the CRC `c`. */
export function crc64Matches(c: Crc64, b: Buffer, at = 0): boolean {
  return b.readUInt32LE(at) === c.lo >>> 0 && b.readUInt32LE(at + 4) === c.hi >>> 0;
}

/** The CRC-64 of buffers back to back, as a bigint (tests, messages). */
export function crc64(...parts: Uint8Array[]): bigint {
  const c = crc64Start();
  for (const p of parts) crc64Update(c, p);
  return (BigInt(c.hi >>> 0) << 32n) | BigInt(c.lo >>> 0);
}
