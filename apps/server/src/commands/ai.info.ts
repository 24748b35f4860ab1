import { E, deviceText, fail, keyOf, type Backend, type BackendName, type ModelMeta, type RunStats, type ScriptMeta } from '@respai/core';
import { OK, type Reply } from '../resp/reply.js';
import { REDISAI_VERSION } from '../version.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

/** The names the original reports runtime versions under. */
const VERSION_LABELS: Record<BackendName, string> = {
  TF: 'TensorFlow version',
  TFLITE: 'TFLite version',
  TORCH: 'Torch version',
  ONNX: 'ONNX version',
};

export const LLAPI_VERSION = 1;
export const RDB_ENCODING_VERSION = 4;

export function versionsReply(backends: readonly Backend[]): Reply[] {
  const out: Reply[] = ['Version', REDISAI_VERSION, 'Low level API Version', String(LLAPI_VERSION), 'RDB Encoding version', RDB_ENCODING_VERSION];
  for (const b of backends) out.push(VERSION_LABELS[b.name], b.version);
  return out;
}

export const aiInfo = defineCommand({
  name: 'ai.info',
  arity: -1,
  flags: ['readonly'],
  summary: 'AI.INFO: versions; AI.INFO key: run statistics of a model or script; AI.INFO key RESETSTAT.',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    // The original's checks, in its order: arity, then the key, then RESETSTAT. A third argument
    // other than RESETSTAT is ignored (the statistics are returned), as the original did.
    if (args.length > 2) fail(E.arity('ai.info'));
    return { key: args[0] === undefined ? undefined : keyOf(args[0]), reset: args.length === 2 && is(args[1], 'RESETSTAT') };
  },
  execute(ctx, { key, reset }) {
    if (key === undefined) return versionsReply(ctx.server.engine.registry.list());
    const v = ctx.keyspace.get(key);
    if (v === undefined || (v.type !== 'model' && v.type !== 'script')) fail(E.runInfoMissing);
    if (reset) {
      v.value.stats.reset();
      return OK;
    }
    return runInfoReply(key, v.type, v.value.meta, v.value.stats);
  },
});

/** AI.INFO key's reply: exactly the original's 18 entries (clients compare the reply as a whole). */
export function runInfoReply(key: string, type: 'model' | 'script', meta: ModelMeta | ScriptMeta, s: RunStats): Reply {
  // Batching figures are in INFO's ai_queues section.
  const script = type === 'script';
  return [
    'key', Buffer.from(key, 'latin1'),
    'type', script ? 'SCRIPT' : 'MODEL',
    'backend', script ? 'TORCH' : (meta as ModelMeta).backend,
    'device', deviceText(meta.device),
    'tag', meta.tag,
    'duration', s.durationUs,
    'samples', script ? -1 : s.samples,
    'calls', s.calls,
    'errors', s.errors,
  ];
}
