import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeRdb } from './rdb/file.js';

/**
 * Redis 7's multi-part append-only file (a folder, `appenddirname`, default `appendonlydir`): a
 * manifest naming one base file (an RDB file with aof-use-rdb-preamble yes, Redis's default, or
 * RESP commands) and incremental files of RESP commands. respai imports it once, when its own AOF
 * does not exist yet, then keeps its own format.
 */

export interface RedisAofFile {
  readonly path: string;
  readonly type: 'base' | 'history' | 'incr';
  readonly seq: number;
}

export interface RedisAof {
  readonly manifest: string;
  /** The base file, if the manifest has one, and whether it is an RDB file or RESP commands. */
  readonly base?: { readonly path: string; readonly format: 'rdb' | 'resp' };
  /** Incremental files, in order. */
  readonly incr: readonly string[];
}

export class RedisAofError extends Error {}

/** Splits a manifest line the way Redis does (sdssplitargs: quotes and escapes). */
function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+)/g;
  for (const m of line.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, '$1'));
    else if (m[2] !== undefined) out.push(m[2].replace(/\\(.)/g, '$1'));
    else out.push(m[3]!);
  }
  return out;
}

/** The Redis AOF folder `dir/appenddirname`, when it holds a manifest; undefined otherwise. */
export function findRedisAof(dir: string, appenddirname = 'appendonlydir'): RedisAof | undefined {
  const folder = join(dir, appenddirname);
  if (!existsSync(folder)) return undefined;
  const manifests = readdirSync(folder).filter((f) => f.endsWith('.manifest'));
  if (manifests.length === 0) return undefined;
  if (manifests.length > 1) throw new RedisAofError(`'${folder}' holds more than one manifest (${manifests.join(', ')})`);
  const manifest = join(folder, manifests[0]!);
  const files: RedisAofFile[] = [];
  for (const raw of readFileSync(manifest, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const args = splitArgs(line);
    const kv = new Map<string, string>();
    for (let i = 0; i + 1 < args.length; i += 2) kv.set(args[i]!, args[i + 1]!);
    const name = kv.get('file');
    const type = kv.get('type');
    const seq = Number(kv.get('seq'));
    if (name === undefined || name.includes('/') || (type !== 'b' && type !== 'h' && type !== 'i') || !Number.isSafeInteger(seq)) {
      throw new RedisAofError(`invalid line in the AOF manifest '${manifest}': ${line}`);
    }
    files.push({ path: join(folder, name), type: type === 'b' ? 'base' : type === 'h' ? 'history' : 'incr', seq });
  }
  const bases = files.filter((f) => f.type === 'base');
  if (bases.length > 1) throw new RedisAofError(`the AOF manifest '${manifest}' names ${bases.length} base files`);
  for (const f of files) if (f.type !== 'history' && !existsSync(f.path)) throw new RedisAofError(`'${f.path}', named in '${manifest}', does not exist`);
  const baseFile = bases[0];
  let base: RedisAof['base'];
  if (baseFile !== undefined) {
    const head = readFileSync(baseFile.path).subarray(0, 9);
    base = { path: baseFile.path, format: looksLikeRdb(head) ? 'rdb' : 'resp' };
  }
  const incr = files.filter((f) => f.type === 'incr').sort((a, b) => a.seq - b.seq).map((f) => f.path);
  return { manifest, ...(base === undefined ? {} : { base }), incr };
}

/**
 * The commands of a RESP append-only file (multibulk requests, as Redis writes them). A file that
 * ends inside a command yields the complete ones and reports the rest in `truncatedAt` (Redis's
 * aof-load-truncated); anything else malformed throws RedisAofError with the offset.
 */
export function respCommands(b: Buffer, path: string): { commands: Buffer[][]; truncatedAt?: number } {
  const commands: Buffer[][] = [];
  let p = 0;
  const line = (): string | undefined => {
    const end = b.indexOf('\r\n', p, 'latin1');
    if (end === -1) return undefined;
    const s = b.toString('latin1', p, end);
    p = end + 2;
    return s;
  };
  while (p < b.length) {
    const start = p;
    const bad = (why: string) => new RedisAofError(`Bad file format reading the append only file '${path}': ${why} at offset ${start}`);
    if (b[p] === 0x23) {
      // An annotation (#TS:... with aof-timestamp-enabled): skipped, as Redis does.
      if (line() === undefined) return { commands, truncatedAt: start };
      continue;
    }
    if (b[p] !== 0x2a) throw bad('a command must start with *');
    const head = line();
    if (head === undefined) return { commands, truncatedAt: start };
    const n = Number(head.slice(1));
    if (!Number.isSafeInteger(n) || n < 1) throw bad(`bad argument count '${head}'`);
    const argv: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      if (p >= b.length) return { commands, truncatedAt: start };
      if (b[p] !== 0x24) throw bad('an argument must start with $');
      const h = line();
      if (h === undefined) return { commands, truncatedAt: start };
      const len = Number(h.slice(1));
      if (!Number.isSafeInteger(len) || len < 0) throw bad(`bad argument length '${h}'`);
      if (p + len + 2 > b.length) return { commands, truncatedAt: start };
      argv.push(b.subarray(p, p + len));
      if (b[p + len] !== 0x0d || b[p + len + 1] !== 0x0a) throw bad('an argument is not followed by CRLF');
      p += len + 2;
    }
    commands.push(argv);
  }
  return { commands };
}
