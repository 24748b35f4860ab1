/**
 * One way to send a command over whichever connection the user passed: node-redis 5 (client or
 * cluster) or ioredis 5 (Redis or Cluster). Replies come back with bulk strings as Buffers, so
 * tensor and model bytes are never decoded as text; error replies come back as RespaiError.
 */
import { RespaiError } from './errors.js';

/** A command argument. */
export type Arg = string | Buffer;

/**
 * A reply as the parsers see it: bulk strings as Buffers, simple strings as strings or Buffers
 * (ioredis), integers and RESP3 doubles as numbers, errors nested in arrays as Error values.
 */
export type RawReply = Buffer | string | number | bigint | boolean | null | Error | RawReply[];

/** Where a command goes in a cluster: the node owning `key` (a random one when undefined). */
export interface Route {
  readonly key: string | undefined;
  readonly readonly: boolean;
}

export interface Transport {
  /** Which library and shape the connection is (for messages and tests). */
  readonly kind: 'node-redis' | 'node-redis-cluster' | 'ioredis' | 'ioredis-cluster';
  send(args: readonly Arg[], route: Route): Promise<RawReply>;
}

/** A node-redis 5 client (`createClient()`): what this package uses of it. */
export interface NodeRedisClientLike {
  sendCommand(args: readonly Arg[], options?: { typeMapping?: Record<number, unknown> }): Promise<unknown>;
}

/** A node-redis 5 cluster (`createCluster()`). */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: Arg | undefined,
    isReadonly: boolean | undefined,
    args: readonly Arg[],
    options?: { typeMapping?: Record<number, unknown> },
  ): Promise<unknown>;
  getSlotRandomNode(...args: never[]): unknown;
}

/** An ioredis 5 `Redis`. */
export interface IORedisLike {
  callBuffer(command: string, ...args: Arg[]): Promise<unknown>;
}

/** An ioredis 5 `Cluster`. */
export interface IORedisClusterLike {
  readonly isCluster: true;
  sendCommand(command: unknown): unknown;
}

/** A connection `RespaiClient` accepts. */
export type Connection = NodeRedisClientLike | NodeRedisClusterLike | IORedisLike | IORedisClusterLike;

/** node-redis's RESP type code for bulk strings ('$'): mapped to Buffer so bytes stay bytes. */
const BLOB_STRING = 36;
const NODE_REDIS_OPTIONS = { typeMapping: { [BLOB_STRING]: Buffer } } as const;

const nameOf = (args: readonly Arg[]) => String(args[0]).toUpperCase();

/** Turns the library's error reply into a RespaiError carrying the same text. */
function rethrow(args: readonly Arg[]) {
  return (e: unknown): never => {
    if (isReplyError(e)) throw new RespaiError((e as Error).message, nameOf(args), { cause: e });
    throw e;
  };
}

/**
 * Whether a thrown or nested value is the server's error reply (node-redis: ErrorReply and its
 * subclasses; ioredis: ReplyError), as opposed to a connection failure.
 */
export function isReplyError(e: unknown): e is Error {
  return e instanceof Error && REPLY_ERRORS.has(e.constructor.name);
}
const REPLY_ERRORS = new Set(['ErrorReply', 'SimpleError', 'BlobError', 'ReplyError']);

function isNodeRedisCluster(c: object): c is NodeRedisClusterLike {
  return typeof (c as NodeRedisClusterLike).getSlotRandomNode === 'function' && typeof (c as NodeRedisClusterLike).sendCommand === 'function';
}

function isIORedisCluster(c: object): c is IORedisClusterLike {
  return (c as { isCluster?: unknown }).isCluster === true && typeof (c as IORedisClusterLike).sendCommand === 'function';
}

function isIORedis(c: object): c is IORedisLike {
  return typeof (c as IORedisLike).callBuffer === 'function';
}

function isNodeRedis(c: object): c is NodeRedisClientLike {
  return typeof (c as NodeRedisClientLike).sendCommand === 'function';
}

/** The transport for `connection`, by the shape of the object (no library is imported here). */
export function transportFor(connection: Connection): Transport {
  const c = connection as object;
  if (c === null || typeof c !== 'object') throw new TypeError('RespaiClient needs a node-redis or ioredis connection');
  if (isIORedisCluster(c)) return ioredisCluster(c);
  if (isIORedis(c)) return ioredis(c);
  if (isNodeRedisCluster(c)) return nodeRedisCluster(c);
  if (isNodeRedis(c)) return nodeRedis(c);
  throw new TypeError('RespaiClient needs a node-redis 5 client or cluster, or an ioredis 5 Redis or Cluster');
}

function nodeRedis(c: NodeRedisClientLike): Transport {
  return {
    kind: 'node-redis',
    send: (args) => (c.sendCommand(args, NODE_REDIS_OPTIONS) as Promise<RawReply>).catch(rethrow(args)),
  };
}

function nodeRedisCluster(c: NodeRedisClusterLike): Transport {
  return {
    kind: 'node-redis-cluster',
    send: (args, route) =>
      (c.sendCommand(route.key, route.readonly, args, NODE_REDIS_OPTIONS) as Promise<RawReply>).catch(rethrow(args)),
  };
}

function ioredis(c: IORedisLike): Transport {
  return {
    kind: 'ioredis',
    send: (args) => (c.callBuffer(String(args[0]), ...args.slice(1)) as Promise<RawReply>).catch(rethrow(args)),
  };
}

interface IORedisCommandCtor {
  new (name: string, args: Arg[], options: { replyEncoding: null }): {
    promise: Promise<unknown>;
    getKeys(): Arg[];
    isReadOnly?: boolean;
  };
}

/**
 * ioredis's Cluster routes by its own table of commands, which has no AI.* command, so it would
 * send them to any node. A Command whose getKeys() names the routing key goes to the key's node.
 */
function ioredisCluster(c: IORedisClusterLike): Transport {
  let Routed: Promise<IORedisCommandCtor> | undefined;
  const routed = () =>
    (Routed ??= import('ioredis').then((m) => {
      const Command = (m as unknown as { Command: IORedisCommandCtor }).Command;
      return class extends Command {
        routeKey: Arg | undefined;
        override getKeys(): Arg[] {
          return this.routeKey === undefined ? [] : [this.routeKey];
        }
      } as unknown as IORedisCommandCtor;
    }));
  return {
    kind: 'ioredis-cluster',
    async send(args, route) {
      const Cmd = await routed();
      const cmd = new Cmd(String(args[0]), args.slice(1), { replyEncoding: null });
      (cmd as unknown as { routeKey: Arg | undefined }).routeKey = route.key;
      cmd.isReadOnly = route.readonly;
      c.sendCommand(cmd);
      return (cmd.promise as Promise<RawReply>).catch(rethrow(args));
    },
  };
}
