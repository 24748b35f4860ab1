import { scanReply } from './ai._modelscan.js';
import { defineCommand } from './types.js';

export const aiScriptscan = defineCommand({
  name: 'ai._scriptscan',
  arity: 1,
  flags: ['readonly'],
  summary: 'Experimental: lists every script as [key, tag].',
  group: 'ai',
  parse: () => undefined,
  execute: (ctx) => scanReply(ctx.keyspace, 'script'),
});
