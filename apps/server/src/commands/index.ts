import type { Command } from './types.js';
import { aiModelscan } from './ai._modelscan.js';
import { aiConfig } from './ai.config.js';
import { aiDagexecute, aiDagexecuteRo, aiDagrun, aiDagrunRo } from './ai.dagexecute.js';
import { aiInfo } from './ai.info.js';
import { aiModeldel } from './ai.modeldel.js';
import { aiModelexecute } from './ai.modelexecute.js';
import { aiModelget } from './ai.modelget.js';
import { aiModelrun } from './ai.modelrun.js';
import { aiModelset } from './ai.modelset.js';
import { aiModelstore } from './ai.modelstore.js';
import { aiScriptscan } from './ai._scriptscan.js';
import { aiScriptdel } from './ai.scriptdel.js';
import { aiScriptexecute } from './ai.scriptexecute.js';
import { aiScriptget } from './ai.scriptget.js';
import { aiScriptrun } from './ai.scriptrun.js';
import { aiScriptset } from './ai.scriptset.js';
import { aiScriptstore } from './ai.scriptstore.js';
import { aiTensorget } from './ai.tensorget.js';
import { aiTensorset } from './ai.tensorset.js';
import { acl } from './acl.js';
import { auth } from './auth.js';
import { bgrewriteaof } from './bgrewriteaof.js';
import { bgsave } from './bgsave.js';
import { client } from './client.js';
import { command } from './command.js';
import { config } from './config.js';
import { dbsize } from './dbsize.js';
import { debug } from './debug.js';
import { del } from './del.js';
import { discard } from './discard.js';
import { dump } from './dump.js';
import { echo } from './echo.js';
import { exec } from './exec.js';
import { exists } from './exists.js';
import { expire, pexpire } from './expire.js';
import { flushall } from './flushall.js';
import { flushdb } from './flushdb.js';
import { get } from './get.js';
import { hello } from './hello.js';
import { decr } from './decr.js';
import { decrby } from './decrby.js';
import { incr } from './incr.js';
import { incrby } from './incrby.js';
import { info } from './info.js';
import { keys } from './keys.js';
import { lastsave } from './lastsave.js';
import { mget } from './mget.js';
import { module_ } from './module.js';
import { mset } from './mset.js';
import { multi } from './multi.js';
import { persist } from './persist.js';
import { ping } from './ping.js';
import { quit } from './quit.js';
import { rename } from './rename.js';
import { restore } from './restore.js';
import { save } from './save.js';
import { scan } from './scan.js';
import { select } from './select.js';
import { set } from './set.js';
import { shutdown } from './shutdown.js';
import { slowlog } from './slowlog.js';
import { time } from './time.js';
import { pttl, ttl } from './ttl.js';
import { type } from './type.js';
import { unlink } from './unlink.js';
import { lpush, lpushx, rpush, rpushx } from './lpush.js';
import { lpop, rpop } from './lpop.js';
import { llen } from './llen.js';
import { lrange } from './lrange.js';
import { lindex } from './lindex.js';
import { lset } from './lset.js';
import { lrem } from './lrem.js';
import { ltrim } from './ltrim.js';
import { lpos } from './lpos.js';
import { hset, hmset } from './hset.js';
import { hsetnx } from './hsetnx.js';
import { hget } from './hget.js';
import { hmget } from './hmget.js';
import { hgetall, hkeys, hvals } from './hgetall.js';
import { hdel } from './hdel.js';
import { hexists } from './hexists.js';
import { hlen } from './hlen.js';
import { hstrlen } from './hstrlen.js';
import { hincrby } from './hincrby.js';
import { hscan } from './hscan.js';
import { evalCommand, evalRo, evalsha, evalshaRo } from './eval.js';
import { script } from './script.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own request type
const all: Command<any>[] = [
  // connection
  ping, echo, hello, auth, quit, select, client,
  // server
  command, info, config, dbsize, time, flushdb, flushall, shutdown, debug, module_, acl, slowlog,
  // persistence
  save, bgsave, lastsave, bgrewriteaof, dump, restore,
  // keyspace
  keys, scan, type, exists, del, unlink, rename, expire, pexpire, ttl, pttl, persist,
  // strings
  get, set, mget, mset, incr, incrby, decr, decrby,
  // lists
  lpush, rpush, lpushx, rpushx, lpop, rpop, llen, lrange, lindex, lset, lrem, ltrim, lpos,
  // hashes
  hset, hmset, hsetnx, hget, hmget, hgetall, hkeys, hvals, hdel, hexists, hlen, hstrlen, hincrby, hscan,
  // transactions
  multi, exec, discard,
  // scripting
  evalCommand, evalsha, evalRo, evalshaRo, script,
  // RedisAI
  aiTensorset, aiTensorget,
  aiModelstore, aiModelset, aiModelget, aiModeldel, aiModelexecute, aiModelrun, aiModelscan,
  aiScriptstore, aiScriptset, aiScriptget, aiScriptdel, aiScriptexecute, aiScriptrun, aiScriptscan,
  aiInfo, aiConfig,
  aiDagexecute, aiDagexecuteRo, aiDagrun, aiDagrunRo,
];

/** Every command by lower-case name; the one place a new command is listed. */
export const commandTable: ReadonlyMap<string, Command> = new Map(
  all.map((c) => [c.name, c as Command]),
);
