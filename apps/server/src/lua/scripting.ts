import { createHash } from 'node:crypto';
import { E, RespaiError, errorText } from '@respai/core';
import type { ExecContext } from '../commands/types.js';
import { checkCall, restrictedUser } from '../acl/check.js';
import { formatDouble } from '../resp/format.js';
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NilArray,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from '../resp/reply.js';
import { PRELUDE } from './prelude.js';
import { LUA_REGISTRYINDEX, T, cstr, loadChunk, pushBytes, pushText, raw, toBuffer } from './wasm.js';

export const sha1hex = (b: Buffer | string): string => createHash('sha1').update(b).digest('hex');

/** Commands a script may not run (Redis's noscript flag), beyond the flags checked below. */
const NOT_FROM_SCRIPT = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script', 'select']);
/** RedisAI's run commands: refused in Lua with the original's text, as RedisAI_ExecuteCommand does. */
const AI_RUN = /^ai\.(modelrun|modelexecute|scriptrun|scriptexecute|dagrun|dagrun_ro|dagexecute|dagexecute_ro)$/;

/** Nesting past which a reply is cut with Redis's "reached lua stack limit" (self-referencing tables). */
const MAX_DEPTH = 1000;

interface Running {
  ctx: ExecContext;
  readOnly: boolean;
}

/** A Lua error raised out of a JS function (redis.call): Lua unwinds from there. */
function raise(L: number): number {
  return raw._lua_error(L);
}

/** Pushes Redis's error table {err = "CODE message"} (luaPushErrorBuff). */
function pushErrorTable(L: number, text: string): void {
  let code = 'ERR';
  let msg = text;
  if (text.startsWith('-')) {
    const sp = text.indexOf(' ');
    if (sp < 0) msg = text.slice(1);
    else {
      code = text.slice(1, sp);
      msg = text.slice(sp + 1);
    }
  }
  raw._lua_createtable(L, 0, 1);
  pushText(L, `${code} ${msg.replace(/^[\r\n]+|[\r\n]+$/g, '')}`);
  raw._lua_setfield(L, -2, cstr('err'));
}

/**
 * One Lua interpreter with its script cache, shared by every client of a server (as in Redis:
 * scripts run one at a time, atomically, on the event loop). SCRIPT FLUSH replaces the
 * interpreter. See docs/lua.md for the Lua 5.1 / 5.4 differences scripts can notice.
 */
export class LuaScripting {
  private L = 0;
  private errhRef = 0;
  private envRef = 0;
  private readonly scripts = new Map<string, { ref: number; body: Buffer }>();
  private running: Running | undefined;
  private static fnCall = 0;
  private static fnPcall = 0;
  private static fnErrorReply = 0;
  private static fnStatusReply = 0;
  private static fnSha1 = 0;
  private static fnNoop = 0;
  private static current: LuaScripting | undefined;

  constructor() {
    LuaScripting.registerFunctions();
    this.open();
  }

  /** JS functions are registered once per process (WASM table slots are never freed). */
  private static registerFunctions(): void {
    if (LuaScripting.fnCall !== 0) return;
    LuaScripting.fnCall = raw.addFunction((L) => LuaScripting.current!.redisCall(L, true), 'ii');
    LuaScripting.fnPcall = raw.addFunction((L) => LuaScripting.current!.redisCall(L, false), 'ii');
    LuaScripting.fnErrorReply = raw.addFunction((L) => singleFieldTable(L, 'err'), 'ii');
    LuaScripting.fnStatusReply = raw.addFunction((L) => singleFieldTable(L, 'ok'), 'ii');
    LuaScripting.fnSha1 = raw.addFunction((L) => {
      if (raw._lua_gettop(L) !== 1) {
        pushErrorTable(L, 'wrong number of arguments');
        return raise(L);
      }
      pushText(L, sha1hex(toBuffer(L, 1) ?? Buffer.alloc(0)));
      return 1;
    }, 'ii');
    LuaScripting.fnNoop = raw.addFunction(() => 0, 'ii');
  }

  private open(): void {
    const L = raw._luaL_newstate();
    raw._luaL_openlibs(L);
    if (loadChunk(L, Buffer.from(PRELUDE), '=prelude') !== 0 || raw._lua_pcallk(L, 0, 3, 0, 0, 0) !== 0) {
      throw new Error(`Lua prelude failed: ${toBuffer(L, -1)?.toString()}`);
    }
    // Stack: errh, env, redis_impl.
    const fns: [string, number][] = [
      ['call', LuaScripting.fnCall],
      ['pcall', LuaScripting.fnPcall],
      ['error_reply', LuaScripting.fnErrorReply],
      ['status_reply', LuaScripting.fnStatusReply],
      ['sha1hex', LuaScripting.fnSha1],
      ['log', LuaScripting.fnNoop],
      ['debug', LuaScripting.fnNoop],
      ['set_repl', LuaScripting.fnNoop],
    ];
    for (const [name, fn] of fns) {
      raw._lua_pushcclosure(L, fn, 0);
      raw._lua_setfield(L, -2, cstr(name));
    }
    const consts: [string, number][] = [
      ['LOG_DEBUG', 0], ['LOG_VERBOSE', 1], ['LOG_NOTICE', 2], ['LOG_WARNING', 3],
      ['REPL_NONE', 0], ['REPL_AOF', 1], ['REPL_SLAVE', 2], ['REPL_REPLICA', 2], ['REPL_ALL', 3],
    ];
    for (const [name, v] of consts) {
      raw._lua_pushinteger(L, BigInt(v));
      raw._lua_setfield(L, -2, cstr(name));
    }
    raw._lua_settop(L, -2);
    this.envRef = raw._luaL_ref(L, LUA_REGISTRYINDEX);
    this.errhRef = raw._luaL_ref(L, LUA_REGISTRYINDEX);
    this.L = L;
  }

  /** SCRIPT FLUSH: a new interpreter, no scripts. */
  flush(): void {
    raw._lua_close(this.L);
    this.scripts.clear();
    this.open();
  }

  has(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  get size(): number {
    return this.scripts.size;
  }

  /** SHA1s of recent bodies: EVAL sends the body every time, and hashing it costs more than this lookup. */
  private readonly shaOf = new Map<string, string>();

  /** Compiles and caches `body`; returns its SHA1, or throws Redis's compile error. */
  load(body: Buffer): string {
    const text = body.length <= 4096 ? body.toString('latin1') : undefined;
    let sha = text === undefined ? undefined : this.shaOf.get(text);
    if (sha === undefined) {
      sha = sha1hex(body);
      if (text !== undefined) {
        if (this.shaOf.size >= 1024) this.shaOf.clear();
        this.shaOf.set(text, sha);
      }
    }
    if (this.scripts.has(sha)) return sha;
    const L = this.L;
    if (loadChunk(L, body, '@user_script') !== 0) {
      const msg = toBuffer(L, -1)?.toString('latin1') ?? 'unknown error';
      raw._lua_settop(L, -2);
      throw new RespaiError(E.luaCompileFailed(msg));
    }
    // The chunk's only upvalue is _ENV: point it at the protected environment.
    raw._lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.envRef));
    raw._lua_setupvalue(L, -2, 1);
    this.scripts.set(sha, { ref: raw._luaL_ref(L, LUA_REGISTRYINDEX), body: Buffer.from(body) });
    return sha;
  }

  /** EVAL / EVALSHA: runs a cached script (NOSCRIPT when `sha` is unknown) with KEYS and ARGV. */
  run(ctx: ExecContext, sha: string, keys: readonly Buffer[], args: readonly Buffer[], readOnly: boolean): Reply {
    const script = this.scripts.get(sha.toLowerCase());
    if (script === undefined) return new ErrorReply(E.noScript);
    const L = this.L;
    this.setArray('KEYS', keys);
    this.setArray('ARGV', args);
    const base = raw._lua_gettop(L);
    raw._lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.errhRef));
    raw._lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(script.ref));
    const outer = LuaScripting.current;
    LuaScripting.current = this;
    this.running = { ctx, readOnly };
    let status: number;
    try {
      status = raw._lua_pcallk(L, 0, 1, base + 1, 0, 0);
    } finally {
      this.running = undefined;
      LuaScripting.current = outer;
    }
    let reply: Reply;
    if (status === 0) reply = this.toReply(L, 0);
    else reply = new ErrorReply(this.errorMessage(L, sha.toLowerCase()));
    raw._lua_settop(L, base);
    return reply;
  }

  private setArray(name: string, items: readonly Buffer[]): void {
    const L = this.L;
    raw._lua_createtable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      pushBytes(L, items[i]!);
      raw._lua_rawseti(L, -2, BigInt(i + 1));
    }
    raw._lua_setglobal(L, cstr(name));
  }

  /** The error object left by the handler: "<err> script: <sha>, on <source>:<line>." */
  private errorMessage(L: number, sha: string): string {
    if (raw._lua_type(L, -1) !== T.TABLE) {
      const m = toBuffer(L, -1)?.toString('latin1') ?? 'execution failure';
      return E.luaRunFailed(sha, m.slice(0, 100));
    }
    const field = (k: string): string | undefined => {
      const t = rawField(L, k);
      const v = t === T.STRING || t === T.NUMBER ? toBuffer(L, -1)?.toString('latin1') : undefined;
      raw._lua_settop(L, -2);
      return v;
    };
    let msg = field('err') ?? E.luaUnknownError;
    const source = field('source');
    const line = field('line');
    if (source !== undefined && line !== undefined) msg += ` script: ${sha}, on ${source}:${line}.`;
    return msg.replace(/[\r\n]/g, ' ');
  }

  /** luaReplyToRedisReply: the Lua value on top of the stack as a reply (it stays on the stack). */
  private toReply(L: number, depth: number): Reply {
    // Each nesting level holds Lua stack slots: without room, Redis's own text, as Redis does.
    if (depth > MAX_DEPTH || raw._lua_checkstack(L, 4) === 0) return new ErrorReply(E.luaStackLimit);
    switch (raw._lua_type(L, -1)) {
      case T.STRING:
        return toBuffer(L, -1)!;
      case T.BOOLEAN:
        // The script's own client speaks RESP2: true is 1, false is nil.
        return raw._lua_toboolean(L, -1) ? 1 : null;
      case T.NUMBER:
        return toInteger(L);
      case T.TABLE:
        return this.tableReply(L, depth);
      default:
        return null;
    }
  }

  private tableReply(L: number, depth: number): Reply {
    // Raw reads only, as Redis: a metatable of the script's must not run during the conversion.
    const str = (k: string): Buffer | undefined => {
      const v = rawField(L, k) === T.STRING ? toBuffer(L, -1) : undefined;
      raw._lua_settop(L, -2);
      return v;
    };
    const err = str('err');
    if (err !== undefined) return new ErrorReply(err.toString('latin1').replace(/[\r\n]/g, ' '));
    const ok = str('ok');
    if (ok !== undefined) return new SimpleString(ok.toString('latin1').replace(/[\r\n]/g, ' '));
    if (rawField(L, 'double') === T.NUMBER) {
      const d = raw._lua_tonumberx(L, -1, 0);
      raw._lua_settop(L, -2);
      return new DoubleReply(d);
    }
    raw._lua_settop(L, -2);
    if (rawField(L, 'verbatim_string') === T.TABLE) {
      const format = str('format');
      const text = str('string');
      raw._lua_settop(L, -2);
      if (format !== undefined && text !== undefined) return new VerbatimReply(format.toString('latin1'), text.toString('latin1'));
    } else raw._lua_settop(L, -2);
    for (const kind of ['map', 'set'] as const) {
      if (rawField(L, kind) === T.TABLE) {
        const entries: [Reply, Reply][] = [];
        raw._lua_pushnil(L);
        while (raw._lua_next(L, -2) !== 0) {
          const v = kind === 'map' ? this.toReply(L, depth + 1) : true;
          raw._lua_settop(L, -2);
          raw._lua_pushvalue(L, -1);
          const k = this.toReply(L, depth + 1);
          raw._lua_settop(L, -2);
          entries.push([k, v as Reply]);
        }
        raw._lua_settop(L, -2);
        return kind === 'map' ? new MapReply(entries) : new SetReply(entries.map(([k]) => k));
      }
      raw._lua_settop(L, -2);
    }
    const out: Reply[] = [];
    for (let j = 1; ; j++) {
      if (raw._lua_rawgeti(L, -1, BigInt(j)) === T.NIL) {
        raw._lua_settop(L, -2);
        break;
      }
      out.push(this.toReply(L, depth + 1));
      raw._lua_settop(L, -2);
    }
    return out;
  }

  /** redis.call (raising) and redis.pcall (returning the error table). */
  private redisCall(L: number, raising: boolean): number {
    const n = raw._lua_gettop(L);
    if (n === 0) {
      pushErrorTable(L, 'Please specify at least one argument for this redis lib call');
      return raising ? raise(L) : 1;
    }
    const argv: Buffer[] = [];
    let bad = false;
    for (let i = 1; i <= n; i++) {
      const t = raw._lua_type(L, i);
      // Numbers as Redis formats them (%.17g), not as Lua would.
      if (t === T.NUMBER) argv.push(Buffer.from(formatDouble(raw._lua_tonumberx(L, i, 0))));
      else if (t === T.STRING) argv.push(toBuffer(L, i)!);
      else {
        bad = true;
        break;
      }
    }
    raw._lua_settop(L, 0);
    if (bad) {
      pushErrorTable(L, 'Lua redis lib command arguments must be strings or integers');
      return raising ? raise(L) : 1;
    }
    const r = this.running;
    if (r === undefined) {
      pushErrorTable(L, 'redis.call/pcall can only be called inside a script invocation');
      return raise(L);
    }
    const reply = runFromScript(r, argv);
    pushReply(L, reply);
    if (raising && reply instanceof ErrorReply) return raise(L);
    return 1;
  }
}

/** Pushes t[k] of the table on top without metamethods; returns its type. */
function rawField(L: number, k: string): number {
  pushText(L, k);
  return raw._lua_rawget(L, -2);
}

/** redis.error_reply / redis.status_reply. */
function singleFieldTable(L: number, field: 'err' | 'ok'): number {
  if (raw._lua_gettop(L) !== 1 || raw._lua_type(L, -1) !== T.STRING) {
    pushErrorTable(L, 'wrong number or type of arguments');
    return 1;
  }
  const s = toBuffer(L, 1)!.toString('latin1');
  raw._lua_settop(L, 0);
  if (field === 'err') pushErrorTable(L, s.startsWith('-') ? s : `-${s}`);
  else {
    raw._lua_createtable(L, 0, 1);
    pushText(L, s);
    raw._lua_setfield(L, -2, cstr('ok'));
  }
  return 1;
}

const INT64_MIN = -(2n ** 63n);

/** (long long)lua_tonumber: integers as they are; floats truncated; out of range as x86 does. */
function toInteger(L: number): bigint | number {
  if (raw._lua_isinteger(L, -1)) return raw._lua_tointegerx(L, -1, 0);
  const d = raw._lua_tonumberx(L, -1, 0);
  if (!Number.isFinite(d) || d >= 2 ** 63 || d < -(2 ** 63)) return INT64_MIN;
  return Number.isSafeInteger(Math.trunc(d)) ? Math.trunc(d) : BigInt(Math.trunc(d));
}

/** redisProtocolToLuaType, from a reply as a RESP2 client would read it. */
function pushReply(L: number, r: Reply): void {
  if (r === null || r instanceof NilArray) raw._lua_pushboolean(L, 0);
  else if (typeof r === 'number') raw._lua_pushinteger(L, BigInt(r));
  else if (typeof r === 'bigint') raw._lua_pushinteger(L, r);
  else if (Buffer.isBuffer(r)) pushBytes(L, r);
  else if (typeof r === 'string') pushText(L, r);
  else if (Array.isArray(r)) pushArray(L, r as readonly Reply[]);
  else if (r instanceof SimpleString) {
    raw._lua_createtable(L, 0, 1);
    pushText(L, r.value);
    raw._lua_setfield(L, -2, cstr('ok'));
  } else if (r instanceof ErrorReply) pushErrorTable(L, `-${r.text}`);
  else if (r instanceof DoubleReply) pushText(L, formatDouble(r.value));
  else if (r instanceof MapReply) pushArray(L, r.entries.flatMap(([k, v]) => [k, v]));
  else if (r instanceof SetReply) pushArray(L, r.items);
  else if (r instanceof VerbatimReply) pushText(L, r.text);
  else if (r instanceof BoolReply) raw._lua_pushinteger(L, r.value ? 1n : 0n);
  else raw._lua_pushboolean(L, 0);
}

function pushArray(L: number, items: readonly Reply[]): void {
  raw._lua_checkstack(L, 4);
  raw._lua_createtable(L, items.length, 0);
  for (let i = 0; i < items.length; i++) {
    pushReply(L, items[i]!);
    raw._lua_rawseti(L, -2, BigInt(i + 1));
  }
}

/** One command from a script (scriptCall): Redis's checks and texts, then the command itself. */
function runFromScript({ ctx, readOnly }: Running, argv: Buffer[]): Reply {
  const name = argv[0]!.toString('latin1').toLowerCase();
  const command = ctx.server.commands.get(name);
  if (command === undefined || (command.arity > 0 && argv.length !== command.arity) || argv.length < -command.arity) {
    return new ErrorReply(command === undefined ? E.luaUnknownCommand : E.luaWrongArity);
  }
  const f = command.flags;
  // Runs, and stores whose model or script loads asynchronously (a prepare): neither fits in an
  // atomic script, and both are refused before anything starts.
  if (f.includes('airun') || AI_RUN.test(name) || command.prepare !== undefined) return new ErrorReply(E.runInMulti);
  if (NOT_FROM_SCRIPT.has(name) || f.includes('nomulti') || f.includes('noauth') || f.includes('admin')) {
    return new ErrorReply(E.luaCommandNotAllowed);
  }
  if (readOnly && f.includes('write')) return new ErrorReply(E.luaWriteInReadOnly);
  // [acl] The script runs with its caller's permissions (Redis's scriptVerifyACL).
  const user = restrictedUser(ctx);
  if (user !== undefined) {
    const denied = checkCall(ctx.server.acl!, user, command, argv, true);
    if (denied !== undefined) return new ErrorReply(denied);
  }
  try {
    const r = command.execute(ctx, command.parse(argv.slice(1), { protoMaxBulkLen: ctx.server.options['proto-max-bulk-len'] }));
    if (r instanceof Promise) {
      // A command that completes later (a model load) cannot be part of an atomic script.
      r.catch(() => undefined);
      return new ErrorReply(E.runInMulti);
    }
    return r;
  } catch (e) {
    if (!RespaiError.isInstance(e)) ctx.server.log.error({ err: e, command: name }, 'command failed unexpectedly in a script');
    return new ErrorReply(errorText(e));
  }
}

const perServer = new WeakMap<object, LuaScripting>();

/** The interpreter of a server (created on first use). */
export function scriptingOf(server: object): LuaScripting {
  let s = perServer.get(server);
  if (s === undefined) perServer.set(server, (s = new LuaScripting()));
  return s;
}
