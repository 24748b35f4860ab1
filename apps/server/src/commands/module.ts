import { E, fail } from '@respai/core';
import { MapReply, SimpleString, type Reply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { REDISAI_VERSION } from '../version.js';
import { defineCommand } from './types.js';

export type ModuleRequest = { op: 'list' | 'help' } | { op: 'load' | 'unload'; name: string };

/** Redis's subcommand arities, counting `module` and the subcommand. */
const ARITY: Readonly<Record<string, number>> = { list: 2, help: 2, load: -3, loadex: -3, unload: 3 };

const HELP = [
  'MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LIST',
  '    Return a list of loaded modules.',
  'LOAD <path> [<arg> ...]',
  '    Load a module library from <path>, passing to it any optional arguments.',
  'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]',
  '    Load a module library from <path>, while passing it module configurations and optional arguments.',
  'UNLOAD <name>',
  '    Unload a module.',
  'HELP',
  '    Print this help.',
];

/** The module version as Redis reports it: 1.2.7 -> 10207. */
export const MODULE_VERSION = REDISAI_VERSION.split('.').reduce((v, p) => v * 100 + Number(p), 0);

export function parseModule(args: readonly Buffer[]): ModuleRequest {
  const sub = args[0]!.toString('latin1').toLowerCase();
  const arity = Object.hasOwn(ARITY, sub) ? ARITY[sub]! : undefined;
  if (arity === undefined) fail(E.unknownSubcommand(args[0]!.toString(), 'module'));
  const n = args.length + 1;
  if (arity > 0 ? n !== arity : n < -arity) fail(E.arity(`module|${sub}`));
  if (sub === 'list' || sub === 'help') return { op: sub };
  return { op: sub === 'unload' ? 'unload' : 'load', name: args[1]!.toString() };
}

/** The `ai` module's entry: the engine is built in, its "arguments" are the backends loaded at start. */
function aiModule(s: ServerState): MapReply {
  const args = s.options.loadbackend.flatMap(([name, path]) => [name, path]);
  return new MapReply([
    ['name', 'ai'],
    ['ver', MODULE_VERSION],
    ['path', process.argv[1] ?? ''],
    ['args', args],
  ]);
}

/**
 * MODULE LIST answers with the original engine's entry (`ai`, version 10207 for 1.2.7), which
 * tools and the original's tests look for. respai loads no Redis modules: LOAD and UNLOAD get
 * Redis's failure texts.
 */
export const module_ = defineCommand<ModuleRequest>({
  name: 'module',
  arity: -2,
  flags: ['admin'],
  summary: 'Lists the loaded modules (the built-in `ai` engine); loading others is not supported.',
  group: 'server',
  parse: (args) => parseModule(args),
  execute(ctx, req): Reply {
    switch (req.op) {
      case 'help':
        return HELP.map((l) => new SimpleString(l));
      case 'list':
        return [aiModule(ctx.server)];
      case 'load':
        ctx.server.log.warn({ path: req.name }, 'MODULE LOAD: respai does not load Redis modules (the ai engine is built in)');
        fail(E.moduleLoadRefused);
      // eslint-disable-next-line no-fallthrough
      case 'unload':
        fail(req.name === 'ai' ? E.moduleUnloadHasTypes : E.moduleUnloadNoSuchModule);
    }
  },
});
