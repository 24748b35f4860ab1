import { parseDevice } from '../../backend/device.js';
import type { BackendName, Device } from '../../backend/spi.js';
import type { ModelSpec, ScriptSpec } from '../../engine/engine.js';
import type { Model } from '../../engine/model.js';
import type { Script } from '../../engine/script.js';
import { DTYPES, Tensor, type DType } from '../../tensor/index.js';
import { RDB_64BITLEN, RdbError, readLen, readLenBig, readString, type RdbInput, type RdbWriter } from './codec.js';

/**
 * The original engine's three module types (RedisAI's AI_TENSOR, AI__MODEL and AI_SCRIPT) inside
 * RDB_TYPE_MODULE_2 values: every encoding version it ever wrote (0 to 4) is read, version 4 is
 * written. The field order follows RedisAI's src/serialization/RDB decoders and encoder.
 */

/** RDB_TYPE_MODULE_2: a module value whose fields carry opcodes, so it can be skipped unread. */
export const RDB_TYPE_MODULE_2 = 7;
export const MODULE_OPCODE = { EOF: 0, SINT: 1, UINT: 2, FLOAT: 3, DOUBLE: 4, STRING: 5 } as const;
/** REDISAI_ENC_VER: the encoding version written. */
export const AI_ENCVER = 4;
export const AI_TYPE_NAMES = { tensor: 'AI_TENSOR', model: 'AI__MODEL', script: 'AI_SCRIPT' } as const;
export type AiKind = keyof typeof AI_TYPE_NAMES;

const CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A module type's 64-bit id: its 9-character name in 6-bit symbols, then a 10-bit encoding version. */
export function moduleTypeId(name: string, encver: number): bigint {
  if (name.length !== 9) throw new RangeError(`module type names have 9 characters: ${name}`);
  let id = 0n;
  for (const ch of name) {
    const v = CHARSET.indexOf(ch);
    if (v < 0) throw new RangeError(`bad character in module type name ${name}`);
    id = (id << 6n) | BigInt(v);
  }
  return (id << 10n) | BigInt(encver & 1023);
}

const typeCache = new Map<bigint, { name: string; encver: number }>();

/** The type name and encoding version in a module id (moduleTypeNameByID). */
export function moduleTypeOf(id: bigint): { name: string; encver: number } {
  const known = typeCache.get(id);
  if (known !== undefined) return known;
  const t = decodeTypeId(id);
  if (typeCache.size < 1024) typeCache.set(id, t);
  return t;
}

function decodeTypeId(id: bigint): { name: string; encver: number } {
  let name = '';
  let rest = id >> 10n;
  for (let i = 0; i < 9; i++) {
    name = CHARSET[Number(rest & 63n)]! + name;
    rest >>= 6n;
  }
  return { name, encver: Number(id & 1023n) };
}

const ID_TO_KIND = new Map<string, AiKind>(Object.entries(AI_TYPE_NAMES).map(([k, v]) => [v, k as AiKind]));

/** Which AI type a module type name is, if any. */
export const aiKindOf = (name: string): AiKind | undefined => ID_TO_KIND.get(name);

// ---- reading --------------------------------------------------------------------------------

/** The RedisModule_Load* calls over an RDB input: each field checks its opcode. */
class Fields {
  constructor(private readonly inp: RdbInput) {}
  private opcode(want: number, what: string): void {
    const op = readLen(this.inp);
    if (op !== want) throw new RdbError(`module value: ${what} expected (opcode ${want}), opcode ${op} found`);
  }
  /** LoadUnsigned (LoadSigned too: Redis writes both with the UINT opcode). */
  uint(what: string): number {
    this.opcode(MODULE_OPCODE.UINT, what);
    return readLen(this.inp);
  }
  /** An unsigned field whose value is not used (it may be a huge two's-complement -1). */
  skipUint(what: string): void {
    this.opcode(MODULE_OPCODE.UINT, what);
    readLenBig(this.inp);
  }
  string(what: string): Buffer {
    this.opcode(MODULE_OPCODE.STRING, what);
    return readString(this.inp);
  }
  /** A string saved with its C terminator (device, names, source): up to the first NUL. */
  cstring(what: string): string {
    const b = this.string(what);
    const nul = b.indexOf(0);
    return (nul === -1 ? b : b.subarray(0, nul)).toString('utf8');
  }
}

/** Reads what follows a module value's id until its EOF opcode, unread (rdbLoadCheckModuleValue). */
export function skipModuleFields(inp: RdbInput): void {
  for (;;) {
    const op = readLen(inp);
    switch (op) {
      case MODULE_OPCODE.EOF:
        return;
      case MODULE_OPCODE.SINT:
      case MODULE_OPCODE.UINT:
        readLenBig(inp);
        break;
      case MODULE_OPCODE.FLOAT:
        inp.take(4);
        break;
      case MODULE_OPCODE.DOUBLE:
        inp.take(8);
        break;
      case MODULE_OPCODE.STRING:
        readString(inp);
        break;
      default:
        throw new RdbError(`module value with unknown opcode ${op}`);
    }
  }
}

/** DLPack type codes as RedisAI stores them (code, bits) and the dtype each is. */
const DL_DTYPES: Record<string, DType> = {
  '2:32': 'FLOAT',
  '2:64': 'DOUBLE',
  '0:8': 'INT8',
  '0:16': 'INT16',
  '0:32': 'INT32',
  '0:64': 'INT64',
  '1:8': 'UINT8',
  '1:16': 'UINT16',
  '6:8': 'BOOL',
  '7:8': 'STRING',
};
const DTYPE_DL = Object.fromEntries(Object.entries(DL_DTYPES).map(([k, v]) => [v, k.split(':').map(Number) as [number, number]])) as Record<
  DType,
  [number, number]
>;
const kDLCPU = 1;

function dtypeOf(code: number, bits: number): DType {
  const d = DL_DTYPES[`${code}:${bits}`];
  if (d === undefined) throw new RdbError(`tensor of an unknown data type (code ${code}, ${bits} bits)`);
  return d;
}

function tensorFrom(dtype: DType, shape: number[], data: Buffer): Tensor {
  try {
    return Tensor.fromBlob(dtype, shape, data);
  } catch (e) {
    throw new RdbError(`bad tensor: ${(e as Error).message}`);
  }
}

function readTensor(f: Fields, encver: number): Tensor {
  if (encver >= 4) {
    const dtype = dtypeOf(f.uint('dtype code'), f.uint('dtype bits'));
    const ndims = f.uint('dimension count');
    if (ndims > 64) throw new RdbError(`tensor with ${ndims} dimensions`);
    const shape: number[] = [];
    for (let i = 0; i < ndims; i++) shape.push(f.uint('dimension'));
    const data = f.string('tensor data');
    const t = tensorFrom(dtype, shape, data);
    if (dtype === 'STRING') {
      // One offset per element: where each string starts in the data (they must agree).
      let at = 0;
      for (let i = 0; i < t.length; i++) {
        if (f.uint('string offset') !== at) throw new RdbError('string tensor offsets do not match its data');
        at = t.data.indexOf(0, at) + 1;
      }
    }
    return t;
  }
  // Versions 0 to 3: a DLTensor as it was (device, dtype with lanes, shape, strides, offset).
  const deviceType = f.uint('device type');
  if (deviceType !== kDLCPU) throw new RdbError(`tensor on device type ${deviceType} (only CPU tensors are stored)`);
  f.skipUint('device id');
  const bits = f.uint('dtype bits');
  const code = f.uint('dtype code');
  const lanes = f.uint('dtype lanes');
  if (lanes !== 1) throw new RdbError(`tensor with ${lanes} lanes`);
  const dtype = dtypeOf(code, bits);
  const ndims = f.uint('dimension count');
  if (ndims > 64) throw new RdbError(`tensor with ${ndims} dimensions`);
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) shape.push(f.uint('dimension'));
  for (let i = 0; i < ndims; i++) f.skipUint('stride');
  f.skipUint('byte offset');
  return tensorFrom(dtype, shape, f.string('tensor data'));
}

/** RedisAI's RAI_Backend numbers. */
const BACKENDS: readonly BackendName[] = ['TF', 'TFLITE', 'TORCH', 'ONNX'];

function device(name: string): Device {
  try {
    return parseDevice(name);
  } catch {
    throw new RdbError(`bad device '${name}'`);
  }
}

/** The tag: version 0 stored it with its NUL (and RedisAI dropped the last byte), later versions without. */
function tag(f: Fields, encver: number): Buffer {
  const t = f.string('tag');
  if (encver > 0) return Buffer.from(t);
  return Buffer.from(t.subarray(0, Math.max(0, t.length - 1)));
}

function readModel(f: Fields, encver: number): ModelSpec {
  const b = f.uint('backend');
  const backend = BACKENDS[b];
  if (backend === undefined) throw new RdbError(`model of unknown backend ${b}`);
  const dev = device(f.cstring('device'));
  const t = tag(f, encver);
  const batchSize = f.uint('batch size');
  const minBatchSize = f.uint('min batch size');
  const minBatchTimeout = encver >= 2 ? f.uint('min batch timeout') : 0;
  const inputs: string[] = [];
  for (let i = f.uint('input count'); i > 0; i--) inputs.push(f.cstring('input name'));
  const outputs: string[] = [];
  for (let i = f.uint('output count'); i > 0; i--) outputs.push(f.cstring('output name'));
  let blob: Buffer;
  if (encver === 0) {
    blob = Buffer.from(f.string('model blob'));
  } else {
    const len = f.uint('model size');
    const n = f.uint('chunk count');
    const chunks: Buffer[] = [];
    let got = 0;
    for (let i = 0; i < n; i++) {
      const c = f.string('model chunk');
      got += c.length;
      if (got > len) throw new RdbError(`model chunks hold more than the ${len} bytes announced`);
      chunks.push(c);
    }
    if (got !== len) throw new RdbError(`model chunks hold ${got} bytes, ${len} announced`);
    blob = Buffer.concat(chunks, len);
  }
  return { backend, device: dev, tag: t, batchSize, minBatchSize, minBatchTimeout, inputs, outputs, blob };
}

function readScript(f: Fields, encver: number): ScriptSpec {
  const dev = device(f.cstring('device'));
  const t = tag(f, encver);
  const source = f.cstring('script source');
  const entryPoints: string[] = [];
  if (encver >= 3) for (let i = f.uint('entry point count'); i > 0; i--) entryPoints.push(f.cstring('entry point'));
  return { device: dev, tag: t, entryPoints, source };
}

export type AiValue =
  | { readonly kind: 'tensor'; readonly value: Tensor }
  | { readonly kind: 'model'; readonly value: ModelSpec }
  | { readonly kind: 'script'; readonly value: ScriptSpec };

/**
 * Reads an AI value's fields (after its module id) up to and including the EOF opcode. Versions
 * above 4 are refused as the original refuses them ("not forward compatible").
 */
export function readAiValue(inp: RdbInput, kind: AiKind, encver: number): AiValue {
  if (encver > AI_ENCVER) throw new RdbError(`${AI_TYPE_NAMES[kind]} encoding version ${encver} is newer than this server reads (${AI_ENCVER})`);
  const f = new Fields(inp);
  let v: AiValue;
  if (kind === 'tensor') v = { kind, value: readTensor(f, encver) };
  else if (kind === 'model') v = { kind, value: readModel(f, encver) };
  else v = { kind, value: readScript(f, encver) };
  const eof = readLen(inp);
  if (eof !== MODULE_OPCODE.EOF) throw new RdbError(`the ${AI_TYPE_NAMES[kind]} value is not terminated by the module value EOF marker`);
  return v;
}

// ---- writing --------------------------------------------------------------------------------

const ID = {
  tensor: moduleTypeId(AI_TYPE_NAMES.tensor, AI_ENCVER),
  model: moduleTypeId(AI_TYPE_NAMES.model, AI_ENCVER),
  script: moduleTypeId(AI_TYPE_NAMES.script, AI_ENCVER),
};

const cstr = (s: string) => Buffer.from(s + '\0', 'utf8');

/** A module id as RDB writes it: RDB_64BITLEN, then 8 bytes big-endian. */
function idBytes(id: bigint): Buffer {
  const b = Buffer.alloc(9);
  b[0] = RDB_64BITLEN;
  b.writeBigUInt64BE(id, 1);
  return b;
}

function uint(w: RdbWriter, v: number): void {
  w.u8(MODULE_OPCODE.UINT).len(v);
}
function str(w: RdbWriter, b: Uint8Array): void {
  w.u8(MODULE_OPCODE.STRING).string(b);
}

/** Each id as written (RDB_64BITLEN and 8 bytes), once. */
const ID_BYTES = new Map<bigint, Buffer>(Object.values(ID).map((id) => [id, idBytes(id)]));

/** The type byte, then the key when there is one (RDB files), then the module id. */
function head(w: RdbWriter, key: Uint8Array | undefined, id: bigint): void {
  w.u8(RDB_TYPE_MODULE_2);
  if (key !== undefined) w.string(key);
  w.raw(ID_BYTES.get(id)!);
}

/**
 * Writes a tensor as the original's AI_TENSOR at encoding version 4: the type byte, the key when
 * given (files; DUMP payloads have none), the value.
 */
export function writeTensor(w: RdbWriter, t: Tensor, key?: Uint8Array): void {
  head(w, key, ID.tensor);
  const [code, bits] = DTYPE_DL[t.dtype];
  uint(w, code);
  uint(w, bits);
  uint(w, t.shape.length);
  for (const d of t.shape) uint(w, d);
  str(w, t.data);
  if (DTYPES[t.dtype].kind === 'string') {
    let at = 0;
    for (let i = 0; i < t.length; i++) {
      uint(w, at);
      at = t.data.indexOf(0, at) + 1;
    }
  }
  w.u8(MODULE_OPCODE.EOF);
}

/**
 * Writes a model as AI__MODEL version 4: the blob in chunks of `chunkSize` bytes, counted as
 * RedisAI counts them (size / chunkSize + 1, so an exact multiple ends with an empty chunk).
 */
export function writeModel(w: RdbWriter, m: Model, chunkSize: number, key?: Uint8Array): void {
  const { meta, blob } = m;
  head(w, key, ID.model);
  uint(w, BACKENDS.indexOf(meta.backend));
  str(w, cstr(meta.device.name));
  str(w, meta.tag);
  uint(w, meta.batchSize);
  uint(w, meta.minBatchSize);
  uint(w, meta.minBatchTimeout);
  uint(w, meta.inputs.length);
  for (const n of meta.inputs) str(w, cstr(n));
  uint(w, meta.outputs.length);
  for (const n of meta.outputs) str(w, cstr(n));
  const size = Math.max(1, Math.floor(chunkSize));
  const chunks = Math.floor(blob.length / size) + 1;
  uint(w, blob.length);
  uint(w, chunks);
  for (let i = 0; i < chunks; i++) str(w, blob.subarray(i * size, Math.min(blob.length, (i + 1) * size)));
  w.u8(MODULE_OPCODE.EOF);
}

/** Writes a script as AI_SCRIPT version 4. */
export function writeScript(w: RdbWriter, s: Script, key?: Uint8Array): void {
  head(w, key, ID.script);
  str(w, cstr(s.meta.device.name));
  str(w, s.meta.tag);
  str(w, cstr(s.source));
  uint(w, s.meta.entryPoints.length);
  for (const e of s.meta.entryPoints) str(w, cstr(e));
  w.u8(MODULE_OPCODE.EOF);
}
