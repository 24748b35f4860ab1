/**
 * EVAL / EVALSHA / EVAL_RO / SCRIPT against a real redis-server 7: the same scripts go to both
 * servers and the replies are compared byte for byte, in RESP2 and RESP3.
 *
 * Most cases are ported from Redis's own Lua tests, tests/unit/scripting.tcl of redis/redis 7.0
 * (BSD-3-Clause, Copyright (c) Salvatore Sanfilippo and Redis contributors), keeping the ones
 * that use commands respai has; the names in comments are the Tcl test names. A few texts
 * depend on the Lua version (5.1 there, 5.4 here: compiler messages, tostring of integral
 * floats): those are checked against respai's own expected text, and docs/lua.md lists them.
 */
import { describe, expect, it } from 'vitest';
import type { Arg } from './helpers/raw-client.js';
import { hasRedisServer, twinServers } from './helpers/redis-server.js';

const ev = (script: string, ...rest: Arg[]): Arg[] => ['EVAL', script, ...rest];

/** Sequences of commands whose replies must be identical on both servers. */
const CASES: Record<string, Arg[][]> = {
  'Does Lua interpreter replies to our requests?': [ev("return 'hello'", 0)],
  'Return _G': [ev('return _G', 0)],
  'Return table with a metatable that raise error': [ev('local a = {}; setmetatable(a,{__index=function() foo() end}) return a', 0)],
  'Return table with a metatable that call redis': [
    ev("local a = {}; setmetatable(a,{__index=function() redis.call('set', 'x', '1') end}) return a", 0),
    ['GET', 'x'],
  ],
  'Lua -> Redis protocol type conversions': [
    ev('return 100.5', 0),
    ev('return -100.5', 0),
    ev('return 1e300', 0),
    ev('return 0/0', 0),
    ev("return 'hello world'", 0),
    ev('return true', 0),
    ev('return false', 0),
    ev('return nil', 0),
    ev("return {ok='fine'}", 0),
    ev("return {ok='a\\r\\nb'}", 0),
    ev("return {err='ERR this is an error'}", 0),
    ev("return {err='My Error'}", 0),
    ev("return {1,2,3,'ciao',{1,2}}", 0),
    ev("return {1,2,3.7,'x',nil,4}", 0),
    ev('return {true,false,{ok="OK"},{err="E x"}}', 0),
    ev('return {double=3.5}', 0),
    ev('return {map={a=1}}', 0),
    ev('return {set={a=true}}', 0),
    ev('return redis.status_reply("fine")', 0),
    ev('return redis.error_reply("MY custom")', 0),
    ev('return redis.error_reply("-MY custom")', 0),
    ev('return redis.error_reply("nocode")', 0),
    ev('return redis.error_reply(1)', 0),
    ev('return redis.status_reply()', 0),
  ],
  'Are the KEYS and ARGV arrays populated correctly?': [
    ev('return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}', 2, 'a{t}', 'b{t}', 'c{t}', 'd{t}'),
    ev('return {#KEYS, #ARGV}', 0),
    ev('return {#KEYS, #ARGV}', 3, 'a', 'b', 'c', 'd'),
  ],
  'is Lua able to call Redis API? / EVALSHA': [
    ['SET', 'mykey', 'myval'],
    ev("return redis.call('get',KEYS[1])", 1, 'mykey'),
    ['EVALSHA', 'fd758d1589d044dd850a6f05d52f2eefd27f033f', 1, 'mykey'],
    ['EVALSHA', 'FD758D1589D044DD850A6F05D52F2EEFD27F033F', 1, 'mykey'],
    ['EVALSHA', 'NotValidShaSUM', 0],
    ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', 0],
  ],
  'Redis -> Lua type conversions': [
    ['SET', 'x', 0],
    ev("local foo = redis.pcall('incr',KEYS[1]) return {type(foo),foo}", 1, 'x'),
    ['SET', 'mykey', 'myval'],
    ev("local foo = redis.pcall('get',KEYS[1]) return {type(foo),foo}", 1, 'mykey'),
    ['RPUSH', 'mylist', 'a', 'b', 'c'],
    ev("local foo = redis.pcall('lrange',KEYS[1],0,-1) return {type(foo),foo[1],foo[2],foo[3],# foo}", 1, 'mylist'),
    ev("local foo = redis.pcall('set',KEYS[1],'myval') return {type(foo),foo['ok']}", 1, 'mykey'),
    ev("local foo = redis.pcall('incr',KEYS[1]) return {type(foo),foo['err']}", 1, 'mykey'),
    ['DEL', 'mykey'],
    ev("local foo = redis.pcall('get',KEYS[1]) return {type(foo),foo == false}", 1, 'mykey'),
    ['HSET', 'h', 'f', 'v', 'g', 'w'],
    ev("return redis.call('hgetall', KEYS[1])", 1, 'h'),
    ev("local t = redis.call('hgetall', KEYS[1]) return #t", 1, 'h'),
    ev("return redis.call('hmget', KEYS[1], 'f', 'nope')", 1, 'h'),
    ev("return redis.call('lpos', 'mylist', 'nope')", 0),
    ev("return redis.call('lpop', 'nolist', 2)", 0),
  ],
  'redis.call and redis.pcall errors': [
    ev('return redis.call()', 0),
    ev('return redis.pcall()', 0),
    ev("redis.call('nosuchcommand')", 0),
    ev("return redis.pcall('nosuchcommand')", 0),
    ev("redis.call('get','a','b','c')", 0),
    ['SET', 'foo', 'bar'],
    ev("redis.call('lpush',KEYS[1],'val')", 1, 'foo'),
    ev("return redis.pcall('lpush',KEYS[1],'val')", 1, 'foo'),
    ev("redis.call('set','invalid')", 0),
    ev("redis.call('incr')", 0),
    ev("return redis.call('get', {})", 0),
    ev("return redis.pcall('get', nil)", 0),
    ev("return redis.call('eval', 'return 1', 0)", 0),
    ev("return redis.call('multi')", 0),
    ev("return redis.pcall('script', 'flush')", 0),
    ev('redis.sha1hex()', 0),
    ev("error('boom')", 0),
    ev("error({err='CUSTOM boom'})", 0),
    ev('return 1 + {}', 0),
  ],
  'EVAL argument errors': [
    ev('return 1', 'abc'),
    ev('return 1', -1),
    ev('return "hello"', -12),
    ev('return 1', 5),
    ev('return 1', 1),
    ev('return 1', '1.5'),
    ['EVAL', 'return 1'],
    ['EVALSHA', 'abc'],
    ['EVAL_RO', 'return 1'],
  ],
  'EVAL_RO': [
    ['SET', 'foo', 'bar'],
    ['EVAL_RO', "return redis.call('get', KEYS[1]);", 1, 'foo'],
    ['EVAL_RO', "redis.call('del', KEYS[1]);", 1, 'foo'],
    ['EVAL_RO', "return redis.pcall('rpush', KEYS[1], 'x');", 1, 'foo'],
    ['EXISTS', 'foo'],
  ],
  'SCRIPT LOAD / EXISTS / FLUSH': [
    ev('return 1+1', 0),
    ['SCRIPT', 'EXISTS', 'a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bd9', 'a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bda'],
    ['SCRIPT', 'EXISTS', 'A27E7E8A43702B7046D4F6A7CCF5B60CEF6B9BD9'],
    ['SCRIPT', 'LOAD', "return 'loaded'"],
    ['EVALSHA', 'b534286061d4b9e4026607613b95c06c06015ae8', 0],
    ['SCRIPT', 'FLUSH'],
    ['EVALSHA', 'b534286061d4b9e4026607613b95c06c06015ae8', 0],
    ['SCRIPT', 'EXISTS', 'a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bd9'],
    ['SCRIPT', 'FLUSH', 'ASYNC'],
    ['SCRIPT', 'FLUSH', 'SYNC'],
    ['SCRIPT', 'FLUSH', 'LATER'],
    ['SCRIPT', 'FLUSH', 'SYNC', 'X'],
    ['SCRIPT', 'EXISTS'],
    ['SCRIPT', 'LOAD'],
    ['SCRIPT', 'LOAD', 'a', 'b'],
    ['SCRIPT', 'NOPE'],
    ['SCRIPT', 'KILL'],
    ['SCRIPT', 'KILL', 'x'],
    ['SCRIPT', 'HELP', 'x'],
    ['SCRIPT'],
  ],
  'redis.sha1hex() implementation': [ev("return redis.sha1hex('')", 0), ev("return redis.sha1hex('Pizza & Mandolino')", 0)],
  'Globals protection': [ev('return a', 0), ev('a=10', 0), ev('redis = 1', 0)],
  'Test an example script DECR_IF_GT': [
    ['SET', 'foo', 5],
    ...Array.from({ length: 5 }, () =>
      ev(
        "local current\ncurrent = redis.call('get',KEYS[1])\nif not current then return nil end\nif current > ARGV[1] then\n  return redis.call('decr',KEYS[1])\nelse\n  return redis.call('get',KEYS[1])\nend",
        1,
        'foo',
        2,
      ),
    ),
  ],
  'Call Redis command with many args from Lua (issue #1764)': [
    ev("local x={} redis.call('del','mylist') for i=1,100 do table.insert(x,i) end redis.call('rpush','mylist',unpack(x)) return redis.call('lrange','mylist',0,-1)", 1, 'mylist'),
  ],
  'Number conversion precision (issues #1118)': [
    ev('local value = 9007199254740991 redis.call("set","foo",value) return redis.call("get","foo")', 1, 'foo'),
    ev('redis.call("set", "key", "12039611435714932082") return redis.call("get", "key")', 1, 'key'),
    ev('redis.call("set", "k", 0.1) return redis.call("get", "k")', 0),
    ev('redis.call("set", "k", 1/3) return redis.call("get", "k")', 0),
    ev('redis.call("set", "k", 10/2) return redis.call("get", "k")', 0),
    ev('redis.call("set", "k", -0.0) return redis.call("get", "k")', 0),
    ev('redis.call("set", "k", 2^63) return redis.call("get", "k")', 0),
  ],
  'Correct handling of reused argv (issue #1939)': [
    ev(
      "for i = 0, 10 do redis.call('SET', 'a{t}', '1') redis.call('MGET', 'a{t}', 'b{t}', 'c{t}') redis.call('EXPIRE', 'a{t}', 0) redis.call('GET', 'a{t}') redis.call('MGET', 'a{t}', 'b{t}', 'c{t}') end",
      3, 'a{t}', 'b{t}', 'c{t}',
    ),
  ],
  'Script check unpack with massive arguments': [ev('local a = {} for i=1,7999 do a[i] = 1 end return redis.call("lpush", "l", unpack(a))', 0)],
  'Verify minimal bitop functionality': [
    ev('assert(bit.tobit(1) == 1); assert(bit.band(1) == 1); assert(bit.bxor(1,2) == 3); assert(bit.bor(1,2,4,8,16,32,64,128) == 255)', 0),
    ev('return {bit.tobit(0xffffffff), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.band(-1, 0xff00)}', 0),
    ev("return {bit.tohex(255), bit.tohex(-1, -4), bit.bswap(0x12345678), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8)}", 0),
  ],
  'Able to parse trailing comments': [ev("return 'hello' --trailing comment", 0)],
  'lists and hashes from scripts': [
    ev("redis.call('rpush', KEYS[1], 'a', 'b', 'c') redis.call('lset', KEYS[1], 1, 'B') return redis.call('lrange', KEYS[1], 0, -1)", 1, 'L'),
    ev("return redis.pcall('lset', KEYS[1], 10, 'x')", 1, 'L'),
    ev("redis.call('hset', KEYS[1], 'n', 1) return redis.call('hincrby', KEYS[1], 'n', 41)", 1, 'H'),
    ev("return {redis.call('type', KEYS[1]), redis.call('type', KEYS[2])}", 2, 'L', 'H'),
    ev("return redis.call('hscan', KEYS[1], 0)", 1, 'H'),
  ],
};

const run = hasRedisServer ? describe : describe.skip;

run('Lua scripting: replies equal redis-server 7', () => {
  const twins = twinServers();


  for (const proto of [2, 3] as const) {
    for (const [name, commands] of Object.entries(CASES)) {
      it(`RESP${proto}: ${name}`, async () => {
        await Promise.all([twins.redis.call('HELLO', proto), twins.respai.call('HELLO', proto)]);
        expect(await twins.differences([['FLUSHALL'], ['SCRIPT', 'FLUSH']])).toEqual([]);
        expect(await twins.differences(commands)).toEqual([]);
      });
    }
  }

  it('Script return recursive object: cut with "reached lua stack limit", the connection stays usable', async () => {
    await twins.respai.call('HELLO', 2);
    const r = await twins.respai.call('EVAL', 'local a = {}; local b = {a}; a[1] = b; return a', 0);
    expect(r.startsWith('*1\r\n*1\r\n')).toBe(true);
    expect(r.endsWith('-ERR reached lua stack limit\r\n')).toBe(true);
    expect(await twins.respai.call('PING')).toBe('+PONG\r\n');
  });

  it('texts that depend on the Lua version: respai gives Lua 5.4 words in Redis 7 frames', async () => {
    // Lua 5.1 quotes the token ('<eof>'); Lua 5.4 does not.
    expect(await twins.respai.call('EVAL', 'return 1 +', 0)).toBe("-ERR Error compiling script (new function): user_script:1: unexpected symbol near <eof>\r\n");
    expect(await twins.respai.call('SCRIPT', 'LOAD', 'return (')).toBe("-ERR Error compiling script (new function): user_script:1: unexpected symbol near <eof>\r\n");
    // Lua 5.4 reads an integer literal past 2^53 exactly; Lua 5.1 rounds it to a double first.
    expect(await twins.respai.call('EVAL', 'return 9007199254740993', 0)).toBe(':9007199254740993\r\n');
    expect(await twins.respai.call('EVAL', 'local t = nil; return t.x', 0)).toMatch(
      /^-ERR user_script:1: attempt to index a nil value \(local 't'\) script: [0-9a-f]{40}, on @user_script:1\.\r\n$/,
    );
    // An integral float prints as 5.0 inside Lua 5.4 (tostring, ..); arguments to redis.call are
    // formatted by respai as Redis does (%.17g), so what reaches the keyspace is the same.
    expect(await twins.respai.call('EVAL', 'return tostring(10/2)', 0)).toBe('$3\r\n5.0\r\n');
    // A runaway recursion is a Lua error, not a crash.
    const deep = await twins.respai.call('EVAL', 'local function f(n) return f(n+1)+1 end return f(1)', 0);
    expect(deep).toMatch(/^-ERR user_script:1: stack overflow .*script: [0-9a-f]{40}, on @user_script:1\.\r\n$/);
    expect(await twins.respai.call('PING')).toBe('+PONG\r\n');
  });

  it('RedisAI run commands are refused inside Lua with the original text (test_lua_multi)', async () => {
    const s = "return redis.pcall('AI.MODELEXECUTE', 'no_model{1}', 'INPUTS', 1, 'NO_INPUT{1}', 'OUTPUTS', 1, 'NO_OUTPUT{1}')";
    expect(await twins.respai.call('EVAL', s, 0)).toBe('-ERR Cannot run RedisAI command within a transaction or a LUA script\r\n');
    for (const cmd of ['AI.MODELRUN', 'AI.SCRIPTEXECUTE', 'AI.SCRIPTRUN', 'AI.DAGEXECUTE', 'AI.DAGEXECUTE_RO', 'AI.DAGRUN', 'AI.DAGRUN_RO']) {
      expect(await twins.respai.call('EVAL', `return redis.call('${cmd}', 'x', 'INPUTS', 1, 'i', 'OUTPUTS', 1, 'o', 'x', 'y')`, 0)).toMatch(
        /^-ERR Cannot run RedisAI command within a transaction or a LUA script script: [0-9a-f]{40}, on @user_script:1\.\r\n$/,
      );
    }
    // Tensors are plain data: a script may store and read them, as in the original.
    expect(await twins.respai.call('EVAL', "redis.call('AI.TENSORSET', KEYS[1], 'FLOAT', 2, 'VALUES', 1, 2) return redis.call('AI.TENSORGET', KEYS[1], 'VALUES')", 1, 't')).toBe(
      '*2\r\n$1\r\n1\r\n$1\r\n2\r\n',
    );
    expect(await twins.respai.call('EVAL', "return redis.pcall('LPUSH', KEYS[1], 'x')", 1, 't')).toBe('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  });

  it('SCRIPT HELP lists what respai has (Redis also lists DEBUG)', async () => {
    const r = await twins.respai.call('SCRIPT', 'HELP');
    expect(r).toMatch(/^\*15\r\n\+SCRIPT <subcommand>/);
    expect(r).toContain('+LOAD <script>\r\n');
    expect(r).not.toContain('DEBUG');
  });

  it('EVAL inside MULTI runs at EXEC', async () => {
    const c = await Promise.all([twins.redis, twins.respai].map(async (cl) => [await cl.call('MULTI'), await cl.call('EVAL', "return redis.call('incr', KEYS[1])", 1, 'ctr'), await cl.call('EXEC')]));
    expect(c[1]).toEqual(c[0]);
  });
});
