import { OK } from '../resp/reply.js';
import { defineCommand } from './types.js';

export const quit = defineCommand({
  name: 'quit',
  arity: -1,
  flags: ['noauth', 'nomulti', 'fast'],
  summary: 'Closes the connection.',
  group: 'connection',
  parse: () => undefined,
  execute(ctx) {
    ctx.client.closeAfterReply();
    return OK;
  },
});
