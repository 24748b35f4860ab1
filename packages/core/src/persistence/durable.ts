import type { Change, ChangeResult } from '../keyspace/collections.js';
import type { Key, Keyspace, ScanPage, SetOptions, TypedValues, Value, ValueType } from '../keyspace/keyspace.js';
import type { Mutation } from './format.js';

/** Receives every mutation of a DurableKeyspace, after it happened, in order. */
export interface MutationListener {
  mutated(m: Mutation): void;
}

/**
 * A Keyspace that forwards everything to an inner one and reports each mutation that took effect
 * to its listener, with the resulting state: a SET carries the value and its absolute expiry
 * (after KEEPTTL resolution), EXPIRE the new absolute expiry, and so on, so replaying the
 * records in order rebuilds the same keyspace. Reads pass straight through. Keys that expire
 * are not reported: expiry times are absolute and replay drops what has expired by then.
 */
export class DurableKeyspace implements Keyspace {
  /** Set by the persistence layer; without one, the keyspace behaves like the inner one. */
  listener: MutationListener | undefined;

  constructor(readonly inner: Keyspace, listener?: MutationListener) {
    this.listener = listener;
  }

  get size(): number {
    return this.inner.size;
  }
  get volatileCount(): number {
    return this.inner.volatileCount;
  }
  get(key: Key): Value | undefined {
    return this.inner.get(key);
  }
  getTyped<T extends ValueType>(key: Key, type: T): TypedValues[T] | undefined {
    return this.inner.getTyped(key, type);
  }
  has(key: Key): boolean {
    return this.inner.has(key);
  }
  keys(): IterableIterator<Key> {
    return this.inner.keys();
  }
  scan(cursor: number, count: number, filter?: (key: Key, value: Value) => boolean): ScanPage {
    return this.inner.scan(cursor, count, filter);
  }
  ttl(key: Key): number {
    return this.inner.ttl(key);
  }
  expiryOf(key: Key): number | undefined {
    return this.inner.expiryOf(key);
  }

  set(key: Key, value: Value, options?: SetOptions): void {
    this.inner.set(key, value, options);
    const l = this.listener;
    if (l !== undefined) l.mutated({ op: 'set', key, value, expireAt: this.inner.expiryOf(key) ?? 0 });
  }

  apply(key: Key, change: Change): ChangeResult {
    const r = this.inner.apply(key, change);
    if (r.changed) this.listener?.mutated({ op: 'change', key, change });
    return r;
  }

  delete(key: Key): boolean {
    const existed = this.inner.delete(key);
    if (existed) this.listener?.mutated({ op: 'del', key });
    return existed;
  }

  setExpiry(key: Key, expireAt: number | undefined): boolean {
    const ok = this.inner.setExpiry(key, expireAt);
    if (ok && this.listener !== undefined) {
      // An expiry in the past deletes the key: record what happened, not what was asked.
      if (!this.inner.has(key)) this.listener.mutated({ op: 'del', key });
      else this.listener.mutated({ op: 'expire', key, expireAt: this.inner.expiryOf(key) ?? 0 });
    }
    return ok;
  }

  rename(from: Key, to: Key): boolean {
    const ok = this.inner.rename(from, to);
    if (ok && from !== to) this.listener?.mutated({ op: 'rename', from, to });
    return ok;
  }

  clear(): void {
    this.inner.clear();
    this.listener?.mutated({ op: 'clear' });
  }

  close(): void {
    this.inner.close();
  }
}
