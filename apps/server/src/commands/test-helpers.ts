/**
 * What the commands' unit tests share (not built: tsconfig excludes it): arguments as a client
 * sends them, the parse context, the exact text of a thrown RespaiError, and a context over an
 * empty in-memory keyspace.
 */
import { MemoryKeyspace, RespaiError } from '@respai/core';
import type { Client } from '../client.js';
import { Stats, type ServerState } from '../state.js';
import type { ExecContext } from './types.js';

/** Arguments as a client sends them: strings as latin1 bytes, Buffers as they are. */
export const args = (...xs: (string | Buffer)[]): Buffer[] => xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x));

/** The parse context with redis-server's default proto-max-bulk-len. */
export const pctx = { protoMaxBulkLen: 512 * 1024 * 1024 };

/** The exact text of the RespaiError `fn` throws (anything else is rethrown). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (RespaiError.isInstance(e)) return e.message;
    throw e;
  }
  throw new Error('expected a RespaiError, nothing was thrown');
}

/** A command's context over an empty keyspace (no active expiry), with server stats, as client 1. */
export function fakeCtx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, stats: new Stats() } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

export const setStr = (ctx: ExecContext, k: string, v: string) => ctx.keyspace.set(k, { type: 'string', value: Buffer.from(v) });
