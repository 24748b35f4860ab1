import { describe, expect, it } from 'vitest';
import { PONG, SimpleString } from '../resp/reply.js';
import { ping } from './ping.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

describe('PING', () => {
  it('no argument: +PONG', () => {
    const r = ping.execute({} as ExecContext, ping.parse([], pctx));
    expect(r).toBe(PONG);
    expect(r).toEqual(new SimpleString('PONG'));
  });

  it('one argument: a bulk string echo', () => {
    expect(ping.execute({} as ExecContext, ping.parse(args('hello'), pctx))).toEqual(Buffer.from('hello'));
  });

  it('two or more arguments: the arity text', () => {
    expect(errorOf(() => ping.parse(args('a', 'b'), pctx))).toBe("ERR wrong number of arguments for 'ping' command");
    expect(errorOf(() => ping.parse(args('a', 'b', 'c'), pctx))).toBe("ERR wrong number of arguments for 'ping' command");
  });
});
