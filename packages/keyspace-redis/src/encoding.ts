import { createHash } from 'node:crypto';
import {
  BACKEND_NAMES,
  DTYPE_NAMES,
  E,
  RespaiError,
  Tensor,
  deviceText,
  parseDevice,
  type BackendName,
  type DType,
  type ModelMeta,
  type ModelSpec,
  type ScriptSpec,
} from '@respai/core';

/**
 * The value encoding of docs/scale-out.md ("Value encoding"): tensors, models and scripts are
 * Redis hashes whose `respai:type` field holds the original engine's type name. Pure functions
 * over field values; what is read and written, and when, is the caller's business.
 */
export const MARKER = 'respai:type';

export type AiType = 'tensor' | 'model' | 'script';
export const AI_TYPE_NAMES: { readonly [K in AiType]: string } = { tensor: 'AI_TENSOR', model: 'AI__MODEL', script: 'AI_SCRIPT' };
const byName = new Map<string, AiType>(Object.entries(AI_TYPE_NAMES).map(([k, v]) => [v, k as AiType]));

/** The AI type a marker value names, if any. */
export function aiTypeOf(marker: Buffer | string | null | undefined): AiType | undefined {
  return marker == null ? undefined : byName.get(marker.toString('latin1'));
}

/** HMGET fields reading a whole tensor. */
export const TENSOR_FIELDS = [MARKER, 'dtype', 'shape', 'blob'] as const;
/** HMGET fields reading a model without its blob. */
export const MODEL_META_FIELDS = [MARKER, 'backend', 'device', 'tag', 'batchsize', 'minbatchsize', 'minbatchtimeout', 'inputs', 'outputs', 'digest'] as const;
/** HMGET fields reading a script without its source. */
export const SCRIPT_META_FIELDS = [MARKER, 'device', 'tag', 'entrypoints', 'digest'] as const;

/** A hash field's value as HMGET gives it (null when the field is missing). */
export type Field = Buffer | null;

/** Field/value pairs of a tensor, after the marker (HSET arguments). */
export function encodeTensor(t: Tensor): (string | Buffer)[] {
  return ['dtype', t.dtype, 'shape', t.shape.join(' '), 'blob', t.data];
}

function bad(key: string, type: AiType, why: string): never {
  throw new RespaiError(E.keyspaceBadValue(key, AI_TYPE_NAMES[type], why));
}

const DIM = /^[1-9][0-9]{0,15}$/;

/** A tensor from HMGET TENSOR_FIELDS (the marker already checked). */
export function decodeTensor(key: string, f: readonly Field[]): Tensor {
  const [, dtypeF, shapeF, blob] = f;
  if (dtypeF == null || shapeF == null || blob == null) bad(key, 'tensor', 'a field is missing');
  const dtype = dtypeF.toString('latin1');
  if (!DTYPE_NAMES.includes(dtype as DType)) bad(key, 'tensor', `unknown dtype`);
  const s = shapeF.toString('latin1');
  const parts = s === '' ? [] : s.split(' ');
  if (!parts.every((p) => DIM.test(p))) bad(key, 'tensor', 'bad shape');
  try {
    return Tensor.fromBlob(dtype as DType, parts.map(Number), blob);
  } catch (e) {
    return bad(key, 'tensor', RespaiError.isInstance(e) ? e.message.replace(/^ERR /, '') : String(e));
  }
}

/** SHA-256 in lowercase hex of the netstrings of `fields`, in order. */
export function digestOf(fields: readonly (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const f of fields) {
    const b = typeof f === 'string' ? Buffer.from(f, 'utf8') : f;
    h.update(`${b.length}:`);
    h.update(b);
    h.update(',');
  }
  return h.digest('hex');
}

/** A model as stored: what MODELGET META shows, and its digest. */
export interface StoredModelMeta {
  readonly meta: ModelMeta;
  readonly digest: string;
}

/** Field/value pairs of a model (after the marker) and its digest. `meta` has the resolved names. */
export function encodeModel(meta: ModelMeta, blob: Buffer): { fields: (string | Buffer)[]; digest: string } {
  const values: (string | Buffer)[] = [
    meta.backend,
    deviceText(meta.device),
    meta.tag,
    String(meta.batchSize),
    String(meta.minBatchSize),
    String(meta.minBatchTimeout),
    JSON.stringify(meta.inputs),
    JSON.stringify(meta.outputs),
  ];
  const digest = digestOf([...values, blob]);
  const names = MODEL_META_FIELDS.slice(1, -1);
  const fields: (string | Buffer)[] = [];
  names.forEach((n, i) => fields.push(n, values[i]!));
  fields.push('digest', digest, 'blob', blob);
  return { fields, digest };
}

function stringList(key: string, type: AiType, f: Field): string[] {
  let v: unknown;
  try {
    v = JSON.parse(f?.toString('utf8') ?? '');
  } catch {
    bad(key, type, 'a name list is not JSON');
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(key, type, 'a name list is not an array of strings');
  return v as string[];
}

function count(key: string, type: AiType, f: Field): number {
  const s = f?.toString('latin1') ?? '';
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s)) bad(key, type, 'a count is not a number');
  return Number(s);
}

function device(key: string, type: AiType, f: Field) {
  try {
    return parseDevice(f?.toString('latin1') ?? '');
  } catch {
    return bad(key, type, 'bad device');
  }
}

function digestField(key: string, type: AiType, f: Field): string {
  const d = f?.toString('latin1') ?? '';
  if (!/^[0-9a-f]{64}$/.test(d)) bad(key, type, 'bad digest');
  return d;
}

/** A model's metadata from HMGET MODEL_META_FIELDS (the marker already checked). */
export function decodeModelMeta(key: string, f: readonly Field[]): StoredModelMeta {
  const [, backendF, deviceF, tag, bs, mbs, mbt, inputs, outputs, digest] = f;
  const backend = backendF?.toString('latin1') ?? '';
  if (!BACKEND_NAMES.includes(backend as BackendName)) bad(key, 'model', 'unknown backend');
  return {
    meta: {
      backend: backend as BackendName,
      device: device(key, 'model', deviceF ?? null),
      tag: tag ?? Buffer.alloc(0),
      batchSize: count(key, 'model', bs ?? null),
      minBatchSize: count(key, 'model', mbs ?? null),
      minBatchTimeout: count(key, 'model', mbt ?? null),
      inputs: stringList(key, 'model', inputs ?? null),
      outputs: stringList(key, 'model', outputs ?? null),
    },
    digest: digestField(key, 'model', digest ?? null),
  };
}

/**
 * What AI.MODELSTORE was given, to load a stored model again: INPUTS/OUTPUTS are the user's only
 * for TF; the other backends name them from the model (as persistence's restore does).
 */
export function modelSpecOf(meta: ModelMeta, blob: Buffer): ModelSpec {
  const tf = meta.backend === 'TF';
  return {
    backend: meta.backend,
    device: meta.device,
    tag: meta.tag,
    batchSize: meta.batchSize,
    minBatchSize: meta.minBatchSize,
    minBatchTimeout: meta.minBatchTimeout,
    inputs: tf ? meta.inputs : [],
    outputs: tf ? meta.outputs : [],
    blob,
  };
}

export interface StoredScriptMeta {
  readonly device: ScriptSpec['device'];
  readonly tag: Buffer;
  readonly entryPoints: readonly string[];
  readonly digest: string;
}

/** Field/value pairs of a script (after the marker) and its digest. */
export function encodeScript(spec: ScriptSpec): { fields: (string | Buffer)[]; digest: string } {
  const values: (string | Buffer)[] = [deviceText(spec.device), spec.tag, JSON.stringify(spec.entryPoints), Buffer.from(spec.source, 'utf8')];
  const digest = digestOf(values);
  return {
    fields: ['device', values[0]!, 'tag', values[1]!, 'entrypoints', values[2]!, 'digest', digest, 'source', values[3]!],
    digest,
  };
}

/** A script's metadata from HMGET SCRIPT_META_FIELDS (the marker already checked). */
export function decodeScriptMeta(key: string, f: readonly Field[]): StoredScriptMeta {
  const [, deviceF, tag, entry, digest] = f;
  return {
    device: device(key, 'script', deviceF ?? null),
    tag: tag ?? Buffer.alloc(0),
    entryPoints: stringList(key, 'script', entry ?? null),
    digest: digestField(key, 'script', digest ?? null),
  };
}
