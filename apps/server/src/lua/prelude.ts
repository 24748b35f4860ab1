/**
 * Lua run once in each new interpreter, before any script: Redis's scripting environment on top
 * of Lua 5.4. It keeps the Lua 5.1 names scripts use, removes what Redis does not offer (files,
 * the OS, modules, loading code), adds LuaBitOp's `bit`, and builds the environment every script
 * runs in: reads of a missing global and every assignment to a global fail with Redis 7's texts.
 * It returns the error handler and the script environment; `redis` is filled in from JS.
 */
export const PRELUDE = String.raw`
local G = _G
local dbg = debug
local type, tostring, error, rawget, setmetatable = type, tostring, error, rawget, setmetatable

-- Lua 5.1 names
unpack = table.unpack
table.getn = function(t) return #t end
math.pow = function(x, y) return x ^ y end
math.mod = math.fmod
math.ldexp = function(m, e) return m * 2.0 ^ e end

-- LuaBitOp (what Redis bundles as "bit"): 32-bit operations with signed results
local function tobit(x)
  x = math.floor(x) % 4294967296
  if x >= 2147483648 then x = x - 4294967296 end
  return math.tointeger(x)
end
local function u(x) return math.floor(x) % 4294967296 end
bit = {
  tobit = tobit,
  bnot = function(x) return tobit(~u(x)) end,
  band = function(x, ...) local r = u(x) for _, v in ipairs({...}) do r = r & u(v) end return tobit(r) end,
  bor = function(x, ...) local r = u(x) for _, v in ipairs({...}) do r = r | u(v) end return tobit(r) end,
  bxor = function(x, ...) local r = u(x) for _, v in ipairs({...}) do r = r ~ u(v) end return tobit(r) end,
  lshift = function(x, n) return tobit(u(x) << (math.floor(n) % 32)) end,
  rshift = function(x, n) return tobit(u(x) >> (math.floor(n) % 32)) end,
  arshift = function(x, n) return tobit(tobit(x) // (1 << (math.floor(n) % 32))) end,
  rol = function(x, n) n = math.floor(n) % 32 local v = u(x) return tobit((v << n) | (v >> (32 - n))) end,
  ror = function(x, n) n = math.floor(n) % 32 local v = u(x) return tobit((v >> n) | (v << (32 - n))) end,
  bswap = function(x) local v = u(x) return tobit(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24)) end,
  tohex = function(x, n)
    n = n or 8
    local up = n < 0
    if up then n = -n end
    local s = string.format('%08x', u(x)):sub(-n)
    return up and s:upper() or s
  end,
}

io, os, package, coroutine, utf8, require, dofile, loadfile, load, loadstring, print = nil

-- Redis's __redis__err__handler, finding the script's own frame (the first one in user_script).
local function errh(err)
  local info
  for level = 2, 50 do
    local i = dbg.getinfo(level, 'Sl')
    if not i then break end
    if i.source == '@user_script' then info = i break end
  end
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

local function readonly() error('Attempt to modify a readonly table', 2) end

-- What scripts see: the globals, read-only, and an error for a global that does not exist.
local env = setmetatable({}, {
  __index = function(_, k)
    local v = rawget(G, k)
    if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
    return v
  end,
  __newindex = readonly,
  __metatable = false,
})

local redis_impl = {}
redis = setmetatable({}, { __index = redis_impl, __newindex = readonly, __metatable = false })

return errh, env, redis_impl
`;
