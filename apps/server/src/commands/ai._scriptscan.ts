import { keyToBuffer } from '@respai/core';
import type { Reply } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const aiScriptscan = defineCommand({
  name: 'ai._scriptscan',
  arity: 1,
  flags: ['readonly'],
  summary: 'Experimental: lists every script as [key, tag].',
  group: 'ai',
  parse: () => undefined,
  execute(ctx) {
    const out: Reply[] = [];
    for (const k of ctx.keyspace.keys()) {
      const v = ctx.keyspace.get(k);
      if (v?.type === 'script') out.push([keyToBuffer(k), v.value.meta.tag]);
    }
    return out;
  },
});
