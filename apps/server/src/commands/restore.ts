import { DumpVersionError, E, RdbError, fail, keyOf, rdbToStored, readDump, releaseValue, type Key, type Keyspace, type Value } from '@respai/core';
import { OK, type Reply } from '../resp/reply.js';
import { is, parseInt64 } from './args.js';
import { defineTwoPhase } from './types.js';

export interface RestoreRequest {
  key: Key;
  /** The TTL argument as an integer; undefined when it is not one (Redis reports that after BUSYKEY). */
  ttl: bigint | undefined;
  payload: Buffer;
  replace: boolean;
  absttl: boolean;
}

/** RESTORE's options, parsed in Redis's order: IDLETIME and FREQ exclude each other (a syntax error). */
export function parseRestore(args: readonly Buffer[]): RestoreRequest {
  let replace = false;
  let absttl = false;
  let idle = false;
  let freq = false;
  for (let j = 3; j < args.length; j++) {
    const more = args.length - j - 1;
    const a = args[j];
    if (is(a, 'REPLACE')) replace = true;
    else if (is(a, 'ABSTTL')) absttl = true;
    else if (is(a, 'IDLETIME') && more >= 1 && !freq) {
      const v = parseInt64(args[++j]!);
      if (v === undefined) fail(E.notInteger);
      if (v < 0n) fail(E.restoreBadIdletime);
      idle = true;
    } else if (is(a, 'FREQ') && more >= 1 && !idle) {
      const v = parseInt64(args[++j]!);
      if (v === undefined) fail(E.notInteger);
      if (v < 0n || v > 255n) fail(E.restoreBadFreq);
      freq = true;
    } else fail(E.syntax);
  }
  return { key: keyOf(args[0]!), ttl: parseInt64(args[1]!), payload: args[2]!, replace, absttl };
}

/** The absolute expiry (ms) the TTL asks for, 0 for none. */
function expiryOf(ttl: bigint, absttl: boolean, now: number): number {
  if (ttl === 0n) return 0;
  const at = absttl ? ttl : ttl + BigInt(now);
  return at > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(at);
}

/** Sets the restored value as Redis does: an expiry already past only deletes what REPLACE replaced. */
function store(ks: Keyspace, req: RestoreRequest, value: Value): Reply {
  if (!req.replace && ks.has(req.key)) {
    // A model loaded while another client created the key.
    releaseValue(value);
    fail(E.busyKey);
  }
  const now = Date.now();
  const expireAt = expiryOf(req.ttl!, req.absttl, now);
  if (expireAt !== 0 && expireAt <= now) {
    if (req.replace) ks.delete(req.key);
    releaseValue(value);
    return OK;
  }
  ks.set(req.key, value, expireAt === 0 ? {} : { expireAt });
  return OK;
}

/**
 * RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], as
 * Redis 7 (payloads of RDB versions up to 11). Models and scripts are loaded through their
 * backends like AI.MODELSTORE / AI.SCRIPTSTORE: one its backend refuses gets the backend's error,
 * and nothing is written. IDLETIME and FREQ are checked and ignored (respai does not evict).
 */
export const restore = defineTwoPhase<RestoreRequest>({
  name: 'restore',
  arity: -4,
  flags: ['write'],
  summary: 'Creates a key from the serialized representation of a value (DUMP).',
  group: 'keyspace',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => parseRestore(args),
  // Everything but the write happens here (models and scripts load through their backends); the
  // commit checks the key again and writes, so RESTORE inside MULTI stays atomic.
  async prepare(ctx, req): Promise<() => Reply> {
    const ks = ctx.keyspace;
    if (!req.replace && ks.has(req.key)) fail(E.busyKey);
    if (req.ttl === undefined) fail(E.notInteger);
    if (req.ttl < 0n) fail(E.restoreBadTtl);
    let v;
    try {
      v = readDump(req.payload);
    } catch (e) {
      if (e instanceof DumpVersionError) fail(E.dumpPayloadInvalid);
      if (e instanceof RdbError) {
        ctx.server.log.debug({ key: req.key.slice(0, 200), reason: e.message }, 'RESTORE: bad data format');
        fail(E.badDataFormat);
      }
      throw e;
    }
    const engine = ctx.server.engine;
    switch (v.kind) {
      case 'string':
        return () => store(ks, req, { type: 'string', value: v.value });
      case 'tensor':
        return () => store(ks, req, { type: 'tensor', value: v.value });
      case 'model': {
        // INPUTS/OUTPUTS are the user's only for TF; the other backends name them from the model.
        const spec = v.value.backend === 'TF' ? v.value : { ...v.value, inputs: [], outputs: [] };
        const m = await engine.createModel(spec);
        return () => store(ks, req, { type: 'model', value: m });
      }
      case 'script': {
        const s = await engine.createScript(v.value);
        return () => store(ks, req, { type: 'script', value: s });
      }
      case 'list':
      case 'hash': {
        // Redis refuses an empty one (an "empty key") as bad data.
        const stored = rdbToStored(v);
        if (stored === undefined) fail(E.badDataFormat);
        return () => store(ks, req, stored as Value);
      }
      default:
        fail(E.restoreUnsupportedType(v.type === 'set' || v.type === 'zset' || v.type === 'stream' ? v.type : `value of the module type ${v.type}`));
    }
  },
});
