import { defineCommand } from './types.js';

export const time = defineCommand({
  name: 'time',
  arity: 1,
  flags: ['fast', 'loading'],
  summary: 'Returns the server time as seconds and microseconds.',
  group: 'server',
  parse: () => undefined,
  execute() {
    const us = BigInt(Date.now()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n;
    return [String(us / 1_000_000n), String(us % 1_000_000n)];
  },
});
