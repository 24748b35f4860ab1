import { keyOf } from '@respai/core';
import type { Reply } from '../resp/reply.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

export const aiScriptget = defineCommand({
  name: 'ai.scriptget',
  arity: -2,
  flags: ['readonly'],
  summary: 'Returns a script: AI.SCRIPTGET key [META] [SOURCE] (both when neither is given).',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    let meta = args.slice(1).some((a) => is(a, 'META'));
    let source = args.slice(1).some((a) => is(a, 'SOURCE'));
    if (!meta && !source) meta = source = true;
    return { key: keyOf(args[0]!), meta, source };
  },
  execute(ctx, { key, meta, source }) {
    const s = ctx.server.engine.script(key);
    if (!meta) return s.source;
    const out: Reply[] = ['device', s.meta.device.name, 'tag', s.meta.tag, 'entry_points', [...s.meta.entryPoints]];
    if (source) out.push('source', s.source);
    return out;
  },
});
