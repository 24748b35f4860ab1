import { E, RespaiError, fail, keyToBuffer, type Engine, type Key, type Model, type ModelSpec, type Script, type ScriptSpec, type Tensor } from '@respai/core';
import { ValueCache } from './cache.js';
import {
  AI_TYPE_NAMES,
  MARKER,
  MODEL_META_FIELDS,
  SCRIPT_META_FIELDS,
  TENSOR_FIELDS,
  aiTypeOf,
  decodeModelMeta,
  decodeScriptMeta,
  decodeTensor,
  encodeModel,
  encodeScript,
  encodeTensor,
  modelSpecOf,
  type AiType,
  type Field,
  type StoredModelMeta,
  type StoredScriptMeta,
} from './encoding.js';
import { DELETE_VALUE, RESTORE_VALUE, SET_VALUES } from './lua.js';
import type { OverlayKeyspace } from './overlay.js';
import { Store, type StoreOptions } from './store.js';

/** What a prefetch reads of a key: a whole tensor, a model's or script's metadata, or everything but blobs. */
export type ReadMode = AiType | 'any';

const ANY_FIELDS = [...new Set<string>([...TENSOR_FIELDS, ...MODEL_META_FIELDS, ...SCRIPT_META_FIELDS])];
const FIELDS: { readonly [M in ReadMode]: readonly string[] } = {
  tensor: TENSOR_FIELDS,
  model: MODEL_META_FIELDS,
  script: SCRIPT_META_FIELDS,
  any: ANY_FIELDS,
};

/** A key as one read found it. */
/** A value RESTORE decoded (see `ExternalKeyspace.restore`). */
export type RestoredValue =
  | { readonly type: 'tensor'; readonly value: Tensor }
  | { readonly type: 'model'; readonly value: Model; readonly blob: Buffer }
  | { readonly type: 'script'; readonly value: Script; readonly spec: ScriptSpec };

export type StoreRead =
  | { readonly kind: 'missing' }
  /** Not a respai value: a hash without the marker, or (HMGET said WRONGTYPE) a string, list... */
  | { readonly kind: 'other'; readonly type: 'hash' | 'string' }
  | { readonly kind: 'ai'; readonly type: AiType; readonly mode: ReadMode; readonly fields: readonly Field[] };

const isWrongType = (e: unknown) => RespaiError.isInstance(e) && e.message.startsWith('WRONGTYPE');

/** Values in `fields` (read with `from`'s names) rearranged as `names`. */
function pick(names: readonly string[], from: readonly string[], fields: readonly Field[]): Field[] {
  if (names === from) return fields as Field[];
  return names.map((n) => fields[from.indexOf(n)] ?? null);
}

export interface ExternalKeyspaceOptions extends StoreOptions {
  /** Loads models and scripts (its keyspace is not used). */
  engine: Engine;
}

/**
 * respai's keyspace in an external Redis/Valkey server or Cluster (docs/scale-out.md): reads
 * values into a request's overlay, writes a request's values atomically, and keeps this node's
 * loaded models and scripts by (key, digest), checking them against the store every period.
 */
export class ExternalKeyspace {
  readonly store: Store;
  readonly models = new ValueCache<Model>();
  readonly scripts = new ValueCache<Script>();
  private readonly engine: Engine;
  private readonly timeoutMs: number;

  constructor(options: ExternalKeyspaceOptions) {
    this.engine = options.engine;
    this.timeoutMs = options.timeoutMs;
    this.store = new Store(options);
    this.store.onCheck(() => this.checkCaches());
  }

  /**
   * Connects; resolves once connected or after the store timeout, whichever comes first (a store
   * down or refusing the credentials at start is retried in the background; commands fail with
   * `ERR keyspace unavailable: <why>` meanwhile).
   */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.store.connect().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /** One HMGET (plus an EXISTS when every field is missing: a plain hash or no key?). */
  async read(key: Key, mode: ReadMode): Promise<StoreRead> {
    const k = keyToBuffer(key);
    let r: Field[];
    try {
      r = (await this.store.send(['HMGET', k, ...FIELDS[mode]], k)) as Field[];
    } catch (e) {
      if (isWrongType(e)) return { kind: 'other', type: 'string' };
      throw e;
    }
    const type = aiTypeOf(r[0]);
    if (type !== undefined) return { kind: 'ai', type, mode, fields: r };
    if (r.some((x) => x !== null)) return { kind: 'other', type: 'hash' };
    const exists = await this.store.send(['EXISTS', k], k);
    return Number(exists) === 1 ? { kind: 'other', type: 'hash' } : { kind: 'missing' };
  }

  /**
   * Reads every key (one pipelined round trip, more only for models and scripts not cached) into
   * `overlay`: values for what `mode` covers, the type alone for a respai value of another type.
   */
  async prefetch(overlay: OverlayKeyspace, reads: Iterable<readonly [Key, ReadMode]>): Promise<void> {
    await Promise.all(
      [...reads].map(async ([key, mode]) => {
        const r = await this.read(key, mode);
        await this.materialize(overlay, key, r);
      }),
    );
  }

  private async materialize(overlay: OverlayKeyspace, key: Key, r: StoreRead): Promise<void> {
    if (r.kind === 'missing') return overlay.put(key, undefined);
    if (r.kind === 'other') {
      // The content of a non-respai value never matters to an AI command, only its type.
      return overlay.put(key, r.type === 'hash' ? { type: 'hash', value: new Map() } : { type: 'string', value: Buffer.alloc(0) });
    }
    if (r.mode !== 'any' && r.mode !== r.type) return overlay.putType(key, r.type);
    switch (r.type) {
      case 'tensor':
        return overlay.put(key, { type: 'tensor', value: decodeTensor(key, pick(TENSOR_FIELDS, FIELDS[r.mode], r.fields)) });
      case 'model': {
        const { digest } = decodeModelMeta(key, pick(MODEL_META_FIELDS, FIELDS[r.mode], r.fields));
        const m = await this.models.getOrLoad(key, digest, () => this.loadModel(key));
        return overlay.put(key, { type: 'model', value: m });
      }
      case 'script': {
        const { digest } = decodeScriptMeta(key, pick(SCRIPT_META_FIELDS, FIELDS[r.mode], r.fields));
        const s = await this.scripts.getOrLoad(key, digest, () => this.loadScript(key));
        return overlay.put(key, { type: 'script', value: s });
      }
    }
  }

  /**
   * A stored model's metadata, and its blob when `withBlob` (one HMGET): `ERR model key is empty`
   * when missing, WRONGTYPE when the key holds anything else.
   */
  async getModel(key: Key, withBlob: boolean): Promise<StoredModelMeta & { blob: Buffer | undefined }> {
    const r = await this.readAi(key, 'model', withBlob ? [...MODEL_META_FIELDS, 'blob'] : MODEL_META_FIELDS);
    const stored = decodeModelMeta(key, r);
    const blob = r[MODEL_META_FIELDS.length] ?? undefined;
    if (withBlob && blob === undefined) fail(E.keyspaceBadValue(key, AI_TYPE_NAMES.model, 'a field is missing'));
    return { ...stored, blob };
  }

  /** A stored script's metadata, and its source when `withSource`; as `getModel`. */
  async getScript(key: Key, withSource: boolean): Promise<StoredScriptMeta & { source: string | undefined }> {
    const r = await this.readAi(key, 'script', withSource ? [...SCRIPT_META_FIELDS, 'source'] : SCRIPT_META_FIELDS);
    const meta = decodeScriptMeta(key, r);
    const source = r[SCRIPT_META_FIELDS.length] ?? undefined;
    if (withSource && source === undefined) fail(E.keyspaceBadValue(key, AI_TYPE_NAMES.script, 'a field is missing'));
    return { ...meta, source: source?.toString('utf8') };
  }

  /** HMGET `fields` of a key that must hold a respai value of `type` (empty / WRONGTYPE errors otherwise). */
  private async readAi(key: Key, type: 'model' | 'script', fields: readonly string[]): Promise<Field[]> {
    const k = keyToBuffer(key);
    const r = (await this.store.send(['HMGET', k, ...fields], k).catch((e: unknown) => {
      if (isWrongType(e)) fail(E.wrongType);
      throw e;
    })) as Field[];
    if (aiTypeOf(r[0]) === type) return r;
    if (r[0] != null || r.some((x) => x !== null)) fail(E.wrongType);
    const exists = await this.store.send(['EXISTS', k], k);
    return fail(Number(exists) === 1 ? E.wrongType : type === 'model' ? E.modelEmpty : E.scriptEmpty);
  }

  /** Loads the version of a model the store holds now (its digest is what gets cached). */
  private async loadModel(key: Key): Promise<{ digest: string; value: Model }> {
    const { meta, digest, blob } = await this.getModel(key, true);
    return { digest, value: await this.engine.createModel(modelSpecOf(meta, blob!)) };
  }

  private async loadScript(key: Key): Promise<{ digest: string; value: Script }> {
    const m = await this.getScript(key, true);
    const spec: ScriptSpec = { device: m.device, tag: m.tag, entryPoints: m.entryPoints, source: m.source! };
    return { digest: m.digest, value: await this.engine.createScript(spec) };
  }

  /** Writes tensors in one atomic script call (WRONGTYPE, and nothing written, if a key holds another type). */
  async writeTensors(entries: readonly (readonly [Key, Tensor])[]): Promise<void> {
    if (entries.length === 0) return;
    const keys = entries.map(([k]) => keyToBuffer(k));
    const argv: (string | Buffer)[] = [AI_TYPE_NAMES.tensor, '3'];
    for (const [, t] of entries) argv.push(...encodeTensor(t));
    await this.store.evalScript(SET_VALUES, keys, argv);
  }

  /** The overlay's writes (tensors only: the one kind of value runs and AI.TENSORSET write). */
  async flush(overlay: OverlayKeyspace): Promise<void> {
    const out: [Key, Tensor][] = [];
    for (const [k, v] of overlay.written) {
      if (v?.type !== 'tensor') throw new Error(`external keyspace: a request wrote a ${v?.type ?? 'deletion'} through the overlay`);
      out.push([k, v.value]);
    }
    await this.writeTensors(out);
  }

  /**
   * AI.MODELSTORE's write, once the model is loaded: stores it, then caches it here (taking over
   * the caller's reference), so this node does not load it again.
   */
  storeModel(key: Key, model: Model, spec: ModelSpec): Promise<void> {
    return this.storeLoaded(key, 'model', model, encodeModel(model.meta, spec.blob), this.models);
  }

  /** AI.SCRIPTSTORE's write, as `storeModel`. */
  storeScript(key: Key, script: Script, spec: ScriptSpec): Promise<void> {
    return this.storeLoaded(key, 'script', script, encodeScript(spec), this.scripts);
  }

  private async storeLoaded<V extends Model | Script>(
    key: Key,
    type: 'model' | 'script',
    value: V,
    { fields, digest }: { fields: (string | Buffer)[]; digest: string },
    cache: ValueCache<V>,
  ): Promise<void> {
    try {
      await this.store.evalScript(SET_VALUES, [keyToBuffer(key)], [AI_TYPE_NAMES[type], String(fields.length / 2), ...fields]);
    } catch (e) {
      value.release();
      throw e;
    }
    cache.put(key, digest, value);
  }

  /**
   * RESTORE of a value decoded from a RedisAI DUMP payload: written in respai's encoding in one
   * store script (BUSYKEY without `replace`; `expireAt` in ms, 0 for none). A model or script is
   * loaded already (a payload its backend refuses writes nothing) and is cached here once written,
   * as MODELSTORE's is; the caller's reference is taken over either way.
   */
  async restore(key: Key, v: RestoredValue, replace: boolean, expireAt: number): Promise<void> {
    const encoded =
      v.type === 'tensor'
        ? { fields: encodeTensor(v.value), digest: '' }
        : v.type === 'model'
          ? encodeModel(v.value.meta, v.blob)
          : encodeScript(v.spec);
    try {
      await this.store.evalScript(RESTORE_VALUE, [keyToBuffer(key)], [AI_TYPE_NAMES[v.type], replace ? '1' : '0', String(expireAt), ...encoded.fields]);
    } catch (e) {
      if (v.type !== 'tensor') v.value.release();
      throw e;
    }
    if (v.type === 'model') this.models.put(key, encoded.digest, v.value);
    else if (v.type === 'script') this.scripts.put(key, encoded.digest, v.value);
  }

  /** MODELDEL / SCRIPTDEL: deletes `key` if it holds that type (WRONGTYPE otherwise); false when missing. */
  async deleteValue(key: Key, type: 'model' | 'script'): Promise<boolean> {
    const r = await this.store.evalScript(DELETE_VALUE, [keyToBuffer(key)], [AI_TYPE_NAMES[type]]);
    (type === 'model' ? this.models : this.scripts).drop(key);
    return Number(r) === 1;
  }

  /** Drops cached models and scripts whose key no longer holds the cached version. */
  async checkCaches(): Promise<void> {
    const current = async (keys: Key[]) =>
      Promise.all(
        keys.map(async (key) => {
          const k = keyToBuffer(key);
          try {
            const [marker, digest] = (await this.store.send(['HMGET', k, MARKER, 'digest'], k)) as Field[];
            return aiTypeOf(marker) === undefined ? null : (digest?.toString('latin1') ?? null);
          } catch (e) {
            return isWrongType(e) ? null : undefined; // undefined: unknown now, keep it
          }
        }),
      );
    const keepUnknown = (cache: ValueCache<Model> | ValueCache<Script>) => async (keys: Key[]) => {
      const now = await current(keys);
      const cached = new Map(cache.digests());
      return now.map((d, i) => (d === undefined ? (cached.get(keys[i]!) ?? null) : d));
    };
    await this.models.check(keepUnknown(this.models));
    await this.scripts.check(keepUnknown(this.scripts));
  }

  async close(): Promise<void> {
    await this.store.close();
    this.models.clear();
    this.scripts.clear();
  }
}
