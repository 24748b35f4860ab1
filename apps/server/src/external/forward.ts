import { E, fail } from '@respai/core';
import {
  AI_TYPE_NAMES,
  FORWARD_TYPES,
  MARKER,
  StoreError,
  StoreErrorReply,
  VerbatimString,
  aiTypeOf,
  type ExternalKeyspace,
  type Field,
  type StoreArg,
} from '@respai/keyspace-redis';
import { BoolReply, ErrorReply, MapReply, NilArray, SetReply, SimpleString, VerbatimReply, type Reply } from '../resp/reply.js';
import { intArg, is } from '../commands/args.js';
import type { Command } from '../commands/types.js';

/**
 * Non-AI commands in external mode (docs/scale-out.md, "How commands run"): sent to the store as
 * they are, their RESP3 replies turned back into respai's replies, which the client's connection
 * encodes in its own protocol.
 */

const INTEGER = /^-?[0-9]+$/;

/** A store reply (decoded with FORWARD_TYPES) as respai's reply. */
export function toReply(v: unknown): Reply {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof VerbatimString) return new VerbatimReply(v.format, v.toString());
  if (typeof v === 'string') {
    // Integers and simple strings both arrive as strings (see FORWARD_TYPES): no simple-string
    // reply of a forwarded command is made of digits.
    if (INTEGER.test(v)) {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : BigInt(v);
    }
    return new SimpleString(v);
  }
  if (Array.isArray(v)) return v.map(toReply);
  if (v instanceof Map) return new MapReply([...v].map(([k, x]) => [toReply(k), toReply(x)] as const));
  if (v instanceof Set) return new SetReply([...v].map(toReply));
  if (typeof v === 'boolean') return new BoolReply(v);
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof StoreErrorReply) return new ErrorReply(v.message);
  if (v instanceof StoreError) return new ErrorReply(v.text);
  return new SimpleString(String(v));
}

/**
 * The key a command is routed by in a Cluster: its first key (COMMAND INFO positions), or for the
 * EVAL family the first of its numkeys keys; undefined for a keyless command (any master).
 */
export function routeKey(command: Command, argv: readonly Buffer[]): Buffer | undefined {
  if (command.name.startsWith('eval')) {
    const n = argv[2] === undefined ? 0 : Number(argv[2].toString('latin1'));
    return n > 0 ? argv[3] : undefined;
  }
  const first = command.keys?.first ?? 0;
  return first > 0 ? argv[first] : undefined;
}

/** The reply RESP3 cannot tell from a null bulk: LPOP/RPOP with a count on a missing key is a null array in RESP2. */
function nullArray(command: Command, argv: readonly Buffer[], r: Reply): Reply {
  if (r === null && (command.name === 'lpop' || command.name === 'rpop') && argv.length > 2) return NilArray.instance;
  return r;
}

/** One command sent to the store as it is. */
export async function forward(ext: ExternalKeyspace, command: Command, argv: readonly Buffer[]): Promise<Reply> {
  const write = !command.flags.includes('readonly');
  const r = await ext.store.send(argv, routeKey(command, argv), FORWARD_TYPES, write);
  return nullArray(command, argv, toReply(r));
}

/** TYPE, with the marker read in the same round trip so respai values show their AI type name. */
export async function type(ext: ExternalKeyspace, key: Buffer): Promise<Reply> {
  const [t, marker] = await Promise.all([
    ext.store.send(['TYPE', key], key, FORWARD_TYPES),
    ext.store.send(['HGET', key, MARKER], key).catch(() => null) as Promise<Field>,
  ]);
  const ai = t === 'hash' ? aiTypeOf(marker) : undefined;
  return new SimpleString(ai === undefined ? String(t) : AI_TYPE_NAMES[ai]);
}

/** Commands run on every master, their replies merged. */
export async function allMasters(ext: ExternalKeyspace, command: Command, argv: readonly Buffer[]): Promise<Reply> {
  const replies = (await ext.store.eachMaster(argv)).map(toReply);
  switch (command.name) {
    case 'keys':
      return replies.flatMap((r) => r as Reply[]);
    case 'dbsize':
      return replies.reduce<number>((n, r) => n + Number(r), 0);
    case 'lastsave':
      return replies.reduce<number>((n, r) => Math.min(n, Number(r)), Infinity);
    case 'script':
      // SCRIPT EXISTS: known only if every master knows it; the rest (LOAD, FLUSH...) alike everywhere.
      if (is(argv[1], 'EXISTS')) return (replies[0] as Reply[]).map((_, i) => (replies.every((r) => Number((r as Reply[])[i]) === 1) ? 1 : 0));
      return replies[0]!;
    default:
      return replies.find((r) => r instanceof ErrorReply) ?? replies[0]!;
  }
}

const SLOTS = 16384n;
const U64 = /^[0-9]{1,20}$/;

/**
 * SCAN over every master: the cursor is (the master's cursor) x 16384 + (the master's index), the
 * masters walked in turn (a standalone store's cursors pass unchanged). `TYPE` with an AI type
 * name scans the hashes and keeps those whose marker names it; `TYPE hash` drops them.
 */
export async function scan(ext: ExternalKeyspace, argv: readonly Buffer[]): Promise<Reply> {
  const c = argv[1]!.toString('latin1');
  if (!U64.test(c) || BigInt(c) >= 1n << 64n) fail(E.invalidCursor);
  const options: StoreArg[] = [];
  let aiType: string | undefined;
  let hashOnly = false;
  for (let i = 2; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) fail(E.syntax);
    if (is(argv[i], 'COUNT') && intArg(v) < 1) fail(E.syntax);
    if (is(argv[i], 'TYPE')) {
      const t = v.toString('latin1').toUpperCase();
      aiType = Object.values(AI_TYPE_NAMES).find((n) => n === t);
      hashOnly = t === 'HASH';
      options.push(argv[i]!, aiType !== undefined ? 'hash' : v);
    } else if (is(argv[i], 'MATCH') || is(argv[i], 'COUNT')) options.push(argv[i]!, v);
    else fail(E.syntax);
  }
  const cursor = BigInt(c);
  const cluster = ext.store.mode === 'cluster';
  const index = cluster ? Number(cursor % SLOTS) : 0;
  const own = cluster ? cursor / SLOTS : cursor;
  const { reply, masters } = await ext.store.onMaster(index, ['SCAN', String(own), ...options]);
  if (reply === undefined) return ['0', []];
  const [nextRaw, found] = reply as [Buffer, Buffer[]];
  const next = BigInt(nextRaw.toString('latin1'));
  let keys = found;
  if (aiType !== undefined || hashOnly) {
    const markers = (await Promise.all(found.map((k) => ext.store.send(['HGET', k, MARKER], k).catch(() => null)))) as Field[];
    keys = found.filter((_, i) => {
      const t = aiTypeOf(markers[i]);
      return aiType !== undefined ? t !== undefined && AI_TYPE_NAMES[t] === aiType : t === undefined;
    });
  }
  let out: bigint;
  if (!cluster) out = next;
  else if (next !== 0n) out = next * SLOTS + BigInt(index);
  else out = index + 1 < masters ? BigInt(index + 1) : 0n;
  return [String(out), keys];
}
