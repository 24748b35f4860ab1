import { ListValue } from './list.js';

/**
 * A hash value (Redis's hash type): field -> value. Fields are binary-safe strings (the bytes
 * read as latin1, like keys); values are private, never-mutated Buffers. A Map keeps insertion
 * order, which is the order Redis replies with for small (listpack-encoded) hashes.
 */
export type HashValue = Map<string, Buffer>;

/**
 * An in-place change of a list or hash, in a resolved form: replaying the same changes in order
 * on the same value gives the same value (indexes are already normalised, increments already
 * computed), so the append-only file records them as they are.
 */
export type ListChange =
  | { readonly kind: 'lpush' | 'rpush'; readonly items: readonly Buffer[] }
  | { readonly kind: 'lpop' | 'rpop'; readonly count: number }
  /** `index` is non-negative and within the list. */
  | { readonly kind: 'lset'; readonly index: number; readonly item: Buffer }
  /** As LREM: count > 0 from the head, < 0 from the tail, 0 all. */
  | { readonly kind: 'lrem'; readonly count: number; readonly item: Buffer }
  /** LTRIM resolved: how many elements leave from each end. */
  | { readonly kind: 'ltrim'; readonly head: number; readonly tail: number };

export type HashChange =
  | { readonly kind: 'hset'; readonly fields: readonly string[]; readonly values: readonly Buffer[] }
  | { readonly kind: 'hdel'; readonly fields: readonly string[] };

export type Change = ListChange | HashChange;

/** Which value type a change applies to. */
export function changeTarget(c: Change): 'list' | 'hash' {
  return c.kind === 'hset' || c.kind === 'hdel' ? 'hash' : 'list';
}

/** Whether a change may create its key when missing (pushes and HSET do; the rest are no-ops). */
export function changeCreates(c: Change): boolean {
  return c.kind === 'lpush' || c.kind === 'rpush' || c.kind === 'hset';
}

export interface ChangeResult {
  /**
   * push: the new length; pop: elements popped; lrem / hdel: elements removed; hset: fields
   * added (not updated); lset / ltrim: 0.
   */
  readonly n: number;
  /** pop: the elements, in reply order. */
  readonly popped?: Buffer[];
  /** False when the value is unchanged (nothing to record). */
  readonly changed: boolean;
}

/** Applies a change to a list or hash of the right type (the caller checks the type). */
export function applyChange(target: ListValue | HashValue, c: Change): ChangeResult {
  if (target instanceof ListValue) return applyList(target, c as ListChange);
  return applyHash(target, c as HashChange);
}

function applyList(l: ListValue, c: ListChange): ChangeResult {
  switch (c.kind) {
    case 'lpush':
      for (const it of c.items) l.pushHead(it);
      return { n: l.length, changed: c.items.length > 0 };
    case 'rpush':
      for (const it of c.items) l.pushTail(it);
      return { n: l.length, changed: c.items.length > 0 };
    case 'lpop':
    case 'rpop': {
      const popped = c.kind === 'lpop' ? l.popHead(c.count) : l.popTail(c.count);
      return { n: popped.length, popped, changed: popped.length > 0 };
    }
    case 'lset':
      if (c.index < 0 || c.index >= l.length) throw new RangeError(`lset index ${c.index} outside a list of ${l.length}`);
      l.setAt(c.index, c.item);
      return { n: 0, changed: true };
    case 'lrem': {
      const n = l.remove(c.count, c.item);
      return { n, changed: n > 0 };
    }
    case 'ltrim': {
      const before = l.length;
      l.trim(c.head, c.tail);
      return { n: 0, changed: l.length !== before };
    }
  }
}

function applyHash(h: HashValue, c: HashChange): ChangeResult {
  if (c.kind === 'hset') {
    let added = 0;
    for (let i = 0; i < c.fields.length; i++) {
      if (!h.has(c.fields[i]!)) added++;
      h.set(c.fields[i]!, c.values[i]!);
    }
    return { n: added, changed: c.fields.length > 0 };
  }
  let removed = 0;
  for (const f of c.fields) if (h.delete(f)) removed++;
  return { n: removed, changed: removed > 0 };
}

/** Number of elements (list) or fields (hash). */
export function collectionSize(v: ListValue | HashValue): number {
  return v instanceof ListValue ? v.length : v.size;
}

/** A new empty value of a change's target type. */
export function emptyFor(c: Change): ListValue | HashValue {
  return changeTarget(c) === 'list' ? new ListValue() : new Map<string, Buffer>();
}
