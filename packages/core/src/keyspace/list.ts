/**
 * A list value (Redis's list type): a double-ended queue of Buffers in a ring buffer, so pushes
 * and pops at either end are O(1) and indexing (LINDEX, LRANGE, LSET) is O(1) per element.
 * Elements are private, never-mutated Buffers: a value replaced in place (LSET) is a new Buffer,
 * so a persistence record or a snapshot may keep references to them.
 */
export class ListValue {
  private buf: (Buffer | undefined)[];
  private head = 0;
  private len = 0;

  constructor(items: Iterable<Buffer> = []) {
    this.buf = new Array<Buffer | undefined>(8);
    for (const it of items) this.pushTail(it);
  }

  get length(): number {
    return this.len;
  }

  private get mask(): number {
    return this.buf.length - 1;
  }

  private grow(): void {
    if (this.len < this.buf.length) return;
    const next = new Array<Buffer | undefined>(this.buf.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
  }

  /** The element at `i` (0 = head), for 0 <= i < length. */
  at(i: number): Buffer {
    return this.buf[(this.head + i) & this.mask]!;
  }

  setAt(i: number, v: Buffer): void {
    this.buf[(this.head + i) & this.mask] = v;
  }

  pushHead(v: Buffer): void {
    this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = v;
    this.len++;
  }

  pushTail(v: Buffer): void {
    this.grow();
    this.buf[(this.head + this.len) & this.mask] = v;
    this.len++;
  }

  /** Removes up to `n` elements from the head, returned head first. */
  popHead(n: number): Buffer[] {
    const k = Math.min(n, this.len);
    const out = new Array<Buffer>(k);
    for (let i = 0; i < k; i++) {
      out[i] = this.buf[this.head]!;
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
    }
    this.len -= k;
    this.shrink();
    return out;
  }

  /** Removes up to `n` elements from the tail, returned tail first (as RPOP with a count replies). */
  popTail(n: number): Buffer[] {
    const k = Math.min(n, this.len);
    const out = new Array<Buffer>(k);
    for (let i = 0; i < k; i++) {
      const at = (this.head + this.len - 1) & this.mask;
      out[i] = this.buf[at]!;
      this.buf[at] = undefined;
      this.len--;
    }
    this.shrink();
    return out;
  }

  /** Elements [start, stop] inclusive, already clamped to the list by the caller. */
  range(start: number, stop: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = start; i <= stop; i++) out.push(this.at(i));
    return out;
  }

  /**
   * Removes elements equal to `v`: the first `count` from the head when count > 0, from the
   * tail when count < 0, all when 0 (LREM). Returns how many were removed.
   */
  remove(count: number, v: Buffer): number {
    const items = this.toArray();
    const keep = new Array<boolean>(items.length).fill(true);
    let removed = 0;
    const limit = count === 0 ? Infinity : Math.abs(count);
    if (count >= 0) {
      for (let i = 0; i < items.length && removed < limit; i++) if (items[i]!.equals(v)) (keep[i] = false), removed++;
    } else {
      for (let i = items.length - 1; i >= 0 && removed < limit; i--) if (items[i]!.equals(v)) (keep[i] = false), removed++;
    }
    if (removed > 0) this.reset(items.filter((_, i) => keep[i]));
    return removed;
  }

  /** Drops `head` elements from the head and `tail` from the tail (LTRIM, resolved). */
  trim(head: number, tail: number): void {
    this.popHead(head);
    this.popTail(tail);
  }

  toArray(): Buffer[] {
    return this.range(0, this.len - 1);
  }

  [Symbol.iterator](): IterableIterator<Buffer> {
    return this.toArray()[Symbol.iterator]();
  }

  /** A copy sharing the (immutable) elements: what a point-in-time snapshot holds. */
  clone(): ListValue {
    return new ListValue(this.toArray());
  }

  private reset(items: Buffer[]): void {
    let cap = 8;
    while (cap < items.length) cap *= 2;
    this.buf = new Array<Buffer | undefined>(cap);
    for (let i = 0; i < items.length; i++) this.buf[i] = items[i];
    this.head = 0;
    this.len = items.length;
  }

  /** Gives memory back when a big list has mostly drained. */
  private shrink(): void {
    if (this.buf.length > 64 && this.len * 4 < this.buf.length) this.reset(this.toArray());
  }
}
