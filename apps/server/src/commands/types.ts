import type { Keyspace } from '@respai/core';
import { OK, type Reply } from '../resp/reply.js';
import type { Client } from '../client.js';
import type { ServerState } from '../state.js';

/**
 * Command flags, as far as the server's dispatch needs them (COMMAND INFO reports them too).
 * - `noauth`: allowed before AUTH when requirepass is set.
 * - `nomulti`: runs immediately even inside MULTI (MULTI, EXEC, DISCARD, QUIT...).
 * - `airun`: runs a model or script: refused inside MULTI with RedisAI's text.
 */
export type Flag = 'write' | 'readonly' | 'admin' | 'fast' | 'noauth' | 'nomulti' | 'airun' | 'loading';

/** What `parse` may consult: server limits, never mutable state. */
export interface ParseContext {
  readonly protoMaxBulkLen: number;
}

/** What `execute` gets: the server and the calling client. */
export interface ExecContext {
  readonly server: ServerState;
  readonly client: Client;
  readonly keyspace: Keyspace;
}

/**
 * One command. `parse` is pure (unit-tested alone): it turns the arguments after the command
 * name into a typed request or throws a RespaiError with the catalog's text. `execute` runs it.
 */
export interface Command<A = unknown> {
  /** Lower-case name as Redis reports it (`get`, `ai.tensorset`). */
  readonly name: string;
  /** Redis convention, counting the name: n > 0 exactly n arguments, n < 0 at least -n. */
  readonly arity: number;
  readonly flags: readonly Flag[];
  /** Key positions for COMMAND INFO (1-based in the full argv; last -1 = to the end). */
  readonly keys?: { readonly first: number; readonly last: number; readonly step: number };
  /** One line for COMMAND DOCS. */
  readonly summary: string;
  readonly group: string;
  parse(args: readonly Buffer[], ctx: ParseContext): A;
  execute(ctx: ExecContext, request: A): Reply | Promise<Reply>;
  /**
   * Commands whose work is asynchronous (loading a model, a script, a backend) split it in two:
   * this part, which changes no key, and the synchronous commit it resolves to (which makes the
   * change and gives the reply). EXEC runs the prepare of every queued command first, then every
   * command in order in one synchronous step, so a transaction holding an AI.MODELSTORE stays
   * atomic. Every other command answers synchronously unless it is flagged `airun` or `nomulti`.
   */
  prepare?(ctx: ExecContext, request: A): Promise<() => Reply>;
}

/** Identity helper so each command file infers its request type. */
export const defineCommand = <A>(c: Command<A>): Command<A> => c;

/** A two-phase command: `execute` is its prepare followed at once by its commit. */
export const defineTwoPhase = <A>(
  c: Omit<Command<A>, 'execute' | 'prepare'> & { prepare(ctx: ExecContext, request: A): Promise<() => Reply> },
): Command<A> => ({
  ...c,
  async execute(ctx, request) {
    return (await c.prepare(ctx, request))();
  },
});

/** A change prepared elsewhere (the engine's prepared stores) whose commit replies OK. */
export const okWhenCommitted =
  (commit: () => void): (() => Reply) =>
  () => {
    commit();
    return OK;
  };
