import type { Engine } from '../engine/engine.js';
import type { Key, Keyspace, Value } from '../keyspace/keyspace.js';
import { keyToBuffer, releaseValue } from '../keyspace/keyspace.js';
import { applyChange, changeCreates, changeTarget, collectionSize, emptyFor } from '../keyspace/collections.js';
import { FormatError, type FileRecord, type StoredValue } from './format.js';

interface Staged {
  value: StoredValue;
  expireAt: number;
}

/**
 * The keyspace a file describes, before anything is loaded into a backend: records are applied
 * in order to a plain map (so a model overwritten later in the log never reaches its backend),
 * then `materialize` builds the real values.
 */
export class Staging {
  readonly entries = new Map<Key, Staged>();

  apply(rec: FileRecord): void {
    const m = this.entries;
    switch (rec.op) {
      case 'set':
        m.set(rec.key, { value: rec.value, expireAt: rec.expireAt });
        return;
      case 'del':
        m.delete(rec.key);
        return;
      case 'expire': {
        const e = m.get(rec.key);
        if (e !== undefined) e.expireAt = rec.expireAt;
        return;
      }
      case 'rename': {
        const e = m.get(rec.from);
        if (e === undefined || rec.from === rec.to) return;
        m.delete(rec.from);
        m.delete(rec.to);
        m.set(rec.to, e);
        return;
      }
      case 'clear':
        m.clear();
        return;
      case 'change': {
        // The same rules as the live keyspace's apply: create on push / HSET, delete when empty.
        const e = m.get(rec.key);
        const type = changeTarget(rec.change);
        if (e !== undefined && e.value.type !== type) {
          throw new FormatError(`a change of key '${rec.key}' expects a ${type}, the key holds a ${e.value.type}`);
        }
        if (e === undefined && !changeCreates(rec.change)) return;
        const target = e === undefined ? emptyFor(rec.change) : (e.value.value as ReturnType<typeof emptyFor>);
        try {
          applyChange(target, rec.change);
        } catch (err) {
          throw new FormatError(`a change of key '${rec.key}' does not apply: ${(err as Error).message}`);
        }
        if (collectionSize(target) === 0) m.delete(rec.key);
        else if (e === undefined) m.set(rec.key, { value: { type, value: target } as StoredValue, expireAt: 0 });
        return;
      }
      case 'end':
        return;
    }
  }
}

/** Why a stored model or script could not be re-created (its backend is missing or refused it). */
export class RestoreError extends Error {}

export interface MaterializeResult {
  keys: number;
  expired: number;
  models: number;
  scripts: number;
}

/** Staged values made real: what `materialize` sets, or DEBUG RELOAD swaps in. */
export interface Built {
  readonly entries: readonly (readonly [Key, Value, number])[];
  readonly expired: number;
  readonly models: number;
  readonly scripts: number;
}

/**
 * Builds the staged values in the order the file left them: strings and tensors as they are,
 * models through `engine.createModel` and scripts through `engine.createScript` (which load their
 * backend lazily), each once, however many records the file had for its key. Keys already
 * expired are skipped. Throws RestoreError naming the key when a model or script cannot be
 * re-created (releasing what was built).
 */
export async function build(staging: Staging, engine: Engine, now = Date.now(), concurrency = 4): Promise<Built> {
  const live: [Key, Staged][] = [];
  let expired = 0;
  for (const [k, e] of staging.entries) {
    if (e.expireAt !== 0 && e.expireAt <= now) expired++;
    else live.push([k, e]);
  }
  const values: (Value | undefined)[] = new Array(live.length);
  const pending: number[] = [];
  live.forEach(([, e], i) => {
    if (e.value.type !== 'model' && e.value.type !== 'script') values[i] = e.value as Value;
    else pending.push(i);
  });
  let models = 0;
  let scripts = 0;
  let failure: RestoreError | undefined;
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < pending.length) {
      const i = pending[next++]!;
      const [key, e] = live[i]!;
      const v = e.value;
      try {
        if (v.type === 'model') {
          // INPUTS/OUTPUTS are the user's only for TF; the other backends name them from the model.
          const spec = v.value.backend === 'TF' ? v.value : { ...v.value, inputs: [], outputs: [] };
          values[i] = { type: 'model', value: await engine.createModel(spec) };
          models++;
        } else if (v.type === 'script') {
          values[i] = { type: 'script', value: await engine.createScript(v.value) };
          scripts++;
        }
      } catch (err) {
        const what = v.type === 'model' ? `model (${v.value.backend} ${v.value.device.name})` : `script (${(v.value as { device: { name: string } }).device.name})`;
        failure ??= new RestoreError(
          `cannot re-create the ${what} at key '${printable(key)}': ${(err as Error).message}` +
            ((err as { cause?: Error }).cause?.message ? ` (${(err as { cause: Error }).cause.message})` : ''),
          { cause: err },
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, pending.length)) }, worker));
  if (failure !== undefined) {
    for (const v of values) if (v !== undefined) releaseValue(v);
    throw failure;
  }
  return { entries: live.map(([k, e], i) => [k, values[i]!, e.expireAt] as const), expired, models, scripts };
}

/**
 * Loads the staged values into `target` (see `build`); nothing is set into `target` when a model
 * or script cannot be re-created.
 */
export async function materialize(
  staging: Staging,
  target: Keyspace,
  engine: Engine,
  now = Date.now(),
  concurrency = 4,
): Promise<MaterializeResult> {
  const b = await build(staging, engine, now, concurrency);
  for (const [k, v, expireAt] of b.entries) target.set(k, v, expireAt === 0 ? {} : { expireAt });
  return { keys: b.entries.length, expired: b.expired, models: b.models, scripts: b.scripts };
}

/** A key for a message: printable ASCII as is, other bytes as \xNN. */
export function printable(key: Key): string {
  return [...keyToBuffer(key)].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('').slice(0, 200);
}
