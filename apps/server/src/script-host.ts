import { E, errorText, keyOf, type ScriptReply } from '@respai/core';
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NilArray,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from './resp/reply.js';
import { formatDouble } from './resp/format.js';
import type { Command, ExecContext } from './commands/types.js';
import { checkCall, restrictedUser } from './acl/check.js';

/**
 * Commands `redis.execute` refuses besides those flagged admin, nomulti, noauth or airun. The
 * original ran whatever a module's RM_Call runs; a script here may run any command on the keys it
 * declared, and the read-only commands that take no key (INFO, DBSIZE, TIME, COMMAND, ...), but not
 * these: they reach the whole keyspace (FLUSH*, KEYS, SCAN, the _SCAN commands), change the
 * connection (CLIENT), nest scripting (EVAL*, SCRIPT), or load a model or script from inside a run.
 * docs/commands.md lists the whole refused set; script-host.test.ts holds the two together.
 */
const REFUSED = new Set([
  'flushall', 'flushdb', 'keys', 'scan', 'ai._modelscan', 'ai._scriptscan',
  'client',
  'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script',
  'ai.modelstore', 'ai.modelset', 'ai.scriptstore', 'ai.scriptset',
]);

/** Whether a script may run `command` through redis.execute (its keys are checked apart). */
export function allowedFromScript(command: Command): boolean {
  const f = command.flags;
  return !REFUSED.has(command.name) && !f.includes('admin') && !f.includes('airun') && !f.includes('nomulti') && !f.includes('noauth');
}

/** Redis Cluster's hash tag: the part between the first `{` and the next `}`, when not empty. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/** True when `key` is one of `declared` or shares a hash tag with one (a bare `{tag}` declares a tag). */
export function keyDeclared(key: string, declared: readonly string[]): boolean {
  const tag = hashTag(key);
  return declared.some((d) => d === key || hashTag(d) === tag);
}

/** A Reply as a script sees it. */
export function toScriptReply(r: Reply): ScriptReply {
  if (r === null || r instanceof NilArray) return null;
  if (typeof r === 'number') return BigInt(r);
  if (typeof r === 'bigint' || typeof r === 'string' || Buffer.isBuffer(r)) return r;
  if (Array.isArray(r)) return r.map(toScriptReply);
  if (r instanceof SimpleString) return r.value;
  if (r instanceof ErrorReply) return { error: r.text };
  if (r instanceof DoubleReply) return formatDouble(r.value);
  if (r instanceof MapReply) return r.entries.flatMap(([k, v]) => [toScriptReply(k), toScriptReply(v)]);
  if (r instanceof SetReply) return r.items.map(toScriptReply);
  if (r instanceof VerbatimReply) return r.text;
  if (r instanceof BoolReply) return r.value ? 1n : 0n;
  return null;
}

/**
 * `redis.execute` for scripts: runs one command as the calling client, limited to the keys the
 * script declared in KEYS (or their hash tags), and to commands that belong in a script.
 */
export async function runScriptCommand(
  ctx: ExecContext,
  argv: readonly (string | Buffer)[],
  declared: readonly string[],
): Promise<ScriptReply> {
  const args = argv.map((a) => (typeof a === 'string' ? Buffer.from(a) : a));
  const name = args[0]?.toString().toLowerCase() ?? '';
  const command = ctx.server.commands.get(name);
  if (command === undefined) return { error: E.scriptExecuteUnknownCommand(name) };
  if (!allowedFromScript(command)) return { error: E.scriptExecuteNotAllowed(name) };
  if ((command.arity > 0 && args.length !== command.arity) || args.length < -command.arity) {
    return { error: E.arity(command.name) };
  }
  // [acl] A script runs with its caller's permissions: the command, and every key it names.
  const user = restrictedUser(ctx);
  if (user !== undefined) {
    const denied = checkCall(ctx.server.acl!, user, command, args, true);
    if (denied !== undefined) return { error: denied };
  }
  if (command.keys !== undefined && command.keys.first > 0) {
    const { first, step } = command.keys;
    const last = command.keys.last < 0 ? args.length + command.keys.last : command.keys.last;
    for (let i = first; i <= last && i < args.length; i += step) {
      const k = keyOf(args[i]!);
      if (!keyDeclared(k, declared)) {
        return { error: E.scriptExecuteUndeclaredKey(k) };
      }
    }
  }
  try {
    // External keyspace (docs/scale-out.md): forwarded to the store, as a client's command would be.
    const external = ctx.server.external;
    const r = await (external !== undefined
      ? external.run(ctx, command, args.slice(1))
      : command.execute(ctx, command.parse(args.slice(1), { protoMaxBulkLen: ctx.server.options['proto-max-bulk-len'] })));
    return toScriptReply(r);
  } catch (e) {
    return { error: errorText(e) };
  }
}
