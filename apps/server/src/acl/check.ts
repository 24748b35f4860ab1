import { E, fail, keyOf } from '@respai/core';
import type { Command, ExecContext } from '../commands/types.js';
import { globMatch } from '../util/glob.js';
import type { Acl } from './acl.js';
import type { User } from './user.js';

/** The user a context runs as; undefined (fake servers in unit tests, no ACL) = unrestricted. */
export interface AclClient {
  user?: User;
}

export function keyAllowed(user: User, key: string): boolean {
  if (user.allKeys) return true;
  for (const p of user.patterns) if (globMatch(p, key)) return true;
  return false;
}

/**
 * The keys named in a call's arguments: the command's key positions, and EVAL's `numkeys` keys.
 * AI run commands name more keys than their positions say (inputs, outputs, a DAG's LOAD and
 * PERSIST): those are checked on the parsed request, see {@link checkDagKeys}.
 */
export function* callKeys(command: Command, argv: readonly Buffer[]): Generator<string> {
  if (command.name.startsWith('eval')) {
    const n = Number(argv[2]?.toString('latin1'));
    if (Number.isSafeInteger(n) && n > 0) for (let i = 3; i < 3 + n && i < argv.length; i++) yield keyOf(argv[i]!);
    return;
  }
  const k = command.keys;
  if (k === undefined || k.first <= 0) return;
  const last = k.last < 0 ? argv.length + k.last : k.last;
  for (let i = k.first; i <= last && i < argv.length; i += k.step) yield keyOf(argv[i]!);
}

/**
 * Redis's ACLCheckAllPerm for one call: the error text when `user` may not run it (the command,
 * or one of its keys), else undefined. Callers skip it for unrestricted users.
 */
export function checkCall(acl: Acl, user: User, command: Command, argv: readonly Buffer[], inScript = false): string | undefined {
  const entry = acl.catalog.forCall(command, argv);
  if (entry === undefined || !user.can(entry)) return inScript ? E.scriptNoPermCommand : E.noPermCommand(entry?.fullName ?? command.name);
  if (!user.allKeys) {
    for (const key of callKeys(command, argv)) if (!keyAllowed(user, key)) return inScript ? E.scriptNoPermKey : E.noPermKey;
  }
  return undefined;
}

/** The connection's user when it is restricted, else undefined (the fast path). */
export function restrictedUser(ctx: ExecContext): User | undefined {
  const u = (ctx.client as AclClient).user;
  return u !== undefined && u.restricted ? u : undefined;
}

/** NOPERM unless the caller may touch `key` (DAG parsing, which consults keys before running). */
export function checkKey(ctx: ExecContext, key: string): void {
  const u = restrictedUser(ctx);
  if (u !== undefined && !keyAllowed(u, key)) fail(E.noPermKey);
}

/**
 * The engine's `checkKey` hook for a run (DagRequest.checkKey): every keyspace key the run touches
 * (LOAD and PERSIST keys, each op's model or script, a script op's KEYS, which bound what its
 * redis.execute calls reach, and the inputs and outputs of one-op commands) is checked before
 * anything is queued. Undefined for unrestricted users: nothing is allocated then.
 */
export function keyChecker(ctx: ExecContext): ((key: string) => void) | undefined {
  const u = restrictedUser(ctx);
  if (u === undefined || u.allKeys) return undefined;
  return (key) => {
    if (!keyAllowed(u, key)) fail(E.noPermKey);
  };
}
