/**
 * Deterministic mutation fuzzing: a seeded generator and byte-level mutators that damage model
 * blobs the way disks, networks and hostile clients do. Backends add format-aware mutators on top
 * (zip entries and pickles for TorchScript archives). Same seed, same mutants: a failure names
 * its seed and index, and reruns exactly.
 */

import type { LoadedModel } from '../backend/spi.js';
import type { Tensor } from '../tensor/tensor.js';

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

// ---- protobuf (ONNX models, TF GraphDefs) ---------------------------------------------------------

/** A protobuf field as read without a schema: varints, fixed 32/64, and length-delimited bytes. */
interface PbField {
  num: number;
  wire: 0 | 1 | 2 | 5;
  /** wire 0: the varint; 1 and 5: the raw bytes; 2: the bytes, or the nested fields when they parse. */
  value: bigint | Buffer | PbField[];
}

function readVarint(b: Buffer, at: number): [bigint, number] | undefined {
  let v = 0n;
  for (let shift = 0n, i = at; i < b.length && shift < 70n; i++, shift += 7n) {
    v |= BigInt(b[i]! & 0x7f) << shift;
    if ((b[i]! & 0x80) === 0) return [v, i + 1];
  }
  return undefined;
}

/** The fields of `b`, or undefined when it is not a well-formed message (depth-limited). */
function parsePb(b: Buffer, depth = 0): PbField[] | undefined {
  const fields: PbField[] = [];
  let at = 0;
  while (at < b.length) {
    const key = readVarint(b, at);
    if (key === undefined) return undefined;
    const num = Number(key[0] >> 3n);
    const wire = Number(key[0] & 7n);
    at = key[1];
    if (num === 0) return undefined;
    if (wire === 0) {
      const v = readVarint(b, at);
      if (v === undefined) return undefined;
      fields.push({ num, wire, value: v[0] });
      at = v[1];
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (at + n > b.length) return undefined;
      fields.push({ num, wire, value: Buffer.from(b.subarray(at, at + n)) });
      at += n;
    } else if (wire === 2) {
      const len = readVarint(b, at);
      if (len === undefined || len[1] + Number(len[0]) > b.length) return undefined;
      const body = b.subarray(len[1], len[1] + Number(len[0]));
      const nested = depth < 16 && body.length > 1 ? parsePb(body, depth + 1) : undefined;
      fields.push({ num, wire, value: nested ?? Buffer.from(body) });
      at = len[1] + Number(len[0]);
    } else {
      return undefined;
    }
  }
  return fields;
}

function varint(v: bigint): Buffer {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    const byte = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? byte | 0x80 : byte);
  } while (x > 0n);
  return Buffer.from(out);
}

function writePb(fields: readonly PbField[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    parts.push(varint(BigInt((f.num << 3) | f.wire)));
    if (f.wire === 0) parts.push(varint(f.value as bigint));
    else if (f.wire === 2) {
      const body = Array.isArray(f.value) ? writePb(f.value) : (f.value as Buffer);
      parts.push(varint(BigInt(body.length)), body);
    } else parts.push(f.value as Buffer);
  }
  return Buffer.concat(parts);
}

const INTERESTING_VARINTS = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 63n - 1n, 2n ** 64n - 1n, 2n ** 31n * 3n];

/**
 * A damaged protobuf that still parses: one field (at any depth) has its value changed to a
 * boundary value, its bytes mutated, or is dropped, duplicated or swapped with a sibling. Lengths
 * are rewritten, so the damage reaches the runtime's model checks rather than its wire parser.
 * Falls back to {@link mutateBytes} when the input does not parse.
 */
export function mutateProtobuf(b: Buffer, r: Rng): Buffer {
  const root = parsePb(b);
  if (root === undefined || root.length === 0) return mutateBytes(b, r).bytes;
  // Walk down a random path of nested messages.
  let list = root;
  for (;;) {
    const f = list[r.int(list.length)]!;
    if (Array.isArray(f.value) && f.value.length > 0 && r.chance(0.75)) list = f.value;
    else break;
  }
  const i = r.int(list.length);
  const f = list[i]!;
  switch (r.int(6)) {
    case 0:
      list.splice(i, 1);
      break;
    case 1:
      list.splice(r.int(list.length + 1), 0, structuredClone(f));
      break;
    case 2: {
      const j = r.int(list.length);
      [list[i], list[j]] = [list[j]!, list[i]!];
      break;
    }
    default:
      if (f.wire === 0) f.value = r.chance(0.8) ? r.pick(INTERESTING_VARINTS) : BigInt(r.int(2 ** 31)) - 2n ** 30n;
      else if (Array.isArray(f.value)) f.value = mutateBytes(writePb(f.value), r).bytes;
      else f.value = mutateBytes(f.value as Buffer, r).bytes.subarray(0, f.wire === 2 ? undefined : (f.value as Buffer).length);
      if (f.wire !== 0 && f.wire !== 2 && (f.value as Buffer).length !== (f.wire === 1 ? 8 : 4)) f.value = Buffer.alloc(f.wire === 1 ? 8 : 4, 0xff);
  }
  return writePb(root);
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

/** What {@link fuzzModelLoads} does with one backend's models. */
export interface ModelFuzz<B> {
  /** For the log line, e.g. "onnx". */
  name: string;
  mutants: number;
  seed: number;
  /** Mixed with the seed and the mutant's index for its Rng (each suite keeps its own sequence). */
  mix: number;
  bases: readonly B[];
  blobOf(base: B): Buffer;
  load(blob: Buffer, base: B): Promise<LoadedModel>;
  /** The inputs of a loaded mutant's one run; undefined: it is not run. */
  inputs(m: LoadedModel, base: B): Tensor[] | undefined;
}

/**
 * Loads `mutants` damaged models: each a base with protobuf-aware damage that still parses (mostly,
 * reaching the runtime's own checks) or raw byte damage. Each must load or be refused with an
 * Error; a loaded one runs once and answers or fails with an Error. Returns the counts (refused,
 * loaded, ran, run refused), logged with the process's RSS before and after.
 */
export async function fuzzModelLoads<B>(f: ModelFuzz<B>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const mustBeError = (e: unknown) => {
    if (!(e instanceof Error)) throw new Error(`${f.name} fuzz: a mutant threw a non-Error: ${String(e)}`);
  };
  const rss0 = await rssOf();
  for (let i = 0; i < f.mutants; i++) {
    const r = new Rng((f.seed * f.mix + i) >>> 0);
    const base = r.pick(f.bases);
    let blob = r.chance(0.8) ? mutateProtobuf(f.blobOf(base), r) : mutateBytes(f.blobOf(base), r).bytes;
    if (r.chance(0.3)) blob = mutateProtobuf(blob, r);
    let m: LoadedModel;
    try {
      m = await f.load(blob, base);
    } catch (e) {
      mustBeError(e);
      bump('refused');
      continue;
    }
    bump('loaded');
    const inputs = f.inputs(m, base);
    if (inputs !== undefined) {
      await m.run(inputs, { slot: 0 }).then(
        () => bump('ran'),
        (e: unknown) => {
          mustBeError(e);
          bump('run refused');
        },
      );
    }
    await m.dispose();
  }
  const rss1 = await rssOf();
  console.log(`${f.name} fuzz, seed ${f.seed}:`, counts, rss0 && rss1 ? `rss ${(rss0 / 2 ** 20).toFixed(0)} -> ${(rss1 / 2 ** 20).toFixed(0)} MiB` : '');
  return counts;
}
