import { deviceText, parseDevice } from '../backend/device.js';
import { BACKEND_NAMES, type BackendName } from '../backend/spi.js';
import type { ModelSpec, ScriptSpec } from '../engine/engine.js';
import type { Change } from '../keyspace/collections.js';
import { keyToBuffer, type Key, type Value } from '../keyspace/keyspace.js';
import { ListValue } from '../keyspace/list.js';
import { DTYPE_NAMES, Tensor, type DType } from '../tensor/index.js';
import { crc32 } from './crc32.js';
import { PartsWriter } from './parts.js';

/**
 * The respai persistence format, shared by snapshots and the append-only file (docs/persistence.md
 * describes it byte by byte). A file is a header followed by framed records:
 *
 *   header (28 bytes): "RESPAI" | kind ('S' snapshot, 'A' append-only) | 0x00 | u32 version
 *                      | u64 created (ms) | u32 flags (0) | u32 CRC-32 of the 24 bytes before it
 *   record frame:      u64 body length | u32 CRC-32 of those 8 bytes | body | u32 CRC-32 of body
 *   record body:       u8 record type | payload
 *
 * Integers are little-endian. A snapshot ends with an END record (key count and a checksum over
 * every record's CRC) and nothing after it; an append-only file has no end.
 */
export const MAGIC = Buffer.from('RESPAI', 'latin1');
/** 2 added lists, hashes and CHANGE records; version 1 files are read as they are. */
export const FORMAT_VERSION = 2;
export const HEADER_SIZE = 28;
/** Bytes a frame adds around its body: length, length CRC, body CRC. */
export const FRAME_OVERHEAD = 16;
export const FRAME_HEAD = 12;

export type FileKind = 'snapshot' | 'aof';
const KIND_BYTE: Record<FileKind, number> = { snapshot: 0x53, aof: 0x41 };

export const REC = { SET: 0x01, DEL: 0x02, EXPIRE: 0x03, RENAME: 0x04, CLEAR: 0x05, CHANGE: 0x06, END: 0xff } as const;
export const VAL = { STRING: 0x01, TENSOR: 0x02, MODEL: 0x03, SCRIPT: 0x04, LIST: 0x05, HASH: 0x06 } as const;
/** The kind byte of a CHANGE record (an in-place change of a list or hash). */
export const CHANGE = { LPUSH: 1, RPUSH: 2, LPOP: 3, RPOP: 4, LSET: 5, LREM: 6, LTRIM: 7, HSET: 8, HDEL: 9 } as const;

/** A mutation of the keyspace as a record: what DurableKeyspace reports and the AOF stores. */
export type Mutation =
  | { readonly op: 'set'; readonly key: Key; readonly value: Value; readonly expireAt: number }
  | { readonly op: 'del'; readonly key: Key }
  | { readonly op: 'expire'; readonly key: Key; readonly expireAt: number }
  | { readonly op: 'rename'; readonly from: Key; readonly to: Key }
  | { readonly op: 'clear' }
  | { readonly op: 'change'; readonly key: Key; readonly change: Change };

/**
 * A value as read back from a file: strings and tensors are ready to use; models and scripts are
 * the requests that re-create them through their backends (the blob, the source).
 */
export type StoredValue =
  | { readonly type: 'string'; readonly value: Buffer }
  | { readonly type: 'tensor'; readonly value: Tensor }
  | { readonly type: 'model'; readonly value: ModelSpec }
  | { readonly type: 'script'; readonly value: ScriptSpec }
  | { readonly type: 'list'; readonly value: ListValue }
  | { readonly type: 'hash'; readonly value: Map<string, Buffer> };

export type FileRecord =
  | { readonly op: 'set'; readonly key: Key; readonly value: StoredValue; readonly expireAt: number }
  | { readonly op: 'del'; readonly key: Key }
  | { readonly op: 'expire'; readonly key: Key; readonly expireAt: number }
  | { readonly op: 'rename'; readonly from: Key; readonly to: Key }
  | { readonly op: 'clear' }
  | { readonly op: 'change'; readonly key: Key; readonly change: Change }
  | { readonly op: 'end'; readonly count: number; readonly checksum: number };

/** A framed record ready to write: `parts` written back to back are the record's bytes. */
export interface Frame {
  readonly parts: Buffer[];
  readonly bytes: number;
  /** CRC-32 of the body (what the END checksum chains). */
  readonly crc: number;
}

/** A file that is not what it should be; `offset` is where reading stopped. */
export class FormatError extends Error {}

export function encodeHeader(kind: FileKind, createdAt = Date.now()): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(b, 0);
  b[6] = KIND_BYTE[kind];
  b[7] = 0;
  b.writeUInt32LE(FORMAT_VERSION, 8);
  writeU64(b, 12, createdAt);
  b.writeUInt32LE(0, 20);
  b.writeUInt32LE(crc32(b.subarray(0, 24)), 24);
  return b;
}

export interface Header {
  kind: FileKind;
  version: number;
  createdAt: number;
}

/** Parses a header; throws FormatError naming what is wrong. */
export function decodeHeader(b: Buffer): Header {
  if (b.length < HEADER_SIZE || !b.subarray(0, 6).equals(MAGIC)) throw new FormatError('not a respai persistence file (bad magic)');
  if (b.readUInt32LE(24) !== crc32(b.subarray(0, 24))) throw new FormatError('header checksum mismatch');
  const kind = b[6] === KIND_BYTE.snapshot ? 'snapshot' : b[6] === KIND_BYTE.aof ? 'aof' : undefined;
  if (kind === undefined) throw new FormatError(`unknown file kind 0x${b[6]!.toString(16)}`);
  const version = b.readUInt32LE(8);
  if (version < 1 || version > FORMAT_VERSION) {
    throw new FormatError(`format version ${version} is not supported (this server reads versions 1 to ${FORMAT_VERSION})`);
  }
  return { kind, version, createdAt: readU64(b, 12) };
}

function writeU64(b: Buffer, at: number, v: number): void {
  b.writeUInt32LE(v % 0x1_0000_0000, at);
  b.writeUInt32LE(Math.floor(v / 0x1_0000_0000), at + 4);
}

function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** The fields of a record body (little-endian integers, length-prefixed strings and payloads). */
class BodyWriter extends PartsWriter {
  u32(v: number): this {
    const at = this.reserve(4);
    this.cur.writeUInt32LE(v, at);
    return this;
  }
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a u64: ${v}`);
    const at = this.reserve(8);
    writeU64(this.cur, at, v);
    return this;
  }
  /** Short byte strings (keys, names): u32 length + bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.raw(b);
  }
  text(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }
  texts(list: readonly string[]): void {
    this.u32(list.length);
    for (const s of list) this.text(s);
  }
  /** Payloads (values, blobs): u64 length + bytes. */
  blob(b: Uint8Array): void {
    this.u64(b.length);
    this.raw(b);
  }
  finish(): Buffer[] {
    return this.take();
  }
}

/** Frames a body: length, its CRC, the body, the body's CRC. */
export function frame(body: Buffer[]): Frame {
  let len = 0;
  let crc = 0;
  for (const p of body) {
    len += p.length;
    crc = crc32(p, crc);
  }
  const head = Buffer.allocUnsafe(FRAME_HEAD);
  writeU64(head, 0, len);
  head.writeUInt32LE(crc32(head.subarray(0, 8)), 8);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32LE(crc, 0);
  return { parts: [head, ...body, tail], bytes: len + FRAME_OVERHEAD, crc };
}

function writeValue(w: BodyWriter, v: Value, chunkSize: number): void {
  switch (v.type) {
    case 'string':
      w.u8(VAL.STRING);
      w.blob(v.value);
      return;
    case 'tensor': {
      const t = v.value;
      w.u8(VAL.TENSOR);
      w.text(t.dtype);
      w.u32(t.shape.length);
      for (const d of t.shape) w.u64(d);
      w.blob(t.data);
      return;
    }
    case 'model': {
      const { meta, blob } = v.value;
      w.u8(VAL.MODEL);
      w.text(meta.backend);
      w.text(deviceText(meta.device));
      w.bytes(meta.tag);
      w.u64(meta.batchSize);
      w.u64(meta.minBatchSize);
      w.u64(meta.minBatchTimeout);
      w.texts(meta.inputs);
      w.texts(meta.outputs);
      // The blob in MODEL_CHUNK_SIZE pieces, as RedisAI writes models into its RDB.
      const size = Math.max(1, Math.floor(chunkSize));
      const chunks = Math.max(1, Math.ceil(blob.length / size));
      w.u64(blob.length);
      w.u32(chunks);
      for (let i = 0; i < chunks; i++) w.blob(blob.subarray(i * size, Math.min(blob.length, (i + 1) * size)));
      return;
    }
    case 'script': {
      const { meta, source } = v.value;
      w.u8(VAL.SCRIPT);
      w.text(deviceText(meta.device));
      w.bytes(meta.tag);
      w.texts(meta.entryPoints);
      w.blob(Buffer.from(source, 'utf8'));
      return;
    }
    case 'list':
      w.u8(VAL.LIST);
      w.u64(v.value.length);
      for (const it of v.value) w.blob(it);
      return;
    case 'hash':
      w.u8(VAL.HASH);
      w.u64(v.value.size);
      for (const [f, x] of v.value) {
        w.bytes(keyToBuffer(f));
        w.blob(x);
      }
      return;
  }
}

function writeChange(w: BodyWriter, c: Change): void {
  switch (c.kind) {
    case 'lpush':
    case 'rpush':
      w.u8(c.kind === 'lpush' ? CHANGE.LPUSH : CHANGE.RPUSH);
      w.u64(c.items.length);
      for (const it of c.items) w.blob(it);
      return;
    case 'lpop':
    case 'rpop':
      w.u8(c.kind === 'lpop' ? CHANGE.LPOP : CHANGE.RPOP);
      w.u64(c.count);
      return;
    case 'lset':
      w.u8(CHANGE.LSET);
      w.u64(c.index);
      w.blob(c.item);
      return;
    case 'lrem':
      // The sign of the count (its direction) in a byte of its own, then its magnitude.
      w.u8(CHANGE.LREM);
      w.u8(c.count < 0 ? 1 : 0);
      w.u64(Math.abs(c.count));
      w.blob(c.item);
      return;
    case 'ltrim':
      w.u8(CHANGE.LTRIM);
      w.u64(c.head);
      w.u64(c.tail);
      return;
    case 'hset':
      w.u8(CHANGE.HSET);
      w.u64(c.fields.length);
      for (let i = 0; i < c.fields.length; i++) {
        w.bytes(keyToBuffer(c.fields[i]!));
        w.blob(c.values[i]!);
      }
      return;
    case 'hdel':
      w.u8(CHANGE.HDEL);
      w.u64(c.fields.length);
      for (const f of c.fields) w.bytes(keyToBuffer(f));
      return;
  }
}

/** Encodes a mutation as one framed record; models are written in `modelChunkSize` chunks. */
export function encodeMutation(m: Mutation, modelChunkSize: number): Frame {
  const w = new BodyWriter();
  switch (m.op) {
    case 'set':
      w.u8(REC.SET);
      w.bytes(keyToBuffer(m.key));
      w.u64(m.expireAt);
      writeValue(w, m.value, modelChunkSize);
      break;
    case 'del':
      w.u8(REC.DEL);
      w.bytes(keyToBuffer(m.key));
      break;
    case 'expire':
      w.u8(REC.EXPIRE);
      w.bytes(keyToBuffer(m.key));
      w.u64(m.expireAt);
      break;
    case 'rename':
      w.u8(REC.RENAME);
      w.bytes(keyToBuffer(m.from));
      w.bytes(keyToBuffer(m.to));
      break;
    case 'clear':
      w.u8(REC.CLEAR);
      break;
    case 'change':
      w.u8(REC.CHANGE);
      w.bytes(keyToBuffer(m.key));
      writeChange(w, m.change);
      break;
  }
  return frame(w.finish());
}

/** A snapshot's END record: how many records precede it and their chained checksum. */
export function encodeEnd(count: number, checksum: number): Frame {
  const w = new BodyWriter();
  w.u8(REC.END);
  w.u64(count);
  w.u32(checksum);
  return frame(w.finish());
}

/** Folds one record's body CRC into the running END checksum. */
export function chainChecksum(chain: number, recordCrc: number): number {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(recordCrc, 0);
  return crc32(b, chain);
}

/**
 * A copy of `b` when it is a small view into a much larger buffer (a read chunk), so a value read
 * from a file does not keep megabytes of unrelated file data alive.
 */
function detach(b: Buffer): Buffer {
  if (b.buffer.byteLength <= 2 * b.length) return b;
  return Buffer.from(b);
}

class BodyReader {
  private pos = 0;
  constructor(private readonly b: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new FormatError('malformed record: field runs past the end of the record');
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = readU64(this.b, this.pos);
    if (!Number.isSafeInteger(v)) throw new FormatError('malformed record: integer out of range');
    this.pos += 8;
    return v;
  }
  raw(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  bytes(): Buffer {
    return this.raw(this.u32());
  }
  text(): string {
    return this.bytes().toString('utf8');
  }
  texts(): string[] {
    const n = this.u32();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.text());
    return out;
  }
  blob(): Buffer {
    return this.raw(this.u64());
  }
  done(): void {
    if (this.pos !== this.b.length) throw new FormatError(`malformed record: ${this.b.length - this.pos} unexpected bytes at its end`);
  }
}

const keyOfBytes = (b: Buffer): Key => b.toString('latin1');

function readValue(r: BodyReader): StoredValue {
  const type = r.u8();
  switch (type) {
    case VAL.STRING:
      return { type: 'string', value: detach(r.blob()) };
    case VAL.TENSOR: {
      const dtype = r.text();
      if (!DTYPE_NAMES.includes(dtype as DType)) throw new FormatError(`malformed record: unknown tensor dtype ${dtype}`);
      const shape: number[] = [];
      const n = r.u32();
      for (let i = 0; i < n; i++) shape.push(r.u64());
      const data = r.blob();
      try {
        return { type: 'tensor', value: Tensor.fromBlob(dtype as DType, shape, data) };
      } catch (e) {
        throw new FormatError(`malformed record: bad tensor: ${(e as Error).message}`);
      }
    }
    case VAL.MODEL: {
      const backend = r.text();
      if (!BACKEND_NAMES.includes(backend as BackendName)) throw new FormatError(`malformed record: unknown backend ${backend}`);
      const device = device_(r.text());
      const tag = detach(r.bytes());
      const batchSize = r.u64();
      const minBatchSize = r.u64();
      const minBatchTimeout = r.u64();
      const inputs = r.texts();
      const outputs = r.texts();
      const total = r.u64();
      const n = r.u32();
      const chunks: Buffer[] = [];
      let got = 0;
      for (let i = 0; i < n; i++) {
        const c = r.blob();
        chunks.push(c);
        got += c.length;
      }
      if (got !== total) throw new FormatError(`malformed record: model chunks hold ${got} bytes, ${total} expected`);
      const blob = chunks.length === 1 ? detach(chunks[0]!) : Buffer.concat(chunks, total);
      return {
        type: 'model',
        value: { backend: backend as BackendName, device, tag, batchSize, minBatchSize, minBatchTimeout, inputs, outputs, blob },
      };
    }
    case VAL.SCRIPT: {
      const device = device_(r.text());
      const tag = detach(r.bytes());
      const entryPoints = r.texts();
      const source = r.blob().toString('utf8');
      return { type: 'script', value: { device, tag, entryPoints, source } };
    }
    case VAL.LIST: {
      const n = r.u64();
      const l = new ListValue();
      for (let i = 0; i < n; i++) l.pushTail(detach(r.blob()));
      return { type: 'list', value: l };
    }
    case VAL.HASH: {
      const n = r.u64();
      const h = new Map<string, Buffer>();
      for (let i = 0; i < n; i++) {
        const f = keyOfBytes(r.bytes());
        h.set(f, detach(r.blob()));
      }
      return { type: 'hash', value: h };
    }
    default:
      throw new FormatError(`malformed record: unknown value type 0x${type.toString(16)}`);
  }
}

function readChange(r: BodyReader): Change {
  const kind = r.u8();
  switch (kind) {
    case CHANGE.LPUSH:
    case CHANGE.RPUSH: {
      const n = r.u64();
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) items.push(detach(r.blob()));
      return { kind: kind === CHANGE.LPUSH ? 'lpush' : 'rpush', items };
    }
    case CHANGE.LPOP:
    case CHANGE.RPOP:
      return { kind: kind === CHANGE.LPOP ? 'lpop' : 'rpop', count: r.u64() };
    case CHANGE.LSET: {
      const index = r.u64();
      return { kind: 'lset', index, item: detach(r.blob()) };
    }
    case CHANGE.LREM: {
      const negative = r.u8() === 1;
      const count = r.u64();
      return { kind: 'lrem', count: negative ? -count : count, item: detach(r.blob()) };
    }
    case CHANGE.LTRIM: {
      const head = r.u64();
      return { kind: 'ltrim', head, tail: r.u64() };
    }
    case CHANGE.HSET: {
      const n = r.u64();
      const fields: string[] = [];
      const values: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        fields.push(keyOfBytes(r.bytes()));
        values.push(detach(r.blob()));
      }
      return { kind: 'hset', fields, values };
    }
    case CHANGE.HDEL: {
      const n = r.u64();
      const fields: string[] = [];
      for (let i = 0; i < n; i++) fields.push(keyOfBytes(r.bytes()));
      return { kind: 'hdel', fields };
    }
    default:
      throw new FormatError(`malformed record: unknown change kind 0x${kind.toString(16)}`);
  }
}

function device_(name: string) {
  try {
    return parseDevice(name);
  } catch {
    throw new FormatError(`malformed record: bad device ${name}`);
  }
}

/** Decodes one record body (its CRC already checked); throws FormatError when malformed. */
export function decodeRecord(body: Buffer): FileRecord {
  const r = new BodyReader(body);
  const type = r.u8();
  let rec: FileRecord;
  switch (type) {
    case REC.SET: {
      const key = keyOfBytes(r.bytes());
      const expireAt = r.u64();
      rec = { op: 'set', key, expireAt, value: readValue(r) };
      break;
    }
    case REC.DEL:
      rec = { op: 'del', key: keyOfBytes(r.bytes()) };
      break;
    case REC.EXPIRE: {
      const key = keyOfBytes(r.bytes());
      rec = { op: 'expire', key, expireAt: r.u64() };
      break;
    }
    case REC.RENAME: {
      const from = keyOfBytes(r.bytes());
      rec = { op: 'rename', from, to: keyOfBytes(r.bytes()) };
      break;
    }
    case REC.CLEAR:
      rec = { op: 'clear' };
      break;
    case REC.CHANGE: {
      const key = keyOfBytes(r.bytes());
      rec = { op: 'change', key, change: readChange(r) };
      break;
    }
    case REC.END: {
      const count = r.u64();
      rec = { op: 'end', count, checksum: r.u32() };
      break;
    }
    default:
      throw new FormatError(`unknown record type 0x${type.toString(16)}`);
  }
  r.done();
  return rec;
}

export { readU64, writeU64 };
