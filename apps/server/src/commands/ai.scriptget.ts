import { deviceText, keyOf, type ScriptMeta } from '@respai/core';
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
    return scriptGetReply(s.meta, s.source, meta, source);
  },
});

/** AI.SCRIPTGET's reply: the metadata (when `meta`), then the source (when `source`). */
export function scriptGetReply(m: ScriptMeta, text: string, meta: boolean, source: boolean): Reply {
  if (!meta) return text;
  const out: Reply[] = ['device', deviceText(m.device), 'tag', m.tag, 'Entry Points', [...m.entryPoints]]; // the original's label
  if (source) out.push('source', text);
  return out;
}
