import type { Value } from '../../keyspace/keyspace.js';
import { aiKindOf, moduleTypeOf, readAiValue, skipModuleFields, writeModel, writeScript, writeTensor, type AiValue } from './ai.js';
import { RdbError, readBinaryDouble, readLen, readLenBig, readOwnedString, readString, readTextDouble, type RdbInput, type RdbWriter } from './codec.js';
import { checkUniqueFields, decodeListpack, decodeZiplist, decodeZipmap, encodeListpack, listpackEntrySize, pairs } from './encodings.js';

/** RDB object types (rdb.h). */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
} as const;

/** rdbIsObjectType. */
export const isObjectType = (t: number): boolean => (t >= 0 && t <= 7) || (t >= 9 && t <= 21);

/** What TYPE would answer for a value of this RDB type (module types: their type name). */
export function typeName(t: number): string {
  if (t === RDB_TYPE.STRING) return 'string';
  if (t === RDB_TYPE.LIST || t === RDB_TYPE.LIST_ZIPLIST || t === RDB_TYPE.LIST_QUICKLIST || t === RDB_TYPE.LIST_QUICKLIST_2) return 'list';
  if (t === RDB_TYPE.SET || t === RDB_TYPE.SET_INTSET || t === RDB_TYPE.SET_LISTPACK) return 'set';
  if (t === RDB_TYPE.ZSET || t === RDB_TYPE.ZSET_2 || t === RDB_TYPE.ZSET_ZIPLIST || t === RDB_TYPE.ZSET_LISTPACK) return 'zset';
  if (t === RDB_TYPE.HASH || t === RDB_TYPE.HASH_ZIPMAP || t === RDB_TYPE.HASH_ZIPLIST || t === RDB_TYPE.HASH_LISTPACK) return 'hash';
  if (t === RDB_TYPE.STREAM_LISTPACKS || t === RDB_TYPE.STREAM_LISTPACKS_2 || t === RDB_TYPE.STREAM_LISTPACKS_3) return 'stream';
  return 'module';
}

/**
 * A value read from RDB: the kinds respai holds (lists as their elements, hashes as field/value
 * pairs), and `other` for what is only read past (sets, sorted sets, streams, values of other
 * modules), named as TYPE would name it.
 */
export type RdbValue =
  | { readonly kind: 'string'; readonly value: Buffer }
  | AiValue
  | { readonly kind: 'list'; readonly value: Buffer[] }
  | { readonly kind: 'hash'; readonly value: [Buffer, Buffer][] }
  | { readonly kind: 'other'; readonly type: string };

const QUICKLIST_NODE_PLAIN = 1;
const QUICKLIST_NODE_PACKED = 2;

const copy = (b: Buffer): Buffer => Buffer.from(b);

function list(inp: RdbInput, type: number): Buffer[] {
  if (type === RDB_TYPE.LIST) {
    const out: Buffer[] = [];
    for (let n = readLen(inp); n > 0; n--) out.push(Buffer.from(readString(inp)));
    return out;
  }
  if (type === RDB_TYPE.LIST_ZIPLIST) return decodeZiplist(readString(inp)).map(copy);
  const out: Buffer[] = [];
  for (let n = readLen(inp); n > 0; n--) {
    const container = type === RDB_TYPE.LIST_QUICKLIST_2 ? readLen(inp) : QUICKLIST_NODE_PACKED;
    if (container !== QUICKLIST_NODE_PACKED && container !== QUICKLIST_NODE_PLAIN) throw new RdbError('Quicklist integrity check failed.');
    const data = readString(inp);
    if (data.length === 0) throw new RdbError('an empty quicklist node');
    if (container === QUICKLIST_NODE_PLAIN) out.push(Buffer.from(data));
    else for (const e of type === RDB_TYPE.LIST_QUICKLIST_2 ? decodeListpack(data) : decodeZiplist(data)) out.push(copy(e));
  }
  return out;
}

function hash(inp: RdbInput, type: number): [Buffer, Buffer][] {
  let p: [Buffer, Buffer][];
  if (type === RDB_TYPE.HASH) {
    p = [];
    for (let n = readLen(inp); n > 0; n--) {
      const f = readOwnedString(inp);
      p.push([f, readOwnedString(inp)]);
    }
  } else {
    const blob = readString(inp);
    p = type === RDB_TYPE.HASH_ZIPMAP ? decodeZipmap(blob) : pairs(type === RDB_TYPE.HASH_ZIPLIST ? decodeZiplist(blob) : decodeListpack(blob));
    p = p.map(([f, v]) => [copy(f), copy(v)]);
  }
  checkUniqueFields(p);
  return p;
}

function skipStream(inp: RdbInput, type: number): void {
  for (let n = readLen(inp); n > 0; n--) {
    if (readString(inp).length !== 16) throw new RdbError('stream node key is not a 128-bit id');
    readString(inp);
  }
  readLenBig(inp); // length
  readLenBig(inp); // last id
  readLenBig(inp);
  if (type >= RDB_TYPE.STREAM_LISTPACKS_2) for (let i = 0; i < 5; i++) readLenBig(inp); // first id, max deleted id, entries added
  for (let groups = readLen(inp); groups > 0; groups--) {
    readString(inp);
    readLenBig(inp);
    readLenBig(inp);
    if (type >= RDB_TYPE.STREAM_LISTPACKS_2) readLenBig(inp);
    for (let pel = readLen(inp); pel > 0; pel--) {
      inp.take(16 + 8);
      readLenBig(inp);
    }
    for (let consumers = readLen(inp); consumers > 0; consumers--) {
      readString(inp);
      inp.take(type >= RDB_TYPE.STREAM_LISTPACKS_3 ? 16 : 8);
      for (let pel = readLen(inp); pel > 0; pel--) inp.take(16);
    }
  }
}

/**
 * Reads one value of RDB type `type` (rdbLoadObject); strings and tensor data are copied out of
 * the input unless they have their own buffer. Throws RdbError when the data is malformed.
 */
export function readValue(inp: RdbInput, type: number): RdbValue {
  switch (type) {
    case RDB_TYPE.STRING:
      return { kind: 'string', value: readOwnedString(inp) };
    case RDB_TYPE.LIST:
    case RDB_TYPE.LIST_ZIPLIST:
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2:
      return { kind: 'list', value: list(inp, type) };
    case RDB_TYPE.HASH:
    case RDB_TYPE.HASH_ZIPMAP:
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK:
      return { kind: 'hash', value: hash(inp, type) };
    case RDB_TYPE.SET:
      for (let n = readLen(inp); n > 0; n--) readString(inp);
      return { kind: 'other', type: 'set' };
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2:
      for (let n = readLen(inp); n > 0; n--) {
        readString(inp);
        if (type === RDB_TYPE.ZSET_2) readBinaryDouble(inp);
        else readTextDouble(inp);
      }
      return { kind: 'other', type: 'zset' };
    case RDB_TYPE.SET_INTSET:
    case RDB_TYPE.SET_LISTPACK:
    case RDB_TYPE.ZSET_ZIPLIST:
    case RDB_TYPE.ZSET_LISTPACK:
      readString(inp);
      return { kind: 'other', type: typeName(type) };
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      skipStream(inp, type);
      return { kind: 'other', type: 'stream' };
    case RDB_TYPE.MODULE_2: {
      const { name, encver } = moduleTypeOf(readLenBig(inp));
      const kind = aiKindOf(name);
      if (kind !== undefined) return readAiValue(inp, kind, encver);
      skipModuleFields(inp);
      return { kind: 'other', type: name };
    }
    case RDB_TYPE.MODULE_PRE_GA:
      throw new RdbError('a module value of Redis 4.0 release candidates (RDB type 6), which cannot be read without its module');
    default:
      throw new RdbError(`unknown RDB value type ${type}`);
  }
}

export interface WriteOptions {
  /** AI.CONFIG MODEL_CHUNK_SIZE: models are written in chunks of this size, as the original does. */
  modelChunkSize: number;
}

/**
 * Writes a value as DUMP (no key) or an RDB file (`key` given) hold it: its RDB type byte, the
 * key, the value.
 */
export function writeValue(w: RdbWriter, v: Value, o: WriteOptions, key?: Uint8Array): void {
  switch (v.type) {
    case 'string':
      w.u8(RDB_TYPE.STRING);
      if (key !== undefined) w.string(key);
      w.string(v.value);
      return;
    case 'tensor':
      writeTensor(w, v.value, key);
      return;
    case 'model':
      writeModel(w, v.value, o.modelChunkSize, key);
      return;
    case 'script':
      writeScript(w, v.value, key);
      return;
    case 'list':
      writeList(w, v.value.toArray(), key);
      return;
    case 'hash':
      writeHash(w, [...v.value].map(([f, x]) => [Buffer.from(f, 'latin1'), x] as const), key);
      return;
  }
}

/** Redis's defaults for the encodings it writes (list-max-listpack-size -2, hash-max-listpack-*). */
const LIST_NODE_BYTES = 8192;
const LIST_PLAIN_THRESHOLD = 1 << 30;
const HASH_MAX_LISTPACK_ENTRIES = 128;
const HASH_MAX_LISTPACK_VALUE = 64;

/**
 * Writes a list as Redis 7 does: RDB_TYPE_LIST_QUICKLIST_2, nodes of listpacks up to 8 KiB,
 * elements of 1 GiB and more in plain nodes of their own.
 */
export function writeList(w: RdbWriter, elements: readonly Buffer[], key?: Uint8Array): void {
  const nodes: { plain: boolean; items: Buffer[] }[] = [];
  let cur: Buffer[] = [];
  let size = 0;
  for (const e of elements) {
    if (e.length >= LIST_PLAIN_THRESHOLD) {
      if (cur.length > 0) nodes.push({ plain: false, items: cur });
      nodes.push({ plain: true, items: [e] });
      cur = [];
      size = 0;
      continue;
    }
    const s = listpackEntrySize(e);
    if (cur.length > 0 && size + s > LIST_NODE_BYTES) {
      nodes.push({ plain: false, items: cur });
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += s;
  }
  if (cur.length > 0) nodes.push({ plain: false, items: cur });
  w.u8(RDB_TYPE.LIST_QUICKLIST_2);
  if (key !== undefined) w.string(key);
  w.len(nodes.length);
  for (const n of nodes) {
    w.len(n.plain ? QUICKLIST_NODE_PLAIN : QUICKLIST_NODE_PACKED);
    w.string(n.plain ? n.items[0]! : encodeListpack(n.items));
  }
}

/** Writes a hash as Redis 7 does: a listpack while small (128 entries of 64 bytes), else field/value pairs. */
export function writeHash(w: RdbWriter, fields: readonly (readonly [Buffer, Buffer])[], key?: Uint8Array): void {
  const small = fields.length <= HASH_MAX_LISTPACK_ENTRIES && fields.every(([f, v]) => f.length <= HASH_MAX_LISTPACK_VALUE && v.length <= HASH_MAX_LISTPACK_VALUE);
  if (small) {
    w.u8(RDB_TYPE.HASH_LISTPACK);
    if (key !== undefined) w.string(key);
    w.string(encodeListpack(fields.flatMap(([f, v]) => [f, v])));
    return;
  }
  w.u8(RDB_TYPE.HASH);
  if (key !== undefined) w.string(key);
  w.len(fields.length);
  for (const [f, v] of fields) w.string(f).string(v);
}
