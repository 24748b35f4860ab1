import { describe, expect, it } from 'vitest';
import { MapReply, SetReply } from '../resp/reply.js';
import type { ServerState } from '../state.js';
import { command } from './command.js';
import { commandTable } from './index.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const parse = (...xs: string[]) => command.parse(args(...xs), pctx);
const ctx = { server: { commands: commandTable } as unknown as ServerState } as unknown as ExecContext;
const run = (...xs: string[]) => command.execute(ctx, parse(...xs));

describe('COMMAND parse', () => {
  it.each([
    [[], { op: 'all' }],
    [['count'], { op: 'count' }],
    [['LIST'], { op: 'list' }],
    [['INFO'], { op: 'info', names: [] }],
    [['info', 'GET', 'Set'], { op: 'info', names: ['get', 'set'] }],
    [['Docs', 'AI.TENSORSET'], { op: 'docs', names: ['ai.tensorset'] }],
  ])('%j', (xs, want) => {
    expect(parse(...xs)).toEqual(want);
  });

  it('an unknown subcommand, quoted as typed', () => {
    expect(errorOf(() => parse('FOO'))).toBe("ERR unknown subcommand 'FOO'. Try COMMAND HELP.");
  });

  it('COUNT / LIST with extra arguments like Redis', () => {
    expect(errorOf(() => parse('COUNT', 'x'))).toBe("ERR wrong number of arguments for 'command|count' command");
    expect(errorOf(() => parse('LIST', 'x'))).toBe('ERR syntax error');
  });
});

describe('COMMAND execute', () => {
  it('COUNT is the size of the command table', () => {
    expect(run('COUNT')).toBe(commandTable.size);
  });

  it('LIST names every command in lower case', () => {
    const names = run('LIST') as string[];
    expect(names).toHaveLength(commandTable.size);
    expect(names).toEqual(expect.arrayContaining(['get', 'set', 'ai.tensorset', 'ai.tensorget']));
    for (const n of names) expect(n).toBe(n.toLowerCase());
  });

  it('INFO: the ten-field layout, nil for an unknown name', () => {
    const [get, nope] = run('INFO', 'get', 'nope') as unknown[][];
    expect(nope).toBeNull();
    expect(get).toHaveLength(10);
    expect(get![0]).toBe('get');
    expect(get![1]).toBe(2);
    expect(get![2]).toEqual(new SetReply(['readonly', 'fast']));
    expect(get!.slice(3, 6)).toEqual([1, 1, 1]);
    expect(get!.slice(6)).toEqual([new SetReply([]), new SetReply([]), [], []]);
  });

  it('INFO for a command without keys reports 0 0 0; MSET steps by 2', () => {
    const [ping, mset] = run('INFO', 'ping', 'mset') as unknown[][];
    expect(ping!.slice(1, 6)).toEqual([-1, new SetReply(['fast']), 0, 0, 0]);
    expect(mset!.slice(3, 6)).toEqual([1, -1, 2]);
  });

  it('INFO without names and the bare COMMAND describe every command', () => {
    expect(run('INFO')).toHaveLength(commandTable.size);
    expect(run()).toHaveLength(commandTable.size);
  });

  it('DOCS: a map of summary, since, group; unknown names are left out', () => {
    const r = run('DOCS', 'get', 'nope') as MapReply;
    expect(r).toBeInstanceOf(MapReply);
    expect(r.entries).toHaveLength(1);
    const [name, doc] = r.entries[0]!;
    expect(name).toBe('get');
    expect((doc as MapReply).entries.map(([k]) => k)).toEqual(['summary', 'since', 'group']);
    expect((doc as MapReply).entries[2]).toEqual(['group', 'string']);
    expect((run('DOCS') as MapReply).entries).toHaveLength(commandTable.size);
  });
});
