import { deviceText, keyOf, type ModelMeta } from '@respai/core';
import type { Reply } from '../resp/reply.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

/** The blob as one bulk string, or as chunks of MODEL_CHUNK_SIZE when it is at least that big. */
export function blobReply(blob: Buffer, chunkSize: number): Reply {
  if (blob.length < chunkSize) return blob;
  const chunks: Buffer[] = [];
  for (let off = 0; off < blob.length; off += chunkSize) chunks.push(blob.subarray(off, off + chunkSize));
  return chunks;
}

export function modelMeta(m: { readonly meta: ModelMeta }): Reply[] {
  const x = m.meta;
  return [
    'backend', x.backend,
    'device', deviceText(x.device),
    'tag', x.tag,
    'batchsize', x.batchSize,
    'minbatchsize', x.minBatchSize,
    'inputs', [...x.inputs],
    'outputs', [...x.outputs],
    'minbatchtimeout', x.minBatchTimeout,
  ];
}

export const aiModelget = defineCommand({
  name: 'ai.modelget',
  arity: -2,
  flags: ['readonly'],
  summary: 'Returns a model: AI.MODELGET key [META] [BLOB] (both when neither is given).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    // Unknown extra arguments are ignored, as in the original.
    let meta = args.slice(1).some((a) => is(a, 'META'));
    let blob = args.slice(1).some((a) => is(a, 'BLOB'));
    if (!meta && !blob) meta = blob = true;
    return { key: keyOf(args[0]!), meta, blob };
  },
  execute(ctx, { key, meta, blob }) {
    const m = ctx.server.engine.model(key);
    return modelGetReply(m.meta, blob ? m.blob : undefined, meta, ctx.server.engine.config.modelChunkSize);
  },
});

/** AI.MODELGET's reply: the metadata (when `meta`), then the blob when given. */
export function modelGetReply(m: ModelMeta, blob: Buffer | undefined, meta: boolean, chunkSize: number): Reply {
  const b = blob === undefined ? undefined : blobReply(blob, chunkSize);
  if (!meta) return b!;
  const out = modelMeta({ meta: m });
  if (b !== undefined) out.push('blob', b);
  return out;
}
