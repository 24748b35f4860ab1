import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisAofError, findRedisAof, respCommands } from './redis-aof.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function folder(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(join(tmpdir(), 'respai-redis-aof-'));
  dirs.push(d);
  mkdirSync(join(d, 'appendonlydir'));
  for (const [n, c] of Object.entries(files)) writeFileSync(join(d, 'appendonlydir', n), c);
  return d;
}
const resp = (...cmds: string[][]) => cmds.map((c) => `*${c.length}\r\n` + c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')).join('');

describe("Redis 7's multi-part AOF", () => {
  it('finds the manifest, its base (RDB or RESP) and its incremental files in order', () => {
    const d = folder({
      'appendonly.aof.manifest': 'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile "appendonly.aof.3.incr.aof" seq 3 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
      'appendonly.aof.2.base.rdb': 'REDIS0010...',
      'appendonly.aof.2.incr.aof': '',
      'appendonly.aof.3.incr.aof': '',
    });
    const a = findRedisAof(d)!;
    expect(a.base).toEqual({ path: join(d, 'appendonlydir', 'appendonly.aof.2.base.rdb'), format: 'rdb' });
    expect(a.incr.map((p) => p.split('/').pop())).toEqual(['appendonly.aof.2.incr.aof', 'appendonly.aof.3.incr.aof']);
    const r = folder({ 'x.manifest': 'file b.aof seq 1 type b\n', 'b.aof': resp(['SET', 'a', 'b']) });
    expect(findRedisAof(r)!.base?.format).toBe('resp');
    expect(findRedisAof(mkdtempSync(join(tmpdir(), 'respai-none-')))).toBeUndefined();
  });
  it('refuses a manifest naming missing files or with bad lines', () => {
    expect(() => findRedisAof(folder({ 'a.manifest': 'file gone.aof seq 1 type i\n' }))).toThrow(RedisAofError);
    expect(() => findRedisAof(folder({ 'a.manifest': 'file ../x seq 1 type i\n' }))).toThrow(/invalid line/);
    expect(() => findRedisAof(folder({ 'a.manifest': 'file a seq 1 type b\nfile b seq 2 type b\n', a: '', b: '' }))).toThrow(/2 base files/);
  });
  it('reads RESP commands, skips annotations, and tolerates a truncated tail', () => {
    const text = resp(['SET', 'k', 'v\r\nwith crlf'], ['MULTI']) + '#TS:12345\r\n' + resp(['EXEC']);
    const r = respCommands(Buffer.from(text), 'f');
    expect(r.commands.map((c) => c.map(String))).toEqual([['SET', 'k', 'v\r\nwith crlf'], ['MULTI'], ['EXEC']]);
    expect(r.truncatedAt).toBeUndefined();
    const cut = Buffer.from(text + '*2\r\n$3\r\nDEL\r\n$1\r');
    expect(respCommands(cut, 'f')).toMatchObject({ truncatedAt: text.length });
    expect(() => respCommands(Buffer.from('+OK\r\n'), 'f')).toThrow(/must start with \* at offset 0/);
    expect(() => respCommands(Buffer.from('*1\r\n$3\r\nabcd\r\n'), 'f')).toThrow(/not followed by CRLF/);
  });
});
