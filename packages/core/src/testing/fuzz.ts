/**
 * Deterministic mutation fuzzing: a seeded generator and byte-level mutators that damage model
 * blobs the way disks, networks and hostile clients do. Backends add format-aware mutators on top
 * (zip entries and pickles for TorchScript archives). Same seed, same mutants: a failure names
 * its seed and index, and reruns exactly.
 */

/** A small seeded PRNG (mulberry32): fast, and reproducible across platforms. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Values that break size and index arithmetic (AFL's "interesting" values). */
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export type ByteMutator = (b: Buffer, r: Rng) => Buffer;

/** Byte-level mutators by name: each returns a new buffer (the input is never changed). */
export const byteMutators = {
  /** 1 to 8 random bits flipped. */
  bitFlips: (b, r) => {
    const out = Buffer.from(b);
    if (out.length === 0) return out;
    for (let n = 1 + r.int(8); n > 0; n--) out[r.int(out.length)]! ^= 1 << r.int(8);
    return out;
  },
  /** Random bytes overwritten. */
  byteSet: (b, r) => {
    const out = Buffer.from(b);
    if (out.length === 0) return out;
    for (let n = 1 + r.int(4); n > 0; n--) out[r.int(out.length)] = r.int(256);
    return out;
  },
  /** A 1, 2 or 4 byte little-endian integer overwritten with a boundary value. */
  interesting: (b, r) => {
    const out = Buffer.from(b);
    const width = r.pick([1, 2, 4]);
    if (out.length < width) return out;
    const at = r.int(out.length - width + 1);
    const v = r.pick(INTERESTING_32);
    if (width === 1) out[at] = v & 0xff;
    else if (width === 2) out.writeUInt16LE(v & 0xffff, at);
    else out.writeUInt32LE(v >>> 0, at);
    return out;
  },
  /** Cut at a random length (possibly empty). */
  truncate: (b, r) => Buffer.from(b.subarray(0, r.int(b.length + 1))),
  /** A random range removed. */
  deleteRange: (b, r) => {
    if (b.length === 0) return Buffer.from(b);
    const at = r.int(b.length);
    const n = 1 + r.int(Math.min(64, b.length - at));
    return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
  },
  /** Random bytes inserted. */
  insertRandom: (b, r) => {
    const at = r.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(32)), b.subarray(at)]);
  },
  /** A range of the input copied elsewhere in it. */
  duplicateRange: (b, r) => {
    if (b.length === 0) return Buffer.from(b);
    const from = r.int(b.length);
    const n = 1 + r.int(Math.min(256, b.length - from));
    const at = r.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(from, from + n), b.subarray(at)]);
  },
} satisfies Record<string, ByteMutator>;

export type ByteMutatorName = keyof typeof byteMutators;

/** One to three byte-level mutations in a row; returns the result and what was done. */
export function mutateBytes(b: Buffer, r: Rng): { bytes: Buffer; ops: ByteMutatorName[] } {
  const names = Object.keys(byteMutators) as ByteMutatorName[];
  const ops: ByteMutatorName[] = [];
  let out = b;
  for (let n = 1 + r.int(3); n > 0; n--) {
    const name = r.pick(names);
    ops.push(name);
    out = byteMutators[name](out, r);
  }
  return { bytes: out, ops };
}

/** Resident set size of a process in bytes (Linux), from /proc; undefined elsewhere. */
export async function rssOf(pid: number = process.pid): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
