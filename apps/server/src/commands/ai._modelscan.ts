import { keyToBuffer, type Keyspace } from '@respai/core';
import type { Reply } from '../resp/reply.js';
import { RedisDictOrder } from '../util/redis-dict.js';
import { defineCommand } from './types.js';

/**
 * `[key, tag]` for every model or every script, in the original's order: its run-statistics
 * dictionary held models and scripts together, in the order their statistics were created.
 */
export function scanReply(keyspace: Keyspace, type: 'model' | 'script'): Reply[] {
  const entries: { key: Buffer; type: string; tag: Buffer; created: number }[] = [];
  for (const k of keyspace.keys()) {
    const v = keyspace.get(k);
    if (v?.type === 'model' || v?.type === 'script') entries.push({ key: keyToBuffer(k), type: v.type, tag: v.value.meta.tag, created: v.value.stats.created });
  }
  const dict = new RedisDictOrder<(typeof entries)[number]>();
  for (const e of entries.sort((a, b) => a.created - b.created)) dict.add(e, e.key);
  return dict.values().filter((e) => e.type === type).map((e) => [e.key, e.tag]);
}

export const aiModelscan = defineCommand({
  name: 'ai._modelscan',
  arity: 1,
  flags: ['readonly'],
  summary: 'Experimental: lists every model as [key, tag].',
  group: 'ai',
  parse: () => undefined,
  execute: (ctx) => scanReply(ctx.keyspace, 'model'),
});
