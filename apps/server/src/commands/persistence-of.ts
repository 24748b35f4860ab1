import { E, fail, type Persistence } from '@respai/core';
import type { ExecContext } from './types.js';

/** The server's persistence layer (fake servers in unit tests have none). */
export function persistenceOf(ctx: ExecContext): Persistence {
  const p = ctx.server.persistence;
  if (p === undefined) fail(E.persistenceUnavailable);
  return p;
}
