/**
 * The order in which the original engine listed its models and scripts (AI._MODELSCAN,
 * AI._SCRIPTSCAN). It iterated its run-statistics dictionary: a copy of Redis's dict (chained
 * buckets, new entries at the head of their bucket, a power-of-two table that doubles when it is
 * full and rehashes incrementally, one bucket per later insertion) keyed by SipHash-1-2 with a seed
 * it never set (all zeros). Clients compare the list as a whole (redisai-py's test does), so
 * respai replays the insertions of the entries that exist, in the order they were made, and reads
 * the emulated table back. Written from the algorithm's description in Redis's dict.c and
 * siphash.c; the one approximation: the original also took rehash steps on lookups and
 * deletions, so after deletions during a rehash its order can differ until that rehash ends.
 */

const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & MASK;

/** SipHash-1-2 with a zero key (Redis's siphash.c with the seed never set). */
export function sipHash12(data: Uint8Array): bigint {
  return sipHash(data, new Uint8Array(16), 1, 2);
}

/** SipHash-c-d of `data` under a 16-byte key (exported for its test against the reference vectors). */
export function sipHash(data: Uint8Array, key: Uint8Array, c: number, d: number): bigint {
  const k = new DataView(key.buffer, key.byteOffset, 16);
  const k0 = k.getBigUint64(0, true);
  const k1 = k.getBigUint64(8, true);
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const rounds = (n: number) => {
    for (let r = 0; r < n; r++) {
      v0 = (v0 + v1) & MASK;
      v1 = rotl(v1, 13n) ^ v0;
      v0 = rotl(v0, 32n);
      v2 = (v2 + v3) & MASK;
      v3 = rotl(v3, 16n) ^ v2;
      v0 = (v0 + v3) & MASK;
      v3 = rotl(v3, 21n) ^ v0;
      v2 = (v2 + v1) & MASK;
      v1 = rotl(v1, 17n) ^ v2;
      v2 = rotl(v2, 32n);
    }
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = data.length - (data.length % 8);
  for (let i = 0; i < end; i += 8) {
    const m = view.getBigUint64(i, true);
    v3 ^= m;
    rounds(c);
    v0 ^= m;
  }
  let b = BigInt(data.length & 0xff) << 56n;
  for (let i = data.length - 1; i >= end; i--) b |= BigInt(data[i]!) << BigInt(8 * (i - end));
  v3 ^= b;
  rounds(c);
  v0 ^= b;
  v2 ^= 0xffn;
  rounds(d);
  return v0 ^ v1 ^ v2 ^ v3;
}

interface Entry<T> {
  readonly value: T;
  readonly hash: bigint;
  next: Entry<T> | null;
}

class Table<T> {
  readonly buckets: (Entry<T> | null)[];
  used = 0;
  constructor(readonly size: number) {
    this.buckets = new Array<Entry<T> | null>(size).fill(null);
  }
  index(hash: bigint): number {
    return Number(hash & BigInt(this.size - 1));
  }
}

const INITIAL_SIZE = 4;

/** Insert-only emulation of the dict: enough to reproduce the iteration order after insertions. */
export class RedisDictOrder<T> {
  private t0: Table<T> | undefined;
  private t1: Table<T> | undefined;
  private rehashIdx = -1;

  add(value: T, key: Uint8Array): void {
    if (this.t1 !== undefined) this.rehashStep();
    this.expandIfNeeded();
    const t = this.t1 ?? this.t0!;
    const hash = sipHash12(key);
    const i = t.index(hash);
    t.buckets[i] = { value, hash, next: t.buckets[i] ?? null };
    t.used++;
  }

  /** Iteration order: the first table's buckets, then the second's while a rehash runs. */
  values(): T[] {
    const out: T[] = [];
    for (const t of [this.t0, this.t1]) {
      for (const head of t?.buckets ?? []) for (let e = head; e !== null; e = e.next) out.push(e.value);
    }
    return out;
  }

  private expandIfNeeded(): void {
    if (this.t1 !== undefined) return;
    if (this.t0 === undefined) this.t0 = new Table(INITIAL_SIZE);
    else if (this.t0.used >= this.t0.size) this.expand(this.t0.used * 2);
  }

  private expand(want: number): void {
    let size = INITIAL_SIZE;
    while (size < want) size *= 2;
    if (size === this.t0!.size) return;
    this.t1 = new Table(size);
    this.rehashIdx = 0;
  }

  /** One step of incremental rehashing: one bucket moved, at most 10 empty ones visited. */
  private rehashStep(): void {
    const t0 = this.t0!;
    const t1 = this.t1!;
    if (t0.used !== 0) {
      let emptyVisits = 10;
      while (t0.buckets[this.rehashIdx] === null) {
        this.rehashIdx++;
        if (--emptyVisits === 0) return;
      }
      for (let e: Entry<T> | null = t0.buckets[this.rehashIdx]!; e !== null; ) {
        const next: Entry<T> | null = e.next;
        const j = t1.index(e.hash);
        e.next = t1.buckets[j] ?? null;
        t1.buckets[j] = e;
        t0.used--;
        t1.used++;
        e = next;
      }
      t0.buckets[this.rehashIdx] = null;
      this.rehashIdx++;
    }
    if (t0.used === 0) {
      this.t0 = t1;
      this.t1 = undefined;
      this.rehashIdx = -1;
    }
  }
}
