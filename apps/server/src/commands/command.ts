import { E, fail } from '@respai/core';
import { MapReply, SetReply, type Reply } from '../resp/reply.js';
import { is } from './args.js';
import { defineCommand, type Command } from './types.js';

/** COMMAND INFO's entry for one command, in Redis 7's ten-field layout. */
function info(c: Command): Reply {
  const k = c.keys ?? { first: 0, last: 0, step: 0 };
  return [c.name, c.arity, new SetReply([...c.flags]), k.first, k.last, k.step, new SetReply([]), new SetReply([]), [], []];
}

function docs(c: Command): Reply {
  return new MapReply([
    ['summary', c.summary],
    ['since', '1.0.0'],
    ['group', c.group],
  ]);
}

type Request = { op: 'all' } | { op: 'count' } | { op: 'info' | 'docs'; names: string[] } | { op: 'list' };

export const command = defineCommand<Request>({
  name: 'command',
  arity: -1,
  flags: ['loading'],
  summary: 'Describes the commands this server implements (enough for redis-cli and clients).',
  group: 'server',
  parse(args) {
    const sub = args[0];
    if (sub === undefined) return { op: 'all' };
    if (is(sub, 'COUNT')) {
      if (args.length > 1) fail(E.arity('command|count'));
      return { op: 'count' };
    }
    // LIST takes FILTERBY ... in Redis 7, which respai does not: anything after it is a syntax error.
    if (is(sub, 'LIST')) {
      if (args.length > 1) fail(E.syntax);
      return { op: 'list' };
    }
    const names = args.slice(1).map((a) => a.toString().toLowerCase());
    if (is(sub, 'INFO')) return { op: 'info', names };
    if (is(sub, 'DOCS')) return { op: 'docs', names };
    fail(E.unknownSubcommand(sub.toString(), 'command'));
  },
  execute(ctx, req) {
    const table = ctx.server.commands;
    switch (req.op) {
      case 'count':
        return table.size;
      case 'list':
        return [...table.keys()];
      case 'all':
        return [...table.values()].map(info);
      case 'info': {
        const names = req.names.length > 0 ? req.names : [...table.keys()];
        return names.map((n) => {
          const c = table.get(n);
          return c === undefined ? null : info(c);
        });
      }
      case 'docs': {
        const names = req.names.length > 0 ? req.names : [...table.keys()];
        const entries: [Reply, Reply][] = [];
        for (const n of names) {
          const c = table.get(n);
          if (c !== undefined) entries.push([n, docs(c)]);
        }
        return new MapReply(entries);
      }
    }
  },
});
