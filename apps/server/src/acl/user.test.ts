import { describe, expect, it } from 'vitest';
import { commandTable } from '../commands/index.js';
import { CommandCatalog } from './categories.js';
import { RULE_ERRORS, RuleError, User, hashPassword } from './user.js';
import { callKeys, keyAllowed } from './check.js';

const catalog = new CommandCatalog(commandTable);
const user = (...rules: string[]) => {
  const u = new User('u', catalog);
  for (const r of ['-@all', ...rules]) u.apply(r);
  return u;
};
const can = (u: User, name: string) => u.can(catalog.lookup(name)!);

describe('ACL rules', () => {
  it('categories, commands and subcommands set the bitmap as Redis does', () => {
    const u = user('+@all', '-@ai', '+ai.tensorget', '-config', '+config|get');
    expect(can(u, 'get')).toBe(true);
    expect(can(u, 'ai.modelexecute')).toBe(false);
    expect(can(u, 'ai.tensorget')).toBe(true);
    expect(can(u, 'config|set')).toBe(false);
    expect(can(u, 'config|get')).toBe(true);
    expect(u.commandRules()).toBe('+@all -@ai -config +config|get +ai.tensorget');
  });
  it('describes users as the shortest category rules it finds, then single commands', () => {
    expect(user('+@all').commandRules()).toBe('+@all');
    expect(user().commandRules()).toBe('-@all');
    expect(user('+@ai').commandRules()).toBe('-@all +@ai');
    expect(user('+@all', '-@dangerous').commandRules()).toBe('+@all -@dangerous');
    // Whatever it prints rebuilds the same bitmap.
    const u = user('+@read', '-@hash', '+hset', '-get', '+@ai');
    const again = user(...u.commandRules().split(' '));
    expect([...again.allowed]).toEqual([...u.allowed]);
  });
  it('unrestricted only with every command and every key', () => {
    expect(user('+@all', 'allkeys').restricted).toBe(false);
    expect(user('+@all', '~a*').restricted).toBe(true);
    expect(user('+@all', 'allkeys', '-debug').restricted).toBe(true);
  });
  it('passwords are SHA-256 hashes; rule errors carry Redis texts', () => {
    const u = user('>secret', '>secret', '#' + 'b'.repeat(64));
    expect(u.passwords).toEqual([hashPassword('secret'), 'b'.repeat(64)]);
    expect(() => u.apply('<other')).toThrow(new RuleError(RULE_ERRORS.noSuchPassword));
    expect(() => u.apply('#ABC')).toThrow(new RuleError(RULE_ERRORS.badHash));
    expect(() => u.apply('+@nope')).toThrow(new RuleError(RULE_ERRORS.unknown));
    expect(() => u.apply('+nope')).toThrow(new RuleError(RULE_ERRORS.unknown));
    expect(() => u.apply('%R~x')).toThrow(new RuleError(RULE_ERRORS.unsupported));
    expect(() => u.apply('+select|0')).toThrow(new RuleError(RULE_ERRORS.unsupported));
    expect(() => u.apply('what')).toThrow(new RuleError(RULE_ERRORS.syntax));
  });
});

describe('keys', () => {
  const b = (...s: string[]) => s.map((x) => Buffer.from(x));
  it('from key positions, steps, and EVAL numkeys', () => {
    expect([...callKeys(commandTable.get('mset')!, b('MSET', 'a', '1', 'b', '2'))]).toEqual(['a', 'b']);
    expect([...callKeys(commandTable.get('del')!, b('DEL', 'a', 'b', 'c'))]).toEqual(['a', 'b', 'c']);
    expect([...callKeys(commandTable.get('eval')!, b('EVAL', 's', '2', 'k1', 'k2', 'arg'))]).toEqual(['k1', 'k2']);
    expect([...callKeys(commandTable.get('ping')!, b('PING'))]).toEqual([]);
  });
  it('glob patterns, as Redis matches them', () => {
    const u = user('~tenant1:*', '~exact');
    expect(keyAllowed(u, 'tenant1:x')).toBe(true);
    expect(keyAllowed(u, 'tenant2:x')).toBe(false);
    expect(keyAllowed(u, 'exact')).toBe(true);
    expect(keyAllowed(u, 'exactly')).toBe(false);
  });
});
