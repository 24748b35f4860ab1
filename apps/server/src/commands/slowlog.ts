import { E, fail } from '@respai/core';
import { OK, SimpleString } from '../resp/reply.js';
import { defineCommand } from './types.js';

type Request = { op: 'get'; count: number } | { op: 'len' | 'reset' | 'help' };

const HELP = [
  'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
  'HELP',
  '    Prints this help.',
];

/** SLOWLOG: commands slower than slowlog-log-slower-than µs; an AI run's time includes its queue wait. */
export const slowlog = defineCommand<Request>({
  name: 'slowlog',
  arity: -2,
  flags: ['admin', 'loading'],
  summary: 'SLOWLOG GET [count] | LEN | RESET | HELP.',
  group: 'server',
  parse(args) {
    const typed = args[0]!.toString('latin1');
    const sub = typed.toLowerCase();
    if (sub === 'get') {
      if (args.length > 2) fail(E.subcommandOrArity(typed, 'slowlog'));
      if (args.length === 1) return { op: 'get', count: 10 };
      const raw = args[1]!.toString('latin1');
      const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < -1) fail(E.slowlogBadCount);
      return { op: 'get', count: n === -1 ? Infinity : n };
    }
    if (sub === 'len' || sub === 'reset' || sub === 'help') {
      if (args.length !== 1) fail(E.arity(`slowlog|${sub}`));
      return { op: sub };
    }
    fail(E.unknownSubcommand(typed, 'slowlog'));
  },
  execute(ctx, req) {
    const observe = ctx.server.observe;
    const entries = observe?.slowlog ?? [];
    switch (req.op) {
      case 'get':
        return entries.slice(0, req.count).map((e) => [e.id, e.time, e.durationUs, [...e.args], e.addr, e.name]);
      case 'len':
        return entries.length;
      case 'reset':
        observe?.reset();
        return OK;
      case 'help':
        return HELP.map((l) => new SimpleString(l));
    }
  },
});
