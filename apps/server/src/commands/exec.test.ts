import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import { OK } from '../resp/reply.js';
import { exec } from './exec.js';
import { ping } from './ping.js';
import { set } from './set.js';
import type { ExecContext } from './types.js';
import { errorOf } from './test-helpers.js';

const ctxFor = (client: Partial<Client>) => ({ client: client as Client }) as unknown as ExecContext;

describe('EXEC', () => {
  it('without MULTI is an error', () => {
    expect(exec.parse([], { protoMaxBulkLen: 1 << 20 })).toBeUndefined();
    expect(errorOf(() => exec.execute(ctxFor({ multi: undefined }), undefined))).toBe('ERR EXEC without MULTI');
  });

  it('a dirty transaction aborts with EXECABORT and is closed', () => {
    const execStep = vi.fn();
    const client: Partial<Client> = { multi: [{ command: ping, args: [] }], multiDirty: true, execStep };
    expect(errorOf(() => exec.execute(ctxFor(client), undefined))).toBe(
      'EXECABORT Transaction discarded because of previous errors.',
    );
    expect(client.multi).toBeUndefined();
    expect(client.multiDirty).toBe(false);
    expect(execStep).not.toHaveBeenCalled();
  });

  it('runs the queued commands in order and replies their replies', () => {
    const a = [Buffer.from('k'), Buffer.from('v')];
    const execStep = vi.fn((_c: unknown, xs: Buffer[]) => () => (xs.length === 0 ? 'PONG' : OK));
    const client: Partial<Client> = {
      multi: [
        { command: ping, args: [] },
        { command: set, args: a },
      ],
      multiDirty: false,
      execStep: execStep as unknown as Client['execStep'],
    };
    expect(exec.execute(ctxFor(client), undefined)).toEqual(['PONG', OK]);
    expect(execStep.mock.calls).toEqual([
      [ping, []],
      [set, a],
    ]);
    expect(client.multi).toBeUndefined();
  });

  it('runs every prepare before any command, then all commands in one step', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const execStep = vi.fn((_c: unknown, xs: Buffer[]) => {
      const name = xs[0]!.toString();
      if (name === 'slow') {
        order.push('prepare slow');
        return gate.then(() => () => (order.push('commit slow'), OK));
      }
      return () => (order.push(`run ${name}`), OK);
    });
    const client: Partial<Client> = {
      multi: [
        { command: set, args: [Buffer.from('a')] },
        { command: set, args: [Buffer.from('slow')] },
        { command: set, args: [Buffer.from('b')] },
      ],
      multiDirty: false,
      execStep: execStep as unknown as Client['execStep'],
    };
    const reply = exec.execute(ctxFor(client), undefined);
    expect(reply).toBeInstanceOf(Promise);
    expect(order).toEqual(['prepare slow']);
    release();
    expect(await reply).toEqual([OK, OK, OK]);
    expect(order).toEqual(['prepare slow', 'run a', 'commit slow', 'run b']);
  });

  it('an empty transaction replies an empty array', () => {
    const client: Partial<Client> = { multi: [], multiDirty: false, execStep: vi.fn() };
    expect(exec.execute(ctxFor(client), undefined)).toEqual([]);
  });
});
