import { E, fail } from '../errors.js';
import { applyChange, changeCreates, changeTarget, collectionSize, emptyFor, type Change, type ChangeResult } from './collections.js';
import { releaseValue, type Key, type Keyspace, type ScanPage, type SetOptions, type TypedValues, type Value, type ValueType } from './keyspace.js';

interface Entry {
  value: Value;
  /** ms since the epoch; 0 = no TTL. */
  expireAt: number;
  /** Position in the scan order: strictly increasing with insertion, never reused. */
  seq: number;
}

export interface MemoryKeyspaceOptions {
  /** Clock in ms since the epoch (tests pass a fake one). */
  now?: () => number;
  /** Active expiry period in ms; 0 disables the background cycle (lazy expiry still applies). */
  activeExpiryMs?: number;
  /**
   * Called when a value leaves the keyspace (deleted, overwritten, expired, flushed), so the
   * engine can free what a model or script holds in its runtime.
   */
  onDrop?: (value: Value) => void;
}

/**
 * The embedded keyspace: a Map for lookups plus a seq-ordered index for SCAN. Expired keys are
 * removed lazily on access and by a small periodic sampling cycle, as Redis does.
 */
export class MemoryKeyspace implements Keyspace {
  private readonly map = new Map<Key, Entry>();
  private readonly now: () => number;
  // SCAN index: parallel arrays sorted by seq; deleted slots hold null until compaction.
  // A cursor is the last seq returned, so it stays valid across compactions and inserts.
  private seqs: number[] = [];
  private slots: (Key | null)[] = [];
  private holes = 0;
  private nextSeq = 1;
  private readonly volatile = new Set<Key>();
  private expiryCursor: IterableIterator<Key> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onDrop: ((value: Value) => void) | undefined;

  constructor(options: MemoryKeyspaceOptions = {}) {
    this.now = options.now ?? Date.now;
    this.onDrop = options.onDrop ?? releaseValue;
    const period = options.activeExpiryMs ?? 100;
    if (period > 0) {
      this.timer = setInterval(() => this.activeExpire(), period);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.map.size;
  }

  get volatileCount(): number {
    return this.volatile.size;
  }

  private live(key: Key): Entry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expireAt !== 0 && e.expireAt <= this.now()) {
      this.remove(key, e);
      return undefined;
    }
    return e;
  }

  get(key: Key): Value | undefined {
    return this.live(key)?.value;
  }

  getTyped<T extends ValueType>(key: Key, type: T): TypedValues[T] | undefined {
    const e = this.live(key);
    if (e === undefined) return undefined;
    if (e.value.type !== type) fail(E.wrongType);
    return e.value.value as TypedValues[T];
  }

  has(key: Key): boolean {
    return this.live(key) !== undefined;
  }

  set(key: Key, value: Value, options: SetOptions = {}): void {
    const e = this.live(key);
    const expireAt = options.keepTtl ? (e?.expireAt ?? 0) : (options.expireAt ?? 0);
    if (e !== undefined) {
      const old = e.value;
      e.value = value;
      e.expireAt = expireAt;
      if (old !== value && old.value !== value.value) this.onDrop?.(old);
    } else {
      const seq = this.nextSeq++;
      this.map.set(key, { value, expireAt, seq });
      this.seqs.push(seq);
      this.slots.push(key);
    }
    if (expireAt !== 0) this.volatile.add(key);
    else this.volatile.delete(key);
  }

  apply(key: Key, change: Change): ChangeResult {
    const e = this.live(key);
    const type = changeTarget(change);
    if (e !== undefined && e.value.type !== type) fail(E.wrongType);
    if (e === undefined && !changeCreates(change)) return { n: 0, changed: false };
    const target = e === undefined ? emptyFor(change) : (e.value.value as TypedValues['list' | 'hash']);
    const r = applyChange(target, change);
    if (collectionSize(target) === 0) {
      if (e !== undefined) this.remove(key, e);
    } else if (e === undefined) {
      this.set(key, { type, value: target } as Value);
    }
    return r;
  }

  delete(key: Key): boolean {
    const e = this.live(key);
    if (e === undefined) return false;
    this.remove(key, e);
    return true;
  }

  private remove(key: Key, e: Entry, dropped = true): void {
    this.map.delete(key);
    if (dropped) this.onDrop?.(e.value);
    this.volatile.delete(key);
    const i = this.indexOfSeq(e.seq);
    if (i >= 0 && this.slots[i] === key) {
      this.slots[i] = null;
      this.holes++;
      if (this.holes > 1024 && this.holes * 2 > this.slots.length) this.compact();
    }
  }

  private compact(): void {
    const seqs: number[] = [];
    const slots: Key[] = [];
    for (let i = 0; i < this.slots.length; i++) {
      const k = this.slots[i];
      if (k != null) {
        seqs.push(this.seqs[i]!);
        slots.push(k);
      }
    }
    this.seqs = seqs;
    this.slots = slots;
    this.holes = 0;
  }

  /** Index of `seq` in `seqs`, or -1. */
  private indexOfSeq(seq: number): number {
    const i = this.firstAfter(seq - 1);
    return this.seqs[i] === seq ? i : -1;
  }

  /** Index of the first seq strictly greater than `seq`. */
  private firstAfter(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  *keys(): IterableIterator<Key> {
    const now = this.now();
    for (const [k, e] of this.map) {
      if (e.expireAt === 0 || e.expireAt > now) yield k;
    }
  }

  scan(cursor: number, count: number, filter?: (key: Key, value: Value) => boolean): ScanPage {
    const keys: Key[] = [];
    const now = this.now();
    let i = this.firstAfter(cursor);
    // COUNT bounds the work (slots visited), like Redis, not the number of matches.
    let visited = 0;
    let last = cursor;
    while (i < this.slots.length && visited < count) {
      const k = this.slots[i];
      last = this.seqs[i]!;
      i++;
      if (k == null) continue;
      visited++;
      // Expired keys are skipped, not removed here: removal may compact the arrays mid-loop.
      const e = this.map.get(k);
      if (e === undefined || (e.expireAt !== 0 && e.expireAt <= now)) continue;
      if (filter === undefined || filter(k, e.value)) keys.push(k);
    }
    return { cursor: i >= this.slots.length ? 0 : last, keys };
  }

  setExpiry(key: Key, expireAt: number | undefined): boolean {
    const e = this.live(key);
    if (e === undefined) return false;
    if (expireAt !== undefined && expireAt <= this.now()) {
      this.remove(key, e);
      return true;
    }
    e.expireAt = expireAt ?? 0;
    if (e.expireAt !== 0) this.volatile.add(key);
    else this.volatile.delete(key);
    return true;
  }

  ttl(key: Key): number {
    const e = this.live(key);
    if (e === undefined) return -2;
    if (e.expireAt === 0) return -1;
    return Math.max(0, e.expireAt - this.now());
  }

  expiryOf(key: Key): number | undefined {
    const e = this.live(key);
    return e === undefined || e.expireAt === 0 ? undefined : e.expireAt;
  }

  rename(from: Key, to: Key): boolean {
    const e = this.live(from);
    if (e === undefined) return false;
    if (from === to) return true;
    this.remove(from, e, false);
    this.delete(to);
    this.set(to, e.value, e.expireAt === 0 ? {} : { expireAt: e.expireAt });
    return true;
  }

  clear(): void {
    if (this.onDrop !== undefined) for (const e of this.map.values()) this.onDrop(e.value);
    this.map.clear();
    this.volatile.clear();
    this.seqs = [];
    this.slots = [];
    this.holes = 0;
    this.expiryCursor = undefined;
  }

  /** Samples keys with a TTL and drops the expired ones; bounded work per tick. */
  activeExpire(budget = 200): number {
    if (this.volatile.size === 0) return 0;
    const now = this.now();
    let removed = 0;
    for (let n = 0; n < budget; n++) {
      this.expiryCursor ??= this.volatile.values();
      const r = this.expiryCursor.next();
      if (r.done) {
        this.expiryCursor = undefined;
        break;
      }
      const e = this.map.get(r.value);
      if (e !== undefined && e.expireAt !== 0 && e.expireAt <= now) {
        this.remove(r.value, e);
        removed++;
      }
    }
    return removed;
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
