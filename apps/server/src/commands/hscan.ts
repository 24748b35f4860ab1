import { E, fail, keyOf, keyToBuffer, type HashValue } from '@respai/core';
import { globMatch } from '../util/glob.js';
import { is, parseCursor } from './args.js';
import { longArg } from './collection-args.js';
import { defineCommand } from './types.js';

interface Request {
  key: string;
  cursor: bigint;
  options: readonly Buffer[];
}

/** Redis's hash-max-listpack-entries / -value defaults: below both, a hash is small. */
const SMALL_ENTRIES = 128;
const SMALL_VALUE = 64;

function isSmall(h: HashValue): boolean {
  if (h.size > SMALL_ENTRIES) return false;
  for (const [f, v] of h) if (f.length > SMALL_VALUE || v.length > SMALL_VALUE) return false;
  return true;
}

/**
 * Open iterations of large hashes. A JS Map iterator stays valid while the map changes (deleted
 * fields are skipped, added ones are visited), so resuming one gives SCAN's guarantee: a field
 * present for the whole iteration is returned. A cursor this server does not know (evicted, or
 * from before a restart) starts again from the beginning, which keeps the guarantee too.
 */
const open = new WeakMap<HashValue, Map<bigint, IterableIterator<[string, Buffer]>>>();
const MAX_OPEN = 16;
let nextCursor = 1n;

export const hscan = defineCommand<Request>({
  name: 'hscan',
  arity: -3,
  flags: ['readonly'],
  summary: 'Iterates over the fields and values of a hash with a cursor (MATCH, COUNT).',
  group: 'hash',
  keys: { first: 1, last: 1, step: 1 },
  parse: (args) => ({ key: keyOf(args[0]!), cursor: parseCursor(args[1]!), options: args.slice(2) }),
  execute(ctx, { key, cursor, options }) {
    // As Redis: the key (and its type) is looked at before the options are.
    const h = ctx.keyspace.getTyped(key, 'hash');
    if (h === undefined) return ['0', []];
    let count = 10;
    let match: string | undefined;
    for (let i = 0; i < options.length; i += 2) {
      const more = i + 1 < options.length;
      if (is(options[i], 'COUNT') && more) {
        count = longArg(options[i + 1]!);
        if (count < 1) fail(E.syntax);
      } else if (is(options[i], 'MATCH') && more) {
        match = options[i + 1]!.toString('latin1');
        if (match === '*') match = undefined;
      } else fail(E.syntax);
    }
    const out: Buffer[] = [];
    const add = (f: string, v: Buffer) => {
      if (match === undefined || globMatch(match, f)) out.push(keyToBuffer(f), v);
    };
    if (isSmall(h)) {
      // A small hash is returned whole, whatever the cursor, like a listpack-encoded one.
      for (const [f, v] of h) add(f, v);
      return ['0', out];
    }
    let iters = open.get(h);
    if (iters === undefined) open.set(h, (iters = new Map()));
    let it = cursor === 0n ? undefined : iters.get(cursor);
    iters.delete(cursor);
    it ??= h.entries();
    for (let n = 0; n < count; n++) {
      const r = it.next();
      if (r.done) return ['0', out];
      add(r.value[0], r.value[1]);
    }
    const next = nextCursor++;
    iters.set(next, it);
    if (iters.size > MAX_OPEN) iters.delete(iters.keys().next().value!);
    return [next.toString(), out];
  },
});
