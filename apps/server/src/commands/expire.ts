import { E, fail, keyOf } from '@respai/core';
import { intArg, is } from './args.js';
import { defineCommand, type Command } from './types.js';

interface Request {
  key: string;
  amount: number;
  cond: 'NX' | 'XX' | 'GT' | 'LT' | undefined;
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
      const amount = intArg(args[1]);
      let cond: Request['cond'];
      for (const a of args.slice(2)) {
        const c = (['NX', 'XX', 'GT', 'LT'] as const).find((k) => is(a, k));
        if (c === undefined) fail(`ERR Unsupported option ${a.toString()}`);
        if (cond !== undefined && cond !== c) fail('ERR NX and XX, GT or LT options at the same time are not compatible');
        cond = c;
      }
      if (!Number.isSafeInteger(amount * unitMs)) fail(E.invalidExpire(name));
      return { key: keyOf(args[0]!), amount, cond };
    },
    execute(ctx, { key, amount, cond }) {
      const ks = ctx.keyspace;
      if (!ks.has(key)) return 0;
      const at = Date.now() + amount * unitMs;
      if (!Number.isSafeInteger(at)) fail(E.invalidExpire(name));
      const current = ks.expiryOf(key);
      // A key without TTL counts as an infinite TTL for GT / LT, as in Redis.
      if (cond === 'NX' && current !== undefined) return 0;
      if (cond === 'XX' && current === undefined) return 0;
      if (cond === 'GT' && (current === undefined || at <= current)) return 0;
      if (cond === 'LT' && current !== undefined && at >= current) return 0;
      ks.setExpiry(key, at);
      return 1;
    },
  });
}

export const expire = expireCommand('expire', 1000);
export const pexpire = expireCommand('pexpire', 1);
