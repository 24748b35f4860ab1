import { E, fail } from '@respai/core';
import { OPTION_NAMES, checkSetNames, formatValue, normalizeOption, setOption, type ServerOptions } from '../config.js';
import { MapReply, OK, type Reply } from '../resp/reply.js';
import { globMatch } from '../util/glob.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

type Request =
  | { op: 'get'; patterns: string[] }
  | { op: 'set'; pairs: [string, string][] }
  | { op: 'resetstat' };

export const config = defineCommand<Request>({
  name: 'config',
  arity: -2,
  flags: ['admin', 'loading'],
  summary: "Reads or changes the server's options (GET, SET, RESETSTAT).",
  group: 'server',
  parse(args) {
    const sub = args[0]!;
    const rest = args.slice(1).map((a) => a.toString());
    if (is(sub, 'GET')) {
      if (rest.length === 0) fail(E.arity('config|get'));
      return { op: 'get', patterns: rest.map(normalizeOption) };
    }
    if (is(sub, 'SET')) {
      if (rest.length < 2) fail(E.arity('config|set'));
      // Past the first pair, an incomplete one is a syntax error in Redis 7, not an arity error.
      if (rest.length % 2 !== 0) fail(E.syntax);
      const pairs: [string, string][] = [];
      for (let i = 0; i < rest.length; i += 2) pairs.push([rest[i]!, rest[i + 1]!]);
      return { op: 'set', pairs };
    }
    if (is(sub, 'RESETSTAT')) {
      if (rest.length > 0) fail(E.arity('config|resetstat'));
      return { op: 'resetstat' };
    }
    fail(E.unknownSubcommand(sub.toString(), 'config'));
  },
  execute(ctx, req): Reply {
    const { options } = ctx.server;
    switch (req.op) {
      case 'get': {
        const names = OPTION_NAMES.filter((n) => req.patterns.some((p) => globMatch(p, n, true)));
        // `port 0` picks a free port: report the one bound, as INFO's tcp_port does.
        const value = (n: keyof ServerOptions) =>
          n === 'port' && ctx.server.boundPort !== 0 ? String(ctx.server.boundPort) : formatValue(n, options);
        return new MapReply(names.map((n) => [n, value(n)] as const));
      }
      case 'set': {
        // All or nothing, like Redis 7: validate every pair on a copy, then apply.
        checkSetNames(req.pairs.map(([name]) => name));
        const next: ServerOptions = { ...options };
        for (const [name, value] of req.pairs) setOption(next, name, value);
        for (const [name] of req.pairs) {
          const key = normalizeOption(name) as keyof ServerOptions;
          (options as unknown as Record<string, unknown>)[key] = next[key];
          ctx.server.onOptionChanged(key);
        }
        return OK;
      }
      case 'resetstat':
        ctx.server.stats.reset();
        return OK;
    }
  },
});
