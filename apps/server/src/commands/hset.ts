import { E, fail, keyOf } from '@respai/core';
import { OK } from '../resp/reply.js';
import { own } from './collection-args.js';
import { defineCommand, type Command } from './types.js';

interface Request {
  key: string;
  fields: string[];
  values: Buffer[];
}

/** HSET replies the number of fields added; HMSET (deprecated) replies OK. */
function hsetLike(name: 'hset' | 'hmset'): Command<Request> {
  return defineCommand<Request>({
    name,
    arity: -4,
    flags: ['write', 'fast'],
    summary: name === 'hset' ? 'Sets fields of a hash; returns how many were added.' : 'Sets fields of a hash (deprecated: use HSET).',
    group: 'hash',
    keys: { first: 1, last: 1, step: 1 },
    parse(args) {
      if (args.length % 2 === 0) fail(E.arity(name));
      const fields: string[] = [];
      const values: Buffer[] = [];
      for (let i = 1; i < args.length; i += 2) {
        fields.push(keyOf(args[i]!));
        values.push(args[i + 1]!);
      }
      return { key: keyOf(args[0]!), fields, values };
    },
    execute(ctx, { key, fields, values }) {
      const n = ctx.keyspace.apply(key, { kind: 'hset', fields, values: values.map(own) }).n;
      return name === 'hset' ? n : OK;
    },
  });
}

export const hset = hsetLike('hset');
export const hmset = hsetLike('hmset');
