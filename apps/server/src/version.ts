/**
 * The Redis version respai reports (HELLO, INFO redis_version): clients gate features on it, and
 * respai implements the Redis 7.2 behaviours they check for. respai's own version is separate.
 */
export const REDIS_VERSION = '7.2.0';
export const RESPAI_VERSION = '0.1.0';
/** The RedisAI version respai is compatible with (AI.INFO, MODULE LIST). */
export const REDISAI_VERSION = '1.2.7';
