/** Reply parsing shared by the commands: pure functions over RawReply, unit-tested alone. */
import { isDType, type DType, type Tensor } from './dtype.js';
import { RespaiError } from './errors.js';
import { decodeTensor } from './tensor.js';
import type { RawReply } from './transport.js';

/** A bulk or simple string as text (UTF-8). */
export function text(x: RawReply, what = 'a string'): string {
  if (Buffer.isBuffer(x)) return x.toString('utf8');
  if (typeof x === 'string') return x;
  throw new TypeError(`expected ${what} in the reply, got ${describe(x)}`);
}

/** An integer reply, or a number sent as a string (RESP2 doubles). */
export function num(x: RawReply, what = 'a number'): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  if (Buffer.isBuffer(x) || typeof x === 'string') {
    const n = Number(x.toString());
    if (!Number.isNaN(n)) return n;
  }
  throw new TypeError(`expected ${what} in the reply, got ${describe(x)}`);
}

export function list(x: RawReply, what = 'an array'): RawReply[] {
  if (Array.isArray(x)) return x;
  throw new TypeError(`expected ${what} in the reply, got ${describe(x)}`);
}

/** `[name, value, name, value, ...]` as a map from lower-cased names. */
export function pairs(x: RawReply): Map<string, RawReply> {
  const a = list(x, 'a list of fields');
  const m = new Map<string, RawReply>();
  for (let i = 0; i + 1 < a.length; i += 2) m.set(text(a[i]!).toLowerCase(), a[i + 1]!);
  return m;
}

export function field(m: Map<string, RawReply>, name: string): RawReply {
  const v = m.get(name);
  if (v === undefined) throw new TypeError(`the reply has no '${name}' field`);
  return v;
}

function describe(x: RawReply): string {
  if (x === null) return 'nil';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Error) return `error ${x.message}`;
  return typeof x;
}

/** A simple-string status (`OK`); `TIMEDOUT` becomes a RespaiError, as does anything else. */
export function status(x: RawReply, command: string): 'OK' {
  const s = Buffer.isBuffer(x) ? x.toString('latin1') : x;
  if (s === 'OK') return 'OK';
  if (s === 'TIMEDOUT') throw new RespaiError('TIMEDOUT', command);
  throw new TypeError(`${command}: expected OK, got ${typeof s === 'string' ? s : describe(x)}`);
}

/** AI.TENSORGET key META BLOB's reply (also a DAG's TENSORGET entry). */
export function tensorReply(x: RawReply): Tensor {
  const m = pairs(x);
  const dtype = text(field(m, 'dtype'));
  if (!isDType(dtype)) throw new TypeError(`the server sent an unknown dtype ${dtype}`);
  const shape = list(field(m, 'shape')).map((d) => num(d));
  const blob = field(m, 'blob');
  if (!Buffer.isBuffer(blob)) throw new TypeError(`expected the tensor's blob in the reply, got ${describe(blob)}`);
  return decodeTensor(dtype as DType, shape, blob);
}

/** A blob sent as one bulk string or as an array of chunks (MODELGET of a model >= MODEL_CHUNK_SIZE). */
export function blobOf(x: RawReply): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (typeof x === 'string') return Buffer.from(x, 'latin1');
  return Buffer.concat(list(x, 'a blob').map((c) => blobOf(c)));
}
