import { E, createDump, fail, keyOf, keyToBuffer, readDump, type Model, type Script, type Value } from '@respai/core';
import { decodeTensor, type ExternalKeyspace } from '@respai/keyspace-redis';
import { parseRestore } from '../commands/restore.js';
import { OK, type Reply } from '../resp/reply.js';
import type { Command, ExecContext } from '../commands/types.js';
import { forward } from './forward.js';

/**
 * DUMP and RESTORE over the external keyspace (docs/scale-out.md). Tensors, models and scripts
 * travel as the original engine's module-type payloads, as with the embedded keyspace, so
 * `respai import` and DUMP/RESTORE between servers move RedisAI data into a store; every other
 * payload is the store's own business (Redis's types, checked by Redis).
 */

/** DUMP key: a respai value as its RedisAI payload (from the stored fields, nothing loaded); else the store's DUMP. */
export async function dumpExternal(ext: ExternalKeyspace, ctx: ExecContext, command: Command, argv: Buffer[]): Promise<Reply> {
  const key = keyOf(argv[1]!);
  const r = await ext.read(key, 'tensor');
  if (r.kind !== 'ai') return forward(ext, command, argv);
  let v: Value;
  if (r.type === 'tensor') v = { type: 'tensor', value: decodeTensor(key, r.fields) };
  else if (r.type === 'model') {
    const { meta, blob } = await ext.getModel(key, true);
    // writeModel reads the metadata and the blob only.
    v = { type: 'model', value: { meta, blob: blob! } as unknown as Model };
  } else {
    const s = await ext.getScript(key, true);
    v = { type: 'script', value: { meta: { device: s.device, tag: s.tag, entryPoints: s.entryPoints }, source: s.source! } as unknown as Script };
  }
  return createDump(v, { modelChunkSize: ctx.server.engine.config.modelChunkSize, compress: ctx.server.options.rdbcompression === 'yes' });
}

/**
 * RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]: a RedisAI payload is decoded
 * here, its model or script loaded through the backend (as AI.MODELSTORE would), and written in
 * respai's encoding in one store script; any other payload (or one this node cannot read) goes to
 * the store as it is, which answers it as Redis does.
 */
export async function restoreExternal(ext: ExternalKeyspace, ctx: ExecContext, command: Command, argv: Buffer[]): Promise<Reply> {
  const req = parseRestore(argv.slice(1));
  let v;
  try {
    v = readDump(req.payload);
  } catch {
    return forward(ext, command, argv);
  }
  if (v.kind !== 'tensor' && v.kind !== 'model' && v.kind !== 'script') return forward(ext, command, argv);
  // The embedded RESTORE's order of checks: BUSYKEY, then the TTL.
  const k = keyToBuffer(req.key);
  if (!req.replace && Number(await ext.store.send(['EXISTS', k], k)) === 1) fail(E.busyKey);
  if (req.ttl === undefined) fail(E.notInteger);
  if (req.ttl < 0n) fail(E.restoreBadTtl);
  const now = Date.now();
  const at = req.ttl === 0n ? 0n : req.absttl ? req.ttl : req.ttl + BigInt(now);
  const expireAt = at > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(at);
  if (expireAt !== 0 && expireAt <= now) {
    // Already expired: only what REPLACE replaced goes away (nothing is loaded).
    if (req.replace) await ext.store.send(['DEL', k], k, undefined, true);
    return OK;
  }
  const engine = ctx.server.engine;
  switch (v.kind) {
    case 'tensor':
      await ext.restore(req.key, { type: 'tensor', value: v.value }, req.replace, expireAt);
      break;
    case 'model': {
      // INPUTS/OUTPUTS are the user's only for TF; the other backends name them from the model.
      const spec = v.value.backend === 'TF' ? v.value : { ...v.value, inputs: [], outputs: [] };
      const model = await engine.createModel(spec);
      await ext.restore(req.key, { type: 'model', value: model, blob: spec.blob }, req.replace, expireAt);
      break;
    }
    case 'script': {
      const script = await engine.createScript(v.value);
      await ext.restore(req.key, { type: 'script', value: script, spec: v.value }, req.replace, expireAt);
      break;
    }
  }
  return OK;
}
