import { RespaiError } from '@respai/core';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../client.js';
import type { ServerState } from '../state.js';
import { shutdown } from './shutdown.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const parse = (...xs: string[]) => shutdown.parse(args(...xs), pctx);

describe('SHUTDOWN parse', () => {
  it.each([[[]], [['NOSAVE']], [['save']], [['Now']], [['force']], [['NOSAVE', 'NOW', 'FORCE']], [['SAVE', 'now']]])(
    'accepts %j',
    (xs) => {
      expect(parse(...xs)).toMatchObject({ abort: false });
    },
  );

  it('ABORT', () => {
    expect(parse('abort')).toEqual({ abort: true });
  });

  it.each([[['FOO']], [['NOSAVE', 'BAR']], [['']]])('syntax error for %j', (xs) => {
    expect(errorOf(() => parse(...xs))).toBe('ERR syntax error');
  });

  // Redis 7 refuses the illegal combinations SAVE + NOSAVE and ABORT + any other flag with
  // `ERR syntax error` (and does not shut down); ABORT twice is still just ABORT.
  it('refuses SAVE with NOSAVE and ABORT with other flags like Redis', () => {
    for (const xs of [['SAVE', 'NOSAVE'], ['nosave', 'save'], ['ABORT', 'NOW'], ['FORCE', 'ABORT'], ['NOSAVE', 'ABORT']]) {
      expect(errorOf(() => parse(...xs))).toBe('ERR syntax error');
    }
    expect(parse('ABORT', 'abort')).toEqual({ abort: true });
  });
});

describe('SHUTDOWN execute', () => {
  it('ABORT with no shutdown in progress is an error and does not stop the server', () => {
    const stop = vi.fn(async () => {});
    const ctx = { server: { shutdown: stop }, client: { id: 1, addr: 'x' } } as unknown as ExecContext;
    expect(errorOf(() => shutdown.execute(ctx, parse('ABORT')))).toBe('ERR No shutdown in progress.');
    expect(stop).not.toHaveBeenCalled();
  });

  it('otherwise asks the server to stop and never replies', async () => {
    const stop = vi.fn(async () => {});
    const ctx = {
      server: { shutdown: stop } as unknown as ServerState,
      client: { id: 3, addr: '127.0.0.1:5000' } as unknown as Client,
    } as unknown as ExecContext;
    const r = shutdown.execute(ctx, parse('NOSAVE'));
    expect(r).toBeInstanceOf(Promise);
    expect(stop).toHaveBeenCalledWith('SHUTDOWN from client id=3 addr=127.0.0.1:5000', { save: false });
    const settled = await Promise.race([Promise.resolve(r).then(() => 'settled'), new Promise((res) => setTimeout(() => res('pending'), 5))]);
    expect(settled).toBe('pending');
  });
});

describe('SHUTDOWN SAVE / NOSAVE', () => {
  it('parses the save mode', () => {
    expect(parse('SAVE')).toEqual({ abort: false, save: true });
    expect(parse('nosave', 'now')).toEqual({ abort: false, save: false });
    expect(parse()).toEqual({ abort: false });
  });

  it('passes it on, and a failed save is an error reply (the server keeps running)', async () => {
    const stop = vi.fn(async () => {
      throw new RespaiError('ERR Errors trying to SHUTDOWN. Check logs.');
    });
    const ctx = { server: { shutdown: stop }, client: { id: 4, addr: 'x' } } as unknown as ExecContext;
    await expect(shutdown.execute(ctx, parse('SAVE'))).rejects.toThrow('ERR Errors trying to SHUTDOWN. Check logs.');
    expect(stop).toHaveBeenCalledWith('SHUTDOWN from client id=4 addr=x', { save: true });
    await expect(shutdown.execute(ctx, parse())).rejects.toThrow();
    expect(stop).toHaveBeenLastCalledWith('SHUTDOWN from client id=4 addr=x');
  });
});
