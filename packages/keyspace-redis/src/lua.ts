import { createHash } from 'node:crypto';
import { E } from '@respai/core';

/**
 * The store-side scripts (docs/scale-out.md, "How commands run"). Lua scripts run atomically, so a
 * type check cannot race with the write it guards, and a DAG's PERSIST keys appear all at once.
 */
export interface StoreScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

const script = (name: string, source: string): StoreScript => ({ name, source, sha: createHash('sha1').update(source).digest('hex') });

/** Catalog texts as Lua string literals (a JSON string is one for these ASCII texts). */
const WRONGTYPE = JSON.stringify(E.wrongType);
const BUSYKEY = JSON.stringify(E.busyKey);

/**
 * Replaces every key of KEYS with a respai value of one type, or changes nothing.
 * ARGV[1]: the marker value (AI_TENSOR, AI__MODEL, AI_SCRIPT); ARGV[2]: n, the field/value pairs
 * per key; then for each key in order, its n pairs. Each key must be missing or already a hash
 * with that marker (WRONGTYPE otherwise, before anything is written). Replies the number of keys.
 */
export const SET_VALUES = script(
  'respai-set',
  `local marker = ARGV[1]
local n = tonumber(ARGV[2])
for i = 1, #KEYS do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'none' and (t ~= 'hash' or redis.call('HGET', KEYS[i], 'respai:type') ~= marker) then
    return redis.error_reply(${WRONGTYPE})
  end
end
local at = 3
for i = 1, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('HSET', KEYS[i], 'respai:type', marker, unpack(ARGV, at, at + 2 * n - 1))
  at = at + 2 * n
end
return #KEYS`,
);

/**
 * Deletes KEYS[1] if it holds a respai value with marker ARGV[1]: replies 1 when deleted, 0 when
 * missing, WRONGTYPE for anything else.
 */
export const DELETE_VALUE = script(
  'respai-del',
  `local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return 0 end
if t ~= 'hash' or redis.call('HGET', KEYS[1], 'respai:type') ~= ARGV[1] then
  return redis.error_reply(${WRONGTYPE})
end
return redis.call('DEL', KEYS[1])`,
);

/**
 * RESTORE of a respai value (a RedisAI DUMP payload, decoded by the node): KEYS[1]; ARGV[1] the
 * marker, ARGV[2] '1' for REPLACE, ARGV[3] the absolute expiry in ms ('0': none), then the
 * field/value pairs. Redis's BUSYKEY when the key exists without REPLACE; REPLACE overwrites a key
 * of any type, as RESTORE does.
 */
export const RESTORE_VALUE = script(
  'respai-restore',
  `if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[2] ~= '1' then return redis.error_reply(${BUSYKEY}) end
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'respai:type', ARGV[1], unpack(ARGV, 4))
if ARGV[3] ~= '0' then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return 1`,
);
