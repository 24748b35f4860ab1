import { E, fail, releaseValue, type Key, type Keyspace, type ScanPage, type SetOptions, type TypedValues, type Value, type ValueType } from '@respai/core';

/**
 * Thrown when a command reads a key the prefetch did not bring (or brought only the type of):
 * nothing has run yet (the engine reads the keyspace only while planning), so the caller fetches
 * the key and runs the command again. `type` is the type the command asked for, when it said.
 */
export class Miss extends Error {
  constructor(
    readonly key: Key,
    readonly type: ValueType | undefined,
  ) {
    super(`overlay miss: ${key}`);
  }
}

interface Entry {
  readonly type: ValueType;
  /** Undefined: only the type is known (a respai value of another type than the command expects). */
  readonly value: TypedValues[ValueType] | undefined;
}

/**
 * The synchronous `Keyspace` one AI command runs over in external mode (docs/scale-out.md): the
 * values prefetched from the store, and the command's writes, recorded for the caller to apply
 * to the store atomically. Values it holds that own runtime resources (models, scripts) carry one
 * reference of the overlay's, dropped by `close()`.
 */
export class OverlayKeyspace implements Keyspace {
  private readonly entries = new Map<Key, Entry | null>();
  /** Keys the command writes, in order, with their new value (null: deleted). */
  readonly written = new Map<Key, Value | null>();
  private readonly held: Value[] = [];

  /** A key as the store holds it: a value, or undefined when missing. Takes over one reference. */
  put(key: Key, value: Value | undefined): void {
    this.entries.set(key, value === undefined ? null : { type: value.type, value: value.value });
    if (value !== undefined) this.held.push(value);
  }

  /** A key known to hold a value of `type` whose content was not read. */
  putType(key: Key, type: ValueType): void {
    this.entries.set(key, { type, value: undefined });
  }

  /** A key the command only writes: reads see it missing; the write checks its type in the store. */
  putWriteOnly(key: Key): void {
    if (!this.entries.has(key)) this.entries.set(key, null);
  }

  /** True when `key` has been put (in any form). */
  knows(key: Key): boolean {
    return this.entries.has(key);
  }

  private entry(key: Key, want: ValueType | undefined): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) throw new Miss(key, want);
    if (e === null) return undefined;
    if (e.value === undefined && (want === undefined || want === e.type)) throw new Miss(key, want);
    return e;
  }

  get(key: Key): Value | undefined {
    const e = this.entry(key, undefined);
    return e === undefined ? undefined : ({ type: e.type, value: e.value } as Value);
  }

  getTyped<T extends ValueType>(key: Key, type: T): TypedValues[T] | undefined {
    const e = this.entry(key, type);
    if (e === undefined) return undefined;
    if (e.type !== type) fail(E.wrongType);
    return e.value as TypedValues[T];
  }

  has(key: Key): boolean {
    const e = this.entries.get(key);
    if (e === undefined) throw new Miss(key, undefined);
    return e !== null;
  }

  set(key: Key, value: Value, options?: SetOptions): void {
    if (options?.expireAt !== undefined || options?.keepTtl === true) unsupported('a TTL');
    this.entries.set(key, { type: value.type, value: value.value });
    this.written.set(key, value);
  }

  delete(key: Key): boolean {
    const existed = this.has(key);
    this.entries.set(key, null);
    this.written.set(key, null);
    return existed;
  }

  get size(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e !== null) n++;
    return n;
  }

  get volatileCount(): number {
    return 0;
  }

  *keys(): IterableIterator<Key> {
    for (const [k, e] of this.entries) if (e !== null) yield k;
  }

  // What follows is never reached by an AI command; reaching it is a bug, said plainly.
  apply(): never {
    return unsupported('APPLY');
  }
  scan(): ScanPage {
    return unsupported('SCAN');
  }
  setExpiry(): boolean {
    return unsupported('EXPIRE');
  }
  ttl(): number {
    return unsupported('TTL');
  }
  expiryOf(): number | undefined {
    return unsupported('TTL');
  }
  rename(): boolean {
    return unsupported('RENAME');
  }
  clear(): void {
    unsupported('FLUSH');
  }

  /** Drops the overlay's references (a run in flight holds its own). */
  close(): void {
    for (const v of this.held.splice(0)) releaseValue(v);
  }
}

function unsupported(what: string): never {
  throw new Error(`${what} is not available on a request overlay of the external keyspace`);
}
