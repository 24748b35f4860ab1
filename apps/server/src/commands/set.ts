import { E, fail, keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { INT64_MAX, int64Arg, is } from './args.js';
import { defineCommand } from './types.js';

interface Request {
  key: string;
  value: Buffer;
  cond: 'NX' | 'XX' | undefined;
  get: boolean;
  /** Absolute or relative expiry, resolved at execution. */
  expire: { unit: 'EX' | 'PX' | 'EXAT' | 'PXAT'; ms: bigint } | 'KEEPTTL' | undefined;
}

export const set = defineCommand<Request>({
  name: 'set',
  arity: -3,
  flags: ['write'],
  summary: 'Sets the string value of a key (EX, PX, EXAT, PXAT, KEEPTTL, NX, XX, GET).',
  group: 'string',
  keys: { first: 1, last: 1, step: 1 },
  parse(args) {
    const req: Request = { key: keyOf(args[0]!), value: args[1]!, cond: undefined, get: false, expire: undefined };
    // As Redis's parseExtendedStringArgumentsOrReply: an option may repeat (the last amount wins),
    // only conflicting ones are a syntax error, and the amount is checked after every option.
    let unit: 'EX' | 'PX' | 'EXAT' | 'PXAT' | undefined;
    let keepTtl = false;
    let amountArg: Buffer | undefined;
    for (let i = 2; i < args.length; i++) {
      const a = args[i];
      const next = i + 1 < args.length;
      if (is(a, 'NX') && req.cond !== 'XX') req.cond = 'NX';
      else if (is(a, 'XX') && req.cond !== 'NX') req.cond = 'XX';
      else if (is(a, 'GET')) req.get = true;
      else if (is(a, 'KEEPTTL') && unit === undefined) keepTtl = true;
      else {
        const u = (['EX', 'PX', 'EXAT', 'PXAT'] as const).find((x) => is(a, x));
        if (u === undefined || keepTtl || (unit !== undefined && unit !== u) || !next) fail(E.syntax);
        unit = u;
        amountArg = args[++i];
      }
    }
    if (keepTtl) req.expire = 'KEEPTTL';
    else if (unit !== undefined) {
      const amount = int64Arg(amountArg);
      const seconds = unit === 'EX' || unit === 'EXAT';
      if (amount <= 0n || (seconds && amount > INT64_MAX / 1000n)) fail(E.invalidExpire('set'));
      req.expire = { unit, ms: seconds ? amount * 1000n : amount };
    }
    return req;
  },
  execute(ctx, req) {
    const ks = ctx.keyspace;
    // GET reads first: WRONGTYPE aborts the SET, as in Redis.
    const old = req.get ? (ks.getTyped(req.key, 'string') ?? null) : undefined;
    const exists = ks.has(req.key);
    if ((req.cond === 'NX' && exists) || (req.cond === 'XX' && !exists)) return req.get ? old! : null;
    let expireAt: number | undefined;
    if (req.expire !== undefined && req.expire !== 'KEEPTTL') {
      const { unit, ms } = req.expire;
      const at = unit === 'EX' || unit === 'PX' ? BigInt(Date.now()) + ms : ms;
      // Redis's int64 sum wraps past the maximum and is then refused.
      if (at > INT64_MAX) fail(E.invalidExpire('set'));
      expireAt = Number(at);
    }
    // Keep a private copy: the argument may be a view into a large socket read.
    const value = Buffer.from(req.value);
    ks.set(req.key, { type: 'string', value }, req.expire === 'KEEPTTL' ? { keepTtl: true } : expireAt === undefined ? {} : { expireAt });
    return req.get ? old! : OK;
  },
});
