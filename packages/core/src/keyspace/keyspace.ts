import type { Tensor } from '../tensor/index.js';
import type { Model } from '../engine/model.js';
import type { Script } from '../engine/script.js';
import type { Change, ChangeResult, HashValue } from './collections.js';
import type { ListValue } from './list.js';

/**
 * The value types a key can hold, by type tag. Later kinds (models, scripts) are added here, and
 * every consumer that switches on `type` is then checked for exhaustiveness by the compiler.
 */
export interface TypedValues {
  string: Buffer;
  tensor: Tensor;
  model: Model;
  script: Script;
  list: ListValue;
  hash: HashValue;
}
export type ValueType = keyof TypedValues;
export type Value = { [K in ValueType]: { readonly type: K; readonly value: TypedValues[K] } }[ValueType];

/** What TYPE replies for each value type (RedisAI's module type names). */
export const TYPE_NAMES: { readonly [K in ValueType]: string } = {
  string: 'string',
  tensor: 'AI_TENSOR',
  model: 'AI__MODEL',
  script: 'AI_SCRIPT',
  list: 'list',
  hash: 'hash',
};

/**
 * Values holding runtime resources (a loaded model) are reference-counted: the keyspace holds
 * one reference and drops it when the value leaves; a run holds another while it uses it.
 */
export interface Releasable {
  release(): void;
}

export function releaseValue(v: Value): void {
  const r = v.value as Partial<Releasable>;
  if (typeof r.release === 'function') r.release();
}

/**
 * Keys are binary-safe strings: the key's bytes read as latin1, one char per byte, so any byte
 * sequence maps to exactly one string and back (`keyToBuffer`).
 */
export type Key = string;
export const keyOf = (b: Buffer): Key => b.toString('latin1');
export const keyToBuffer = (k: Key): Buffer => Buffer.from(k, 'latin1');

export interface SetOptions {
  /** Absolute expiry in ms since the epoch; omitted = no TTL (a plain SET clears an old one). */
  expireAt?: number;
  /** Keep the key's current TTL (SET KEEPTTL, and in-place updates such as INCR). */
  keepTtl?: boolean;
}

/** One page of SCAN: the next cursor (0 when done) and the keys on this page. */
export interface ScanPage {
  cursor: number;
  keys: Key[];
}

/**
 * The keyspace behind every command. The embedded in-memory one is the default; a durable or an
 * external (Redis/Valkey) keyspace implements the same interface.
 */
export interface Keyspace {
  /** The value at `key`, or undefined when missing or expired. */
  get(key: Key): Value | undefined;
  /** The value at `key` if it has type `type`; undefined when missing; WRONGTYPE error otherwise. */
  getTyped<T extends ValueType>(key: Key, type: T): TypedValues[T] | undefined;
  set(key: Key, value: Value, options?: SetOptions): void;
  /**
   * Changes the list or hash at `key` in place, keeping its TTL: WRONGTYPE when the key holds
   * another type; a missing key is created by a push or HSET (without a TTL) and left missing by
   * anything else; a list or hash left empty is deleted, as in Redis.
   */
  apply(key: Key, change: Change): ChangeResult;
  /** True when the key existed. */
  delete(key: Key): boolean;
  has(key: Key): boolean;
  readonly size: number;
  /** Every live key, in insertion order. */
  keys(): IterableIterator<Key>;
  /**
   * Resumable iteration: every key present for the whole iteration is returned at least once,
   * whatever is added or deleted in between. Cursor 0 starts; a returned 0 means done.
   */
  scan(cursor: number, count: number, filter?: (key: Key, value: Value) => boolean): ScanPage;
  /** Set (ms since epoch) or clear (undefined) the expiry; false when the key is missing. */
  setExpiry(key: Key, expireAt: number | undefined): boolean;
  /** Remaining ms; -1 when the key has no TTL; -2 when missing. */
  ttl(key: Key): number;
  /** Absolute expiry in ms, or undefined. */
  expiryOf(key: Key): number | undefined;
  /** Moves a key with its TTL; false when `from` is missing. */
  rename(from: Key, to: Key): boolean;
  clear(): void;
  /** Number of keys with a TTL. */
  readonly volatileCount: number;
  /** Stops background work (active expiry). */
  close(): void;
}
