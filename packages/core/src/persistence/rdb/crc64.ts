/**
 * Redis's CRC-64 (the "Jones" polynomial 0xad93d23594c935a9, reflected input and output, initial
 * value 0, no final xor): the checksum at the end of RDB files and DUMP payloads.
 * crc64("123456789") = 0xe9c6d914c4b8d9ca. Slicing-by-8 tables. Large inputs go through a tiny
 * WebAssembly function (64-bit integers, about 3x the speed of JS here); small ones through JS,
 * where every 64-bit value (the CRC, each table entry) is a low and a high 32-bit half.
 */
function bigTables(): bigint[][] {
  const poly = 0x95ac9329ac4bc9b5n; // 0xad93d23594c935a9 bit-reversed
  const t0: bigint[] = [];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t0.push(c);
  }
  const all = [t0];
  for (let s = 1; s < 8; s++) all.push(all[s - 1]!.map((v) => (v >> 8n) ^ t0[Number(v & 0xffn)]!));
  return all;
}
const BIG = bigTables();
const LO = BIG.map((t) => Uint32Array.from(t, (v) => Number(v & 0xffffffffn)));
const HI = BIG.map((t) => Uint32Array.from(t, (v) => Number(v >> 32n)));
const [L0, L1, L2, L3, L4, L5, L6, L7] = LO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
const [H0, H1, H2, H3, H4, H5, H6, H7] = HI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** A CRC-64 in progress: two unsigned 32-bit halves. */
export interface Crc64 {
  lo: number;
  hi: number;
}

export const crc64Start = (): Crc64 => ({ lo: 0, hi: 0 });

// ---- the WebAssembly version ----------------------------------------------------------------

/** Where the input goes in the module's memory (the eight tables take the 16 KiB before it). */
const WASM_DATA = 16384;
const WASM_CHUNK = 1 << 20;

/**
 * The module, assembled here (no toolchain needed): memory of 17 pages, exported as `mem`, holding
 * the tables (table k at k * 2048) then up to 1 MiB of input at WASM_DATA; `crc(ptr, len, crc)`
 * runs slicing-by-8 over the whole 8-byte words, then byte by byte over the rest.
 */
function wasmModule(): Uint8Array {
  const uleb = (n: number) => {
    const o: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      o.push(b);
    } while (n !== 0);
    return o;
  };
  const sleb = (n: number) => {
    const o: number[] = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...o, b];
      o.push(b | 0x80);
    }
  };
  // Opcodes: local.get 20, local.set 21, i32.const 41, i64.const 42, i32.add 6a, i32.and 71,
  // i32.ge_u 4f, i32.shl 74, i64.and 83, i64.xor 85, i64.shr_u 88, i32.wrap_i64 a7,
  // i64.load 29, i64.load8_u 31, block 02, loop 03, br 0c, br_if 0d, end 0b.
  // Locals: 0 ptr, 1 len (then: stop), 2 crc, 3 end of the words, 4 x.
  const b: number[] = [];
  const e = (...x: number[]) => b.push(...x);
  e(0x20, 0, 0x20, 1, 0x41, ...sleb(-8), 0x71, 0x6a, 0x21, 3);
  e(0x20, 0, 0x20, 1, 0x6a, 0x21, 1);
  e(0x02, 0x40, 0x03, 0x40, 0x20, 0, 0x20, 3, 0x4f, 0x0d, 1);
  e(0x20, 2, 0x20, 0, 0x29, 3, 0, 0x85, 0x21, 4);
  for (let j = 0; j < 8; j++) {
    // T[7 - j][(x >> 8j) & 255], xored together
    e(0x20, 4);
    if (j > 0) e(0x42, ...sleb(8 * j), 0x88);
    if (j < 7) e(0x42, ...sleb(255), 0x83);
    e(0xa7, 0x41, 3, 0x74, 0x29, 3, ...uleb((7 - j) * 2048));
    if (j > 0) e(0x85);
  }
  e(0x21, 2, 0x20, 0, 0x41, 8, 0x6a, 0x21, 0, 0x0c, 0, 0x0b, 0x0b);
  e(0x02, 0x40, 0x03, 0x40, 0x20, 0, 0x20, 1, 0x4f, 0x0d, 1);
  e(0x20, 2, 0x20, 0, 0x31, 0, 0, 0x85, 0x42, ...sleb(255), 0x83, 0xa7, 0x41, 3, 0x74, 0x29, 3, 0);
  e(0x20, 2, 0x42, 8, 0x88, 0x85, 0x21, 2);
  e(0x20, 0, 0x41, 1, 0x6a, 0x21, 0, 0x0c, 0, 0x0b, 0x0b, 0x20, 2, 0x0b);
  const body = [2, 1, 0x7f, 1, 0x7e, ...b];
  const section = (id: number, c: number[]) => [id, ...uleb(c.length), ...c];
  const name = (s: string) => [s.length, ...[...s].map((ch) => ch.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7e, 1, 0x7e]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 17]),
    ...section(7, [2, ...name('crc'), 0, 0, ...name('mem'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The little of the WebAssembly API used here (the project's TS libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const wasm = ((): { crc: (ptr: number, len: number, crc: bigint) => bigint; mem: Uint8Array } | undefined => {
  const WA = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (WA === undefined) return undefined;
  try {
    const inst = new WA.Instance(new WA.Module(wasmModule()), {});
    const memory = inst.exports['mem'] as { buffer: ArrayBuffer };
    const tables = new BigUint64Array(memory.buffer, 0, 8 * 256);
    BIG.forEach((t, k) => t.forEach((v, n) => (tables[k * 256 + n] = v)));
    return { crc: inst.exports['crc'] as (ptr: number, len: number, crc: bigint) => bigint, mem: new Uint8Array(memory.buffer) };
  } catch {
    return undefined; // no WebAssembly: JS only
  }
})();

/** Inputs at least this long go through WebAssembly (below, the call costs more than it saves). */
const WASM_MIN = 512;

/** Folds `data` into `c` (in place) and returns it: `update(update(s, a), b)` = CRC of a then b. */
export function crc64Update(c: Crc64, data: Uint8Array): Crc64 {
  if (wasm !== undefined && data.length >= WASM_MIN) {
    let v = (BigInt(c.hi >>> 0) << 32n) | BigInt(c.lo >>> 0);
    for (let i = 0; i < data.length; i += WASM_CHUNK) {
      const part = data.subarray(i, Math.min(data.length, i + WASM_CHUNK));
      wasm.mem.set(part, WASM_DATA);
      v = wasm.crc(WASM_DATA, part.length, v);
    }
    v = BigInt.asUintN(64, v);
    c.lo = Number(v & 0xffffffffn);
    c.hi = Number(v >> 32n);
    return c;
  }
  return crc64Js(c, data);
}

function crc64Js(c: Crc64, data: Uint8Array): Crc64 {
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
