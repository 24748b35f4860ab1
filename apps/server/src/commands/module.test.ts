import { describe, expect, it } from 'vitest';
import type { Client } from '../client.js';
import { DEFAULTS } from '../config.js';
import { MapReply, SimpleString } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { MODULE_VERSION, module_ } from './module.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const ctx = (): ExecContext => {
  const options = { ...DEFAULTS, loadbackend: [['TORCH', '/x/torch'] as [string, string]] };
  const server = { options, log: { warn() {} } } as unknown as ServerState;
  return { server, keyspace: undefined as never, client: {} as Client };
};
const run = (...a: string[]) => module_.execute(ctx(), module_.parse(args(...a), pctx));

describe('MODULE', () => {
  it('LIST answers the ai module, version 10207 (RedisAI 1.2.7)', () => {
    expect(MODULE_VERSION).toBe(10207);
    const list = run('list') as MapReply[];
    expect(list).toHaveLength(1);
    const m = Object.fromEntries(list[0]!.entries.map(([k, v]) => [k, v]));
    expect(m['name']).toBe('ai');
    expect(m['ver']).toBe(10207);
    expect(m['args']).toEqual(['TORCH', '/x/torch']);
    expect(typeof m['path']).toBe('string');
  });
  it('HELP, and Redis\'s texts for LOAD, UNLOAD, unknown subcommands and arities', () => {
    expect((run('help') as SimpleString[])[0]!.value).toBe('MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(errorOf(() => run('load', '/some/module.so'))).toBe('ERR Error loading the extension. Please check the server logs.');
    expect(errorOf(() => run('unload', 'ai'))).toBe("ERR Error unloading module: the module exports one or more module-side data types, can't unload");
    expect(errorOf(() => run('unload', 'search'))).toBe('ERR Error unloading module: no such module with that name');
    expect(errorOf(() => run('frobnicate'))).toBe("ERR unknown subcommand 'frobnicate'. Try MODULE HELP.");
    expect(errorOf(() => run('list', 'x'))).toBe("ERR wrong number of arguments for 'module|list' command");
    expect(errorOf(() => run('load'))).toBe("ERR wrong number of arguments for 'module|load' command");
  });
});
