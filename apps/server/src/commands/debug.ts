import { createHash } from 'node:crypto';
import { E, createDump, fail, keyOf, type Key, type Keyspace, type Value } from '@respai/core';
import { OK, SimpleString } from '../resp/reply.js';
import { is } from './args.js';
import { persistenceOf } from './persistence-of.js';
import { defineCommand } from './types.js';

export type DebugRequest =
  | { op: 'help' }
  | { op: 'reload'; save: boolean; flush: boolean; merge: boolean }
  | { op: 'digest' }
  | { op: 'digest-value'; keys: Key[] };

const HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DIGEST',
  '    Output a hex signature representing the current DB content.',
  'DIGEST-VALUE <key> [<key> ...]',
  '    Output a hex signature of the values of all the specified keys.',
  'RELOAD [MERGE] [NOFLUSH] [NOSAVE]',
  '    Save the RDB on disk and reload it back to memory. Use the NOSAVE option to',
  "    skip saving the RDB file. Use the NOFLUSH option to skip flushing the current",
  '    dataset. Use the MERGE option to allow keys that already exist in memory.',
  'HELP',
  '    Print this help.',
];

export function parseDebug(args: readonly Buffer[]): DebugRequest {
  const sub = args[0]!;
  if (is(sub, 'HELP') && args.length === 1) return { op: 'help' };
  if (is(sub, 'DIGEST') && args.length === 1) return { op: 'digest' };
  if (is(sub, 'DIGEST-VALUE')) return { op: 'digest-value', keys: args.slice(1).map(keyOf) };
  if (is(sub, 'RELOAD')) {
    const r = { op: 'reload' as const, save: true, flush: true, merge: false };
    for (const a of args.slice(1)) {
      if (is(a, 'MERGE')) r.merge = true;
      else if (is(a, 'NOFLUSH')) r.flush = false;
      else if (is(a, 'NOSAVE')) r.save = false;
      else fail(E.debugReloadOptions);
    }
    return r;
  }
  fail(E.subcommandOrArity(sub.toString().slice(0, 128), 'debug'));
}

// ---- Redis's dataset digest (debug.c) --------------------------------------------------------

const sha1 = (...parts: Uint8Array[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};
function xorDigest(digest: Buffer, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) digest[i]! ^= h[i]!;
}
/** digest = SHA1(digest xor SHA1(data)): order-preserving. */
function mixDigest(digest: Buffer, data: Uint8Array): void {
  xorDigest(digest, data);
  sha1(digest).copy(digest);
}
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
/** Redis's object type numbers. */
const OBJ_STRING = 0;
const OBJ_LIST = 1;
const OBJ_HASH = 4;
const OBJ_MODULE = 5;

/**
 * xorObjectDigest: the object type, the value, an expiry marker. Strings as Redis digests them.
 * AI values are module values; the original engine gives them no digest callback (so Redis mixes
 * nothing for them), where respai mixes their serialization, so a digest tells tensors apart.
 */
function objectDigest(digest: Buffer, v: Value, hasExpiry: boolean, modelChunkSize: number): void {
  if (v.type === 'string') {
    mixDigest(digest, u32be(OBJ_STRING));
    mixDigest(digest, v.value);
  } else if (v.type === 'list') {
    mixDigest(digest, u32be(OBJ_LIST));
    for (const e of v.value) mixDigest(digest, e);
  } else if (v.type === 'hash') {
    // Field/value pairs are xored together: their order does not matter.
    mixDigest(digest, u32be(OBJ_HASH));
    for (const [f, x] of v.value) {
      const e = Buffer.alloc(20);
      mixDigest(e, Buffer.from(f, 'latin1'));
      mixDigest(e, x);
      xorDigest(digest, e);
    }
  } else {
    mixDigest(digest, u32be(OBJ_MODULE));
    const p = createDump(v, { modelChunkSize, compress: false });
    mixDigest(digest, p.subarray(0, p.length - 10));
  }
  if (hasExpiry) xorDigest(digest, Buffer.from('!!expire!!'));
}

/** DEBUG DIGEST: 40 hex zeros for an empty keyspace, as Redis. */
export function datasetDigest(ks: Keyspace, modelChunkSize: number): string {
  const final = Buffer.alloc(20);
  if (ks.size === 0) return final.toString('hex');
  mixDigest(final, u32be(0)); // the database number
  for (const key of ks.keys()) {
    const v = ks.get(key);
    if (v === undefined) continue;
    const d = Buffer.alloc(20);
    mixDigest(d, Buffer.from(key, 'latin1'));
    objectDigest(d, v, ks.expiryOf(key) !== undefined, modelChunkSize);
    xorDigest(final, d); // final ^= SHA1(d), as Redis's xorDigest(final, digest, 20)
  }
  return final.toString('hex');
}

export function valueDigest(ks: Keyspace, key: Key, modelChunkSize: number): string {
  const d = Buffer.alloc(20);
  const v = ks.get(key);
  if (v !== undefined) objectDigest(d, v, ks.expiryOf(key) !== undefined, modelChunkSize);
  return d.toString('hex');
}

/**
 * DEBUG: RELOAD (save, load the snapshot back; see Persistence.reload), DIGEST, DIGEST-VALUE and
 * HELP. Redis 7 needs enable-debug-command for it; respai allows these always (none of them is
 * dangerous: the rest of Redis's DEBUG subcommands are not implemented).
 */
export const debug = defineCommand<DebugRequest>({
  name: 'debug',
  arity: -2,
  flags: ['admin', 'nomulti'],
  summary: 'A container for debugging commands: RELOAD, DIGEST, DIGEST-VALUE.',
  group: 'server',
  parse: (args) => parseDebug(args),
  execute(ctx, req) {
    const chunk = ctx.server.engine.config.modelChunkSize;
    switch (req.op) {
      case 'help':
        return HELP.map((l) => new SimpleString(l));
      case 'digest':
        return new SimpleString(datasetDigest(ctx.keyspace, chunk));
      case 'digest-value':
        return req.keys.map((k) => new SimpleString(valueDigest(ctx.keyspace, k, chunk)));
      case 'reload': {
        // Flagged nomulti (never queued): Redis refuses it inside MULTI as SAVE is refused.
        if (ctx.client.multi !== undefined) {
          ctx.client.multiDirty = true;
          fail(E.notInMulti);
        }
        const p = persistenceOf(ctx);
        const log = ctx.server.log;
        let started: Promise<unknown>;
        try {
          started = p.reload(req);
        } catch (e) {
          log.warn({ err: (e as Error).message }, 'DEBUG RELOAD: saving the snapshot failed');
          fail(E.debugReloadSaveFailed);
        }
        return started.then(
          () => OK,
          (e: Error) => {
            log.warn({ err: e.message }, 'DEBUG RELOAD: loading the snapshot failed');
            fail(E.debugReloadLoadFailed);
          },
        );
      }
    }
  },
});
