import { E, fail } from '@respai/core';
import { OK, SimpleString } from '../resp/reply.js';
import { scriptingOf } from '../lua/scripting.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

type Request =
  | { sub: 'load'; body: Buffer }
  | { sub: 'exists'; shas: string[] }
  | { sub: 'flush' }
  | { sub: 'help' }
  | { sub: 'kill' };

const HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script (none can be: scripts run to completion).',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

/** SCRIPT LOAD | EXISTS | FLUSH | HELP, with Redis 7's argument checks and texts. */
export const script = defineCommand<Request>({
  name: 'script',
  arity: -2,
  flags: [],
  summary: 'Manages the Lua script cache (LOAD, EXISTS, FLUSH).',
  group: 'scripting',
  keys: { first: 0, last: 0, step: 0 },
  parse(args) {
    const sub = args[0]!;
    const name = sub.toString('latin1');
    // Redis 7 checks each subcommand's own arity: "script|load" and so on.
    const arity = (n: number, sc: string) => {
      if ((n > 0 && args.length + 1 !== n) || args.length + 1 < -n) fail(E.arity(`script|${sc}`));
    };
    if (is(sub, 'HELP')) {
      arity(2, 'help');
      return { sub: 'help' };
    }
    if (is(sub, 'FLUSH')) {
      arity(-2, 'flush');
      if (args.length > 2 || (args.length === 2 && !is(args[1], 'SYNC') && !is(args[1], 'ASYNC'))) {
        fail(E.scriptFlushOption);
      }
      return { sub: 'flush' };
    }
    if (is(sub, 'EXISTS')) {
      arity(-3, 'exists');
      return { sub: 'exists', shas: args.slice(1).map((a) => a.toString('latin1')) };
    }
    if (is(sub, 'LOAD')) {
      arity(3, 'load');
      return { sub: 'load', body: args[1]! };
    }
    if (is(sub, 'KILL')) {
      arity(2, 'kill');
      return { sub: 'kill' };
    }
    fail(E.unknownSubcommand(name.slice(0, 128), 'SCRIPT'));
  },
  execute(ctx, req) {
    const lua = scriptingOf(ctx.server);
    switch (req.sub) {
      case 'help':
        return HELP.map((l) => new SimpleString(l));
      case 'flush':
        lua.flush();
        return OK;
      case 'exists':
        return req.shas.map((s) => (lua.has(s) ? 1 : 0));
      case 'load':
        return Buffer.from(lua.load(req.body));
      case 'kill':
        // Scripts run to completion on the event loop: none can be running while a command is read.
        fail(E.notBusy);
    }
  },
});
