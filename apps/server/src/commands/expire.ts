import { E, fail, keyOf } from '@respai/core';
import { INT64_MAX, INT64_MIN, int64Arg, is } from './args.js';
import { defineCommand, type Command } from './types.js';

interface Request {
  key: string;
  /** The amount in milliseconds, relative to now. */
  ms: bigint;
  /** Redis 7's NX | XX | GT | LT; XX combines with GT or LT. */
  flags: { nx: boolean; xx: boolean; gt: boolean; lt: boolean };
}

/** EXPIRE and PEXPIRE differ only in the unit; both take Redis 7's NX | XX | GT | LT. */
function expireCommand(name: 'expire' | 'pexpire', unitMs: number): Command<Request> {
  return defineCommand<Request>({
    name,
    arity: -3,
    flags: ['write', 'fast'],
    summary: `Sets a key's time to live in ${unitMs === 1 ? 'milliseconds' : 'seconds'}.`,
    group: 'keyspace',
    keys: { first: 1, last: 1, step: 1 },
    parse(args) {
      // Options first, then the amount, in Redis's order (it decides which error is seen).
      const flags = { nx: false, xx: false, gt: false, lt: false };
      for (const a of args.slice(2)) {
        const c = (['NX', 'XX', 'GT', 'LT'] as const).find((k) => is(a, k));
        if (c === undefined) fail(E.expireUnsupportedOption(a.toString()));
        flags[c.toLowerCase() as keyof typeof flags] = true;
      }
      if (flags.nx && (flags.xx || flags.gt || flags.lt)) fail(E.expireNxConflict);
      if (flags.gt && flags.lt) fail(E.expireGtLtConflict);
      // Negative amounts are allowed (the key expires at once); only int64 overflow is an error.
      const amount = int64Arg(args[1]);
      const unit = BigInt(unitMs);
      if (amount > INT64_MAX / unit || amount < INT64_MIN / unit) fail(E.invalidExpire(name));
      return { key: keyOf(args[0]!), ms: amount * unit, flags };
    },
    execute(ctx, { key, ms, flags }) {
      const ks = ctx.keyspace;
      const now = Date.now();
      if (ms > INT64_MAX - BigInt(now)) fail(E.invalidExpire(name));
      if (!ks.has(key)) return 0;
      // Past 2^53 ms (285,000 years) the instant is kept to double precision.
      const at = now + Number(ms);
      const current = ks.expiryOf(key);
      // A key without TTL counts as an infinite TTL for GT / LT, as in Redis.
      if (flags.nx && current !== undefined) return 0;
      if (flags.xx && current === undefined) return 0;
      if (flags.gt && (current === undefined || at <= current)) return 0;
      if (flags.lt && current !== undefined && at >= current) return 0;
      ks.setExpiry(key, at);
      return 1;
    },
  });
}

export const expire = expireCommand('expire', 1000);
export const pexpire = expireCommand('pexpire', 1);
