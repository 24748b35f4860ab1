import { describe, expect, it } from 'vitest';
import { commandTable } from './index.js';

describe('commandTable', () => {
  const commands = [...commandTable.entries()];

  it('keys every command by its lower-case name', () => {
    for (const [name, c] of commands) {
      expect(c.name).toBe(name);
      expect(name).toBe(name.toLowerCase());
    }
  });

  it('has the generic and tensor commands', () => {
    for (const n of ['ping', 'get', 'set', 'del', 'expire', 'scan', 'multi', 'exec', 'config', 'ai.tensorset', 'ai.tensorget']) {
      expect(commandTable.has(n)).toBe(true);
    }
  });

  it('every command has a non-zero integer arity, a summary and a group', () => {
    for (const [, c] of commands) {
      expect(Number.isInteger(c.arity) && c.arity !== 0).toBe(true);
      expect(c.summary.length).toBeGreaterThan(0);
      expect(c.group.length).toBeGreaterThan(0);
      expect(typeof c.parse).toBe('function');
      expect(typeof c.execute).toBe('function');
    }
  });

  it('key specs are well formed (step >= 1, last -1 or >= first)', () => {
    for (const [name, c] of commands) {
      if (c.keys === undefined || c.keys.first === 0) continue;
      expect({ name, ok: c.keys.step >= 1 && (c.keys.last === -1 || c.keys.last >= c.keys.first) }).toEqual({ name, ok: true });
    }
  });

  it('arities match Redis 7 for the generic commands', () => {
    const redis: Record<string, number> = {
      ping: -1, echo: 2, hello: -1, auth: -2, quit: -1, select: 2, client: -2,
      command: -1, info: -1, config: -2, dbsize: 1, time: 1, flushdb: -1, flushall: -1, shutdown: -1,
      keys: 2, scan: -2, type: 2, exists: -2, del: -2, unlink: -2, rename: 3,
      expire: -3, pexpire: -3, ttl: 2, pttl: 2, persist: 2,
      get: 2, set: -3, mget: -2, mset: -3, incr: 2, multi: 1, exec: 1, discard: 1,
    };
    for (const [name, arity] of Object.entries(redis)) expect({ name, arity: commandTable.get(name)?.arity }).toEqual({ name, arity });
  });

  it('write commands are flagged write, read commands readonly', () => {
    for (const n of ['set', 'del', 'unlink', 'rename', 'expire', 'pexpire', 'persist', 'incr', 'mset', 'flushdb', 'flushall', 'ai.tensorset']) {
      expect({ n, write: commandTable.get(n)?.flags.includes('write') }).toEqual({ n, write: true });
    }
    for (const n of ['get', 'mget', 'exists', 'ttl', 'pttl', 'type', 'keys', 'scan', 'dbsize', 'ai.tensorget']) {
      expect({ n, readonly: commandTable.get(n)?.flags.includes('readonly') }).toEqual({ n, readonly: true });
    }
  });
});

// EXEC runs queued commands in one synchronous step: a command that answers asynchronously would
// run there and then be refused (the bug this guards against: AI.MODELSTORE stored its model
// inside EXEC and replied an error). Such a command needs a prepare, or a flag keeping it out.
describe('commands and transactions', () => {
  it('every asynchronous command has a prepare, or is refused (airun) or never queued (nomulti)', () => {
    const offenders = [...new Set(commandTable.values())]
      .filter((c) => c.execute.constructor.name === 'AsyncFunction' || /\.then\(/.test(c.execute.toString()))
      .filter((c) => c.prepare === undefined && !c.flags.includes('airun') && !c.flags.includes('nomulti'))
      .map((c) => c.name);
    expect(offenders).toEqual([]);
  });
});
