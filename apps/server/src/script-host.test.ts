import { readFileSync } from 'node:fs';
import { MemoryKeyspace } from '@respai/core';
import { describe, expect, it } from 'vitest';
import type { Client } from './client.js';
import { commandTable } from './commands/index.js';
import type { ExecContext } from './commands/types.js';
import { DEFAULTS } from './config.js';
import { allowedFromScript, runScriptCommand } from './script-host.js';
import { Stats, type ServerState } from './state.js';

/** The list docs/commands.md gives under its `refused-from-scripts` marker, lower case. */
function documentedRefusals(): string[] {
  const doc = readFileSync(new URL('../../../docs/commands.md', import.meta.url), 'utf8');
  const at = doc.indexOf('<!-- refused-from-scripts -->');
  expect(at).toBeGreaterThan(0);
  const paragraph = doc.slice(at).split('\n\n')[0]!;
  return [...paragraph.matchAll(/`([A-Z_.]+)`/g)].map((m) => m[1]!.toLowerCase());
}

function ctx(): ExecContext {
  const keyspace = new MemoryKeyspace({ activeExpiryMs: 0 });
  const server = { keyspace, commands: commandTable, stats: new Stats(), options: { ...DEFAULTS }, startedAt: Date.now(), engine: { model: () => undefined } } as unknown as ServerState;
  return { keyspace, server, client: { id: 1 } as unknown as Client };
}

describe('redis.execute from scripts', () => {
  it('refuses exactly the commands docs/commands.md lists', () => {
    const refused = [...commandTable.values()].filter((c) => !allowedFromScript(c)).map((c) => c.name);
    expect(refused.sort()).toEqual(documentedRefusals().sort());
  });

  it('refuses them with their name', async () => {
    expect(await runScriptCommand(ctx(), ['FLUSHALL'], [])).toEqual({ error: 'ERR This Redis command is not allowed from script: flushall' });
    expect(await runScriptCommand(ctx(), ['ai.modelstore', 'k', 'TORCH', 'CPU', 'BLOB', 'x'], ['k'])).toEqual({
      error: 'ERR This Redis command is not allowed from script: ai.modelstore',
    });
  });

  it('runs read-only commands that take no key, and any command on declared keys only', async () => {
    const c = ctx();
    expect(await runScriptCommand(c, ['SET', 'k', 'v'], ['k'])).toBe('OK');
    expect(await runScriptCommand(c, ['DBSIZE'], [])).toBe(1n);
    expect(await runScriptCommand(c, ['TIME'], [])).toHaveLength(2);
    expect(await runScriptCommand(c, ['RENAME', 'k', 'other'], ['k'])).toEqual({
      error: "ERR script attempted to access key 'other', which is not declared in KEYS",
    });
    expect(await runScriptCommand(c, ['RENAME', 'k', '{k}2'], ['k'])).toBe('OK');
    expect(await runScriptCommand(c, ['GET', '{k}2'], ['k'])).toEqual(Buffer.from('v'));
  });
});
