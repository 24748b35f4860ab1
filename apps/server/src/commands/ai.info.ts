import { E, fail, keyOf, type Backend, type BackendName } from '@respai/core';
import { DoubleReply, OK, type Reply } from '../resp/reply.js';
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
    if (args.length > 2) fail(E.arity('ai.info'));
    if (args.length === 2 && !is(args[1], 'RESETSTAT')) fail(E.unsupportedSubcommand);
    return { key: args[0] === undefined ? undefined : keyOf(args[0]), reset: args.length === 2 };
  },
  execute(ctx, { key, reset }) {
    if (key === undefined) return versionsReply(ctx.server.engine.registry.list());
    const v = ctx.keyspace.get(key);
    if (v === undefined || (v.type !== 'model' && v.type !== 'script')) fail(E.runInfoMissing);
    const s = v.value.stats;
    if (reset) {
      s.reset();
      return OK;
    }
    if (v.type === 'script') {
      const m = v.value.meta;
      return [
        'key', Buffer.from(key, 'latin1'),
        'type', 'SCRIPT',
        'backend', 'TORCH',
        'device', m.device.name,
        'tag', m.tag,
        'duration', s.durationUs,
        'samples', -1,
        'calls', s.calls,
        'errors', s.errors,
      ];
    }
    const m = v.value.meta;
    const histogram: Reply[] = [...s.batchSizes.entries()].sort((a, b) => a[0] - b[0]).flatMap(([size, n]) => [size, n]);
    return [
      'key', Buffer.from(key, 'latin1'),
      'type', 'MODEL',
      'backend', m.backend,
      'device', m.device.name,
      'tag', m.tag,
      'duration', s.durationUs,
      'samples', s.samples,
      'calls', s.calls,
      'errors', s.errors,
      // respai's additions for tuning the batcher (documented in docs/commands.md).
      'runs', s.runs,
      'avg_batch_size', new DoubleReply(s.runs === 0 ? 0 : s.batchedRequests / s.runs),
      'batch_sizes', histogram,
    ];
  },
});
