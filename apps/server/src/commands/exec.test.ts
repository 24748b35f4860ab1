import { RespaiError } from '@respai/core';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { exec } from './exec.js';
import { ping } from './ping.js';
import { set } from './set.js';
import type { ExecContext } from './types.js';

/** The exact text of the RespaiError `fn` throws (anything else is rethrown). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (RespaiError.isInstance(e)) return e.message;
    throw e;
  }
  throw new Error('expected a RespaiError, nothing was thrown');
}

const ctxFor = (client: Partial<Client>) => ({ client: client as Client }) as unknown as ExecContext;

describe('EXEC', () => {
  it('without MULTI is an error', () => {
    expect(exec.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    expect(errorOf(() => exec.execute(ctxFor({ multi: undefined }), undefined))).toBe('ERR EXEC without MULTI');
  });

  it('a dirty transaction aborts with EXECABORT and is closed', () => {
    const runForExec = vi.fn();
    const client: Partial<Client> = { multi: [{ command: ping, args: [] }], multiDirty: true, runForExec };
    expect(errorOf(() => exec.execute(ctxFor(client), undefined))).toBe(
      'EXECABORT Transaction discarded because of previous errors.',
    );
    expect(client.multi).toBeUndefined();
    expect(client.multiDirty).toBe(false);
    expect(runForExec).not.toHaveBeenCalled();
  });

  it('runs the queued commands in order and replies their replies', () => {
    const a = [Buffer.from('k'), Buffer.from('v')];
    const runForExec = vi.fn((_c: unknown, xs: Buffer[]) => (xs.length === 0 ? 'PONG' : OK));
    const client: Partial<Client> = {
      multi: [
        { command: ping, args: [] },
        { command: set, args: a },
      ],
      multiDirty: false,
      runForExec: runForExec as unknown as Client['runForExec'],
    };
    expect(exec.execute(ctxFor(client), undefined)).toEqual(['PONG', OK]);
    expect(runForExec.mock.calls).toEqual([
      [ping, []],
      [set, a],
    ]);
    expect(client.multi).toBeUndefined();
  });

  it('an empty transaction replies an empty array', () => {
    const client: Partial<Client> = { multi: [], multiDirty: false, runForExec: vi.fn() };
    expect(exec.execute(ctxFor(client), undefined)).toEqual([]);
  });
});
