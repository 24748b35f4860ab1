import { E, fail } from '@respai/core';
import { scriptingOf } from '../lua/scripting.js';
import { int64Arg } from './args.js';
import { defineCommand, type Command } from './types.js';

interface Request {
  /** EVAL: the body; EVALSHA: the SHA1. */
  script: Buffer;
  keys: Buffer[];
  args: Buffer[];
}

/** EVAL / EVALSHA / EVAL_RO / EVALSHA_RO: a Lua script run atomically on the embedded keyspace. */
function evalLike(name: string, bySha: boolean, readOnly: boolean): Command<Request> {
  return defineCommand<Request>({
    name,
    arity: -3,
    flags: readOnly ? ['readonly'] : [],
    summary: `${bySha ? 'Runs a cached Lua script by its SHA1' : 'Runs a Lua script'}${readOnly ? ' that may only read' : ''}.`,
    group: 'scripting',
    keys: { first: 0, last: 0, step: 0 },
    parse(args) {
      // As evalShaCommand: a SHA1 of the wrong length cannot match, and says so before anything else.
      if (bySha && args[0]!.length !== 40) fail(E.noScript);
      const n = int64Arg(args[1]);
      if (n > BigInt(args.length - 2)) fail(E.evalTooManyKeys);
      if (n < 0n) fail(E.evalNegativeKeys);
      const k = Number(n);
      return { script: args[0]!, keys: args.slice(2, 2 + k), args: args.slice(2 + k) };
    },
    execute(ctx, { script, keys, args }) {
      const lua = scriptingOf(ctx.server);
      const sha = bySha ? script.toString('latin1') : lua.load(script);
      return lua.run(ctx, sha, keys, args, readOnly);
    },
  });
}

export const evalCommand = evalLike('eval', false, false);
export const evalsha = evalLike('evalsha', true, false);
export const evalRo = evalLike('eval_ro', false, true);
export const evalshaRo = evalLike('evalsha_ro', true, true);
