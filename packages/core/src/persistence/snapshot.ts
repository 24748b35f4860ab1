import type { Key, Keyspace, Value } from '../keyspace/keyspace.js';
import { AtomicFile } from './files.js';
import { chainChecksum, encodeEnd, encodeHeader, encodeMutation, type FileKind } from './format.js';
import { rdbFileBatches, type RdbWriteOptions } from './rdb/file.js';

/** One key as captured for a snapshot or a rewrite. */
export interface Entry {
  readonly key: Key;
  readonly value: Value;
  /** ms since the epoch; 0 = no TTL. */
  readonly expireAt: number;
}

/**
 * A point-in-time view of the keyspace: references to immutable values (tensors, model blobs,
 * script sources; strings are replaced, not changed), so it is cheap and consistent. Lists and
 * hashes change in place: their containers are copied (the elements, immutable, are shared).
 */
export function captureEntries(ks: Keyspace): Entry[] {
  const out: Entry[] = [];
  for (const key of ks.keys()) {
    const value = ks.get(key);
    if (value !== undefined) out.push({ key, value: frozen(value), expireAt: ks.expiryOf(key) ?? 0 });
  }
  return out;
}

function frozen(v: Value): Value {
  if (v.type === 'list') return { type: 'list', value: v.value.clone() };
  if (v.type === 'hash') return { type: 'hash', value: new Map(v.value) };
  return v;
}

const BATCH_BYTES = 4 << 20;
const BATCH_PARTS = 4096;

/**
 * The bytes of a respai-format file holding `entries`, in batches of about 4 MiB (references to
 * the values' own buffers, so nothing large is copied): a rewritten append-only file (`aof`), or
 * a snapshot in the format respai wrote before its snapshots became RDB files (`snapshot`, which
 * ends with the END record; kept for tests of loading old snapshots).
 */
export function* fileBatches(kind: FileKind, entries: readonly Entry[], modelChunkSize: number): Generator<Buffer[]> {
  let batch: Buffer[] = [encodeHeader(kind)];
  let bytes = 0;
  let chain = 0;
  for (const e of entries) {
    const f = encodeMutation({ op: 'set', key: e.key, value: e.value, expireAt: e.expireAt }, modelChunkSize);
    for (const p of f.parts) batch.push(p);
    bytes += f.bytes;
    chain = chainChecksum(chain, f.crc);
    if (bytes >= BATCH_BYTES || batch.length >= BATCH_PARTS) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (kind === 'snapshot') batch.push(...encodeEnd(entries.length, chain).parts);
  if (batch.length > 0) yield batch;
}

/**
 * SAVE: writes the snapshot, an RDB file, synchronously (temp file, fsync, rename, directory
 * fsync). Returns its size.
 */
export function writeSnapshotSync(path: string, entries: readonly Entry[], o: RdbWriteOptions): number {
  const f = new AtomicFile(path);
  try {
    for (const batch of rdbFileBatches(entries, o)) f.writeSync(batch);
    f.commitSync();
    return f.bytes;
  } catch (e) {
    f.abort();
    throw e;
  }
}

/**
 * BGSAVE: the same, with writes and the fsync on the thread pool; the event loop only encodes
 * (and computes checksums) between batches. `cancelled` is checked before each batch and before
 * the rename: when it returns true the temp file is removed and the previous snapshot stays.
 */
export async function writeSnapshot(
  path: string,
  entries: readonly Entry[],
  o: RdbWriteOptions,
  cancelled: () => boolean = () => false,
): Promise<number> {
  const f = new AtomicFile(path);
  try {
    for (const batch of rdbFileBatches(entries, o)) {
      if (cancelled()) throw new Error('cancelled');
      await f.write(batch);
    }
    await f.commit(cancelled);
    return f.bytes;
  } catch (e) {
    f.abort();
    throw e;
  }
}
