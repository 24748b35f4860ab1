import type { Key } from '@respai/core';

/** A loaded model or script: reference-counted (see core's `Releasable`). */
export interface Cacheable {
  retain(): this;
  release(): void;
}

interface Entry<V> {
  readonly digest: string;
  readonly value: V;
}

export interface CacheStats {
  entries: number;
  hits: number;
  misses: number;
  evictions: number;
}

/**
 * A node's loaded models (or scripts) by (key, digest) (docs/scale-out.md, "Models and scripts").
 * One entry per key: the version this node last loaded, holding one reference. Concurrent misses
 * of one (key, digest) share one load. Whatever a caller gets is retained for it.
 */
export class ValueCache<V extends Cacheable> {
  private readonly entries = new Map<Key, Entry<V>>();
  private readonly loads = new Map<string, Promise<Entry<V>>>();
  readonly stats: CacheStats = { entries: 0, hits: 0, misses: 0, evictions: 0 };

  /** The cached value of (key, digest), retained for the caller; undefined on a miss. */
  get(key: Key, digest: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined || e.digest !== digest) return undefined;
    this.stats.hits++;
    return e.value.retain();
  }

  /** The cached entry of `key` whatever its digest (AI.INFO's statistics), not retained. */
  peek(key: Key): { digest: string; value: V } | undefined {
    return this.entries.get(key);
  }

  /**
   * (key, digest) from the cache, or loaded by `load` (which reads the store again and may find a
   * newer version: its digest is what gets cached). Resolves retained for the caller.
   */
  async getOrLoad(key: Key, digest: string, load: () => Promise<{ digest: string; value: V }>): Promise<V> {
    const hit = this.get(key, digest);
    if (hit !== undefined) return hit;
    this.stats.misses++;
    const id = `${key}\u0000${digest}`;
    let p = this.loads.get(id);
    if (p === undefined) {
      p = load().then(
        (e) => {
          this.loads.delete(id);
          this.put(key, e.digest, e.value);
          return this.entries.get(key)!;
        },
        (err: unknown) => {
          this.loads.delete(id);
          throw err;
        },
      );
      this.loads.set(id, p);
    }
    return (await p).value.retain();
  }

  /** Caches `value` as (key, digest), taking over one reference; the key's previous entry is released. */
  put(key: Key, digest: string, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined && old.value === value) return;
    this.entries.set(key, { digest, value });
    old?.value.release();
    this.stats.entries = this.entries.size;
  }

  /** Drops `key`'s entry (MODELDEL through this node); true when there was one. */
  drop(key: Key): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    e.value.release();
    this.stats.evictions++;
    this.stats.entries = this.entries.size;
    return true;
  }

  /** Every cached key with its digest. */
  digests(): [Key, string][] {
    return [...this.entries].map(([k, e]) => [k, e.digest]);
  }

  /**
   * Drops the entries whose key no longer holds the cached version: `current` gives, per key, the
   * store's digest now (null when the key is gone or holds something else). An entry replaced
   * while `current` was in flight is kept.
   */
  async check(current: (keys: Key[]) => Promise<(string | null)[]>): Promise<number> {
    const snapshot = this.digests();
    if (snapshot.length === 0) return 0;
    const now = await current(snapshot.map(([k]) => k));
    let dropped = 0;
    snapshot.forEach(([k, d], i) => {
      if (now[i] !== d && this.entries.get(k)?.digest === d && this.drop(k)) dropped++;
    });
    return dropped;
  }

  clear(): void {
    for (const k of [...this.entries.keys()]) this.drop(k);
  }
}
