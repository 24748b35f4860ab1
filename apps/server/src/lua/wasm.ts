import { LuaFactory } from 'wasmoon';

/**
 * Lua 5.4 compiled to WebAssembly (wasmoon), used through its raw C API: wasmoon's own JS
 * interop converts strings through UTF-8 and C strings (losing bytes after a NUL) and costs
 * about ten times more per call, while Redis scripts need binary-safe strings and cheap
 * redis.call round trips. docs/lua.md gives the measurements behind this choice.
 *
 * The module loads once, when this file is imported (a few ms), so EVAL can run synchronously.
 */
const lw = await new LuaFactory().getLuaModule();

/** The raw exports this server uses (emscripten names: `_` + the C name). */
interface Raw {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _luaL_newstate(): number;
  _luaL_openlibs(L: number): void;
  _lua_close(L: number): void;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, idx: number): void;
  _lua_checkstack(L: number, n: number): number;
  _lua_pushvalue(L: number, idx: number): void;
  _lua_type(L: number, idx: number): number;
  _lua_tolstring(L: number, idx: number, lenPtr: number): number;
  _lua_tonumberx(L: number, idx: number, isNum: number): number;
  _lua_isinteger(L: number, idx: number): number;
  _lua_tointegerx(L: number, idx: number, isNum: number): bigint;
  _lua_toboolean(L: number, idx: number): number;
  _lua_pushnil(L: number): void;
  _lua_pushnumber(L: number, n: number): void;
  _lua_pushinteger(L: number, n: bigint): void;
  _lua_pushlstring(L: number, s: number, len: number): number;
  _lua_pushboolean(L: number, b: number): void;
  _lua_pushcclosure(L: number, fn: number, n: number): void;
  _lua_createtable(L: number, narr: number, nrec: number): void;
  _lua_rawseti(L: number, idx: number, n: bigint): void;
  _lua_rawgeti(L: number, idx: number, n: bigint): number;
  _lua_setfield(L: number, idx: number, k: number): void;
  _lua_getfield(L: number, idx: number, k: number): number;
  _lua_rawget(L: number, idx: number): number;
  _lua_next(L: number, idx: number): number;
  _lua_getglobal(L: number, name: number): number;
  _lua_setglobal(L: number, name: number): void;
  _lua_setupvalue(L: number, fn: number, n: number): number;
  _luaL_loadbufferx(L: number, buf: number, size: number, name: number, mode: number): number;
  _lua_pcallk(L: number, nargs: number, nresults: number, errfunc: number, ctx: number, k: number): number;
  _lua_error(L: number): number;
  _luaL_ref(L: number, t: number): number;
  _luaL_unref(L: number, t: number, ref: number): void;
  addFunction(fn: (L: number) => number, sig: string): number;
}

export const raw = lw.module as unknown as Raw;

export const LUA_REGISTRYINDEX = -1001000;
export const T = { NIL: 0, BOOLEAN: 1, LIGHTUSERDATA: 2, NUMBER: 3, STRING: 4, TABLE: 5, FUNCTION: 6 } as const;

const cstrings = new Map<string, number>();

/** A NUL-terminated copy of an ASCII constant in the WASM heap, allocated once per text. */
export function cstr(s: string): number {
  let p = cstrings.get(s);
  if (p === undefined) {
    const b = Buffer.from(`${s}\0`, 'latin1');
    p = raw._malloc(b.length);
    raw.HEAPU8.set(b, p);
    cstrings.set(s, p);
  }
  return p;
}

const lenPtr = raw._malloc(8);
let scratch = raw._malloc(4096);
let scratchSize = 4096;

/** The string (or number, converted by Lua) at `idx` as a Buffer copy; undefined when neither. */
export function toBuffer(L: number, idx: number): Buffer | undefined {
  const p = raw._lua_tolstring(L, idx, lenPtr);
  if (p === 0) return undefined;
  const n = raw.HEAPU32[lenPtr >> 2]!;
  return Buffer.from(raw.HEAPU8.subarray(p, p + n));
}

/** Pushes bytes as a Lua string (Lua copies them). */
export function pushBytes(L: number, b: Uint8Array): void {
  if (b.length > scratchSize) {
    raw._free(scratch);
    scratchSize = Math.max(b.length, scratchSize * 2);
    scratch = raw._malloc(scratchSize);
  }
  // HEAPU8 is re-read after every allocation: the WASM memory may have grown and moved.
  raw.HEAPU8.set(b, scratch);
  raw._lua_pushlstring(L, scratch, b.length);
}

export function pushText(L: number, s: string): void {
  pushBytes(L, Buffer.from(s, 'utf8'));
}

/** Loads a chunk; returns the Lua status (0 = ok; the function or the message is on the stack). */
export function loadChunk(L: number, src: Buffer, chunkName: string): number {
  const p = raw._malloc(Math.max(1, src.length));
  try {
    raw.HEAPU8.set(src, p);
    return raw._luaL_loadbufferx(L, p, src.length, cstr(chunkName), cstr('t'));
  } finally {
    raw._free(p);
  }
}
