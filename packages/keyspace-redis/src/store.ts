import { readFileSync } from 'node:fs';
import {
  ErrorReply as StoreErrorReply,
  MultiErrorReply,
  RESP_TYPES,
  TimeoutError,
  VerbatimString,
  createClient,
  createCluster,
  type RedisClientType,
  type RedisClusterType,
  type TypeMapping,
} from '@redis/client';
import { E, RespaiError } from '@respai/core';
import type { StoreScript } from './lua.js';

export interface StoreOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://...` of a standalone server. */
  url?: string;
  /** `host:port` seeds of a Cluster. */
  clusterNodes?: readonly string[];
  username?: string;
  password?: string;
  tls?: boolean;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** A store request not answered by then fails with `ERR keyspace unavailable: timeout`. */
  timeoutMs: number;
  /** Health and topology check period (0: none, for tests driving `check()` themselves). */
  checkIntervalMs: number;
  log?: StoreLog;
}

export interface StoreLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export type StoreArg = string | Buffer;

/**
 * How replies of forwarded commands are decoded, so respai can re-encode them in its client's
 * protocol: bulk strings as Buffers, maps as Maps, sets as Sets, verbatim strings as
 * VerbatimString, and simple strings, integers and doubles as strings (node-redis decodes
 * integers into JS numbers otherwise, which would round those past 2^53). The three are told apart
 * by their text, which is unambiguous for the commands respai forwards (no simple-string reply of
 * theirs is a number).
 */
export const FORWARD_TYPES = {
  [RESP_TYPES.BLOB_STRING]: Buffer,
  [RESP_TYPES.NUMBER]: String,
  [RESP_TYPES.DOUBLE]: String,
  [RESP_TYPES.BIG_NUMBER]: String,
  [RESP_TYPES.VERBATIM_STRING]: VerbatimString,
  [RESP_TYPES.MAP]: Map,
  [RESP_TYPES.SET]: Set,
} as const satisfies TypeMapping;

/** How respai's own reads are decoded: field values as Buffers, integers as numbers. */
export const DATA_TYPES = { [RESP_TYPES.BLOB_STRING]: Buffer } as const satisfies TypeMapping;

/** node-redis's reply types that forwarded replies may hold. */
export { StoreErrorReply, VerbatimString };

/** A store reply that is an error, inside an array (EXEC's replies). */
export class StoreError {
  constructor(readonly text: string) {}
}

/** Server replies that mean the store (or this slot's shard) cannot serve now. */
const UNAVAILABLE_REPLIES = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|BUSY|READONLY)\b/;

type AnyClient = RedisClientType<any, any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type AnyCluster = RedisClusterType<any, any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface StoreState {
  mode: 'standalone' | 'cluster';
  status: 'ok' | 'down';
  lastError: string;
  masters: string[];
  topologyRefreshes: number;
  requests: number;
  errors: number;
  timeouts: number;
}

/**
 * The store: one node-redis 5 client (standalone) or cluster client, speaking RESP3, that
 * pipelines what is sent in one tick. Adds what node-redis leaves to its user: one deadline per
 * request, every connection-level failure as `ERR keyspace unavailable: ...`, and (Cluster) a
 * topology refresh after failures, since node-redis re-reads the slot map only on MOVED/ASK.
 */
export class Store {
  readonly mode: 'standalone' | 'cluster';
  private readonly client: AnyClient | undefined;
  private readonly cluster: AnyCluster | undefined;
  private readonly timeoutMs: number;
  private readonly log: StoreLog | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private connecting: Promise<void> | undefined;
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private readonly checks: (() => Promise<void> | void)[] = [];
  readonly state: StoreState;
  /** `host:port` of a standalone store (never its credentials), for INFO. */
  private readonly address: string;

  constructor(options: StoreOptions) {
    this.timeoutMs = options.timeoutMs;
    this.log = options.log;
    const tlsFiles = {
      ...(options.tlsCaFile ? { ca: readFileSync(options.tlsCaFile) } : {}),
      ...(options.tlsCertFile ? { cert: readFileSync(options.tlsCertFile) } : {}),
      ...(options.tlsKeyFile ? { key: readFileSync(options.tlsKeyFile) } : {}),
    };
    const tls = options.tls === true || options.url?.startsWith('rediss://') === true;
    const socket = {
      connectTimeout: options.timeoutMs,
      // Reconnect at once, then back off to one try a second; never give up.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1000),
      ...(tls ? { tls: true as const, ...tlsFiles } : {}),
    };
    const auth = {
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    };
    if (options.clusterNodes !== undefined && options.clusterNodes.length > 0) {
      this.mode = 'cluster';
      this.address = '';
      this.cluster = createCluster({
        rootNodes: options.clusterNodes.map((n) => {
          const { host, port } = parseHostPort(n);
          return { socket: { host, port } };
        }),
        defaults: { socket, ...auth, disableOfflineQueue: true },
        RESP: 3,
        useReplicas: false,
        maxCommandRedirections: 16,
      }) as AnyCluster;
      this.cluster.on('error', (e: Error) => this.failed(e.message));
      this.cluster.on('node-error', (e: Error) => this.failed(e.message));
    } else {
      this.mode = 'standalone';
      const u = new URL(options.url ?? 'redis://127.0.0.1:6379');
      this.address = `${u.hostname}:${u.port || 6379}`;
      this.client = createClient({ url: options.url, socket, ...auth, RESP: 3, disableOfflineQueue: true }) as AnyClient;
      this.client.on('error', (e: Error) => this.failed(e.message));
      this.client.on('ready', () => this.ok());
    }
    this.state = { mode: this.mode, status: 'down', lastError: '', masters: [], topologyRefreshes: 0, requests: 0, errors: 0, timeouts: 0 };
    if (options.checkIntervalMs > 0) {
      this.timer = setInterval(() => void this.check(), options.checkIntervalMs);
      this.timer.unref();
    }
  }

  /** Connects (resolves once the store answered, or rejects; either way it goes on trying). */
  connect(): Promise<void> {
    this.connecting ??= (async () => {
      try {
        if (this.client !== undefined) {
          // node-redis retries by itself; connect() resolves on the first success.
          await this.client.connect();
        } else {
          await this.cluster!.connect();
        }
        this.ok();
      } catch (e) {
        this.failed((e as Error).message);
        throw this.unavailable(e);
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private get connected(): boolean {
    return this.client !== undefined ? this.client.isOpen : this.cluster!.isOpen;
  }

  /** Runs `fn` on each periodic check (the model cache's digest check, for one). */
  onCheck(fn: () => Promise<void> | void): void {
    this.checks.push(fn);
  }

  /** The periodic check: reconnect a cluster client that never connected, PING, refresh the topology, then the registered checks. */
  async check(): Promise<void> {
    if (this.closed) return;
    if (!this.connected) {
      if (this.client === undefined || !this.client.isOpen) await this.connect().catch(() => undefined);
      if (!this.connected) return;
    }
    try {
      if (this.cluster !== undefined) {
        if (this.state.status === 'down') await this.refreshTopology(true);
        await Promise.all((await this.masterClients()).map((c) => this.guard(c.sendCommand(['PING']))));
        this.state.masters = this.masterAddresses();
      } else {
        await this.guard(this.client!.sendCommand(['PING']));
        this.state.masters = [this.address];
      }
      this.ok();
    } catch {
      // failed() has noted it (through guard)
    }
    for (const fn of this.checks) {
      try {
        await fn();
      } catch {
        // a check's store errors are noted by guard; the next period tries again
      }
    }
  }

  private ok(): void {
    if (this.state.status !== 'ok') this.log?.info('keyspace store up', { mode: this.mode });
    this.state.status = 'ok';
  }

  private failed(message: string): void {
    if (this.closed) return;
    if (this.state.status !== 'down') this.log?.warn('keyspace store down', { mode: this.mode, reason: message });
    this.state.status = 'down';
    this.state.lastError = message;
    if (this.cluster !== undefined) void this.refreshTopology(false);
  }

  /**
   * Re-reads the Cluster's slot map from a live node (or the seeds): node-redis only does it on
   * MOVED/ASK, so a dead master's slots would otherwise stay mapped to it after a failover.
   * Throttled to once per 250 ms unless `force`.
   */
  private refreshTopology(force: boolean): Promise<void> {
    const c = this.cluster;
    if (c === undefined || !c.isOpen || this.closed) return Promise.resolve();
    if (this.refreshing !== undefined) return this.refreshing;
    if (!force && Date.now() - this.lastRefresh < 250) return Promise.resolve();
    this.lastRefresh = Date.now();
    this.state.topologyRefreshes++;
    const slots = (c as unknown as { _slots: { rediscover(start: unknown): Promise<void>; masters: { client?: unknown }[] } })._slots;
    const start = slots.masters.find((m) => m.client !== undefined)?.client ?? { options: c._options.rootNodes[0] };
    this.refreshing = slots
      .rediscover(start)
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private masterAddresses(): string[] {
    return this.orderedMasters().map((m) => m.address);
  }

  /** The masters, ordered by the first slot each serves (stable across failovers). */
  private orderedMasters(): { address: string }[] {
    if (this.cluster === undefined) return [];
    const seen = new Set<unknown>();
    const out: { address: string }[] = [];
    for (const shard of this.cluster.slots) {
      if (shard === undefined || seen.has(shard.master)) continue;
      seen.add(shard.master);
      out.push(shard.master);
    }
    return out;
  }

  /** One client per master, in `orderedMasters` order (the standalone client alone). */
  async masterClients(): Promise<AnyClient[]> {
    if (this.client !== undefined) return [this.client];
    if (!this.connected) throw new RespaiError(E.keyspaceUnavailable('not connected'));
    const slots = (this.cluster as unknown as { _slots: { nodeClient(n: unknown): Promise<AnyClient> } })._slots;
    return this.guard(Promise.all(this.orderedMasters().map((m) => slots.nodeClient(m))));
  }

  /** Settles `p` within the deadline, with store failures mapped (see `mapError`). */
  guard<T>(p: Promise<T>, write = false): Promise<T> {
    this.state.requests++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.state.timeouts++;
        reject(this.timedOut(write));
      }, this.timeoutMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(this.mapError(e, write));
        },
      );
    });
  }

  private timedOut(write: boolean): RespaiError {
    this.failed('timeout');
    return new RespaiError(E.keyspaceUnavailable(write ? 'timeout (the write may or may not have been applied)' : 'timeout'));
  }

  /**
   * A store error reply is the command's answer, as it is (WRONGTYPE, CROSSSLOT, ...), unless it
   * says the store cannot serve now (CLUSTERDOWN, TRYAGAIN, ...); anything else (a closed or
   * refused connection, a timeout) is `ERR keyspace unavailable: <why>`.
   */
  private mapError(e: unknown, write: boolean): RespaiError {
    if (RespaiError.isInstance(e)) return e;
    if (e instanceof StoreErrorReply) {
      if (!UNAVAILABLE_REPLIES.test(e.message)) return new RespaiError(e.message);
      this.state.errors++;
      this.failed(e.message);
      return new RespaiError(E.keyspaceUnavailable(e.message));
    }
    if (e instanceof TimeoutError) return this.timedOut(write);
    this.state.errors++;
    const message = (e as Error)?.message ?? String(e);
    // node-redis's "The client is offline" says nothing of why: the connection error does.
    if (/^The client is (offline|closed)/.test(message) && this.state.lastError !== '') {
      this.failed(this.state.lastError);
      return new RespaiError(E.keyspaceUnavailable(this.state.lastError));
    }
    this.failed(message);
    return this.unavailable(e);
  }

  private unavailable(e: unknown): RespaiError {
    const message = (e as Error)?.message ?? String(e);
    return new RespaiError(E.keyspaceUnavailable(message === '' ? 'connection lost' : message));
  }

  private notConnected(): never {
    throw new RespaiError(E.keyspaceUnavailable(this.state.lastError === '' ? 'not connected' : this.state.lastError));
  }

  /**
   * Sends one command, routed by `key` in a Cluster (a keyless one goes to any master), decoding
   * the reply with `types`. Rejects with a RespaiError (see `mapError`).
   */
  send(args: readonly StoreArg[], key: StoreArg | undefined, types: TypeMapping = DATA_TYPES, write = false): Promise<unknown> {
    if (this.closed || !this.connected) this.notConnected();
    const opts = { typeMapping: types };
    if (this.client !== undefined) return this.guard(this.client.sendCommand(args as StoreArg[], opts), write);
    return this.guard(this.cluster!.sendCommand(key, !write, args as StoreArg[], opts), write);
  }

  /** Runs a store script on `keys`' slot: EVALSHA, then EVAL when the node does not know it (a promoted replica). */
  async evalScript(s: StoreScript, keys: readonly StoreArg[], argv: readonly StoreArg[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...argv];
    try {
      return await this.send(['EVALSHA', s.sha, ...tail], keys[0], DATA_TYPES, true);
    } catch (e) {
      if (!(RespaiError.isInstance(e) && e.message.startsWith('NOSCRIPT'))) throw e;
      return this.send(['EVAL', s.source, ...tail], keys[0], DATA_TYPES, true);
    }
  }

  /** Sends `args` to every master (FLUSHALL, DBSIZE, KEYS...), replies in `masterClients` order. */
  async eachMaster(args: readonly StoreArg[], types: TypeMapping = FORWARD_TYPES): Promise<unknown[]> {
    if (this.closed || !this.connected) this.notConnected();
    const clients = await this.masterClients();
    return Promise.all(clients.map((c) => this.guard(c.sendCommand(args as StoreArg[], { typeMapping: types }))));
  }

  /** Sends `args` to the `index`-th master (SCAN's cursor names it). */
  async onMaster(index: number, args: readonly StoreArg[], types: TypeMapping = FORWARD_TYPES): Promise<{ reply: unknown; masters: number }> {
    if (this.closed || !this.connected) this.notConnected();
    const clients = await this.masterClients();
    const c = clients[index];
    if (c === undefined) return { reply: undefined, masters: clients.length };
    return { reply: await this.guard(c.sendCommand(args as StoreArg[], { typeMapping: types })), masters: clients.length };
  }

  /**
   * MULTI ... EXEC on `routingKey`'s node. Replies per command, errors as `StoreError`; rejects
   * with EXECABORT when the store refused a command while queueing.
   */
  async transaction(routingKey: StoreArg | undefined, commands: readonly (readonly StoreArg[])[], types: TypeMapping = FORWARD_TYPES): Promise<unknown[]> {
    if (this.closed || !this.connected) this.notConnected();
    const multi =
      this.client !== undefined
        ? this.client.withTypeMapping(types).multi()
        : this.cluster!.withTypeMapping(types).multi(routingKey);
    for (const args of commands) {
      if (this.client !== undefined) (multi as ReturnType<AnyClient['multi']>).addCommand(args as StoreArg[]);
      else (multi as ReturnType<AnyCluster['multi']>).addCommand(routingKey, false, args as StoreArg[]);
    }
    const done = multi.exec().catch((e: unknown) => {
      if (e instanceof MultiErrorReply) return e.replies.map((r) => (r instanceof StoreErrorReply ? new StoreError(r.message) : r));
      throw e;
    });
    return (await this.guard(done, true)) as unknown[];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    try {
      if (this.client !== undefined && this.client.isOpen) this.client.destroy();
      if (this.cluster !== undefined && this.cluster.isOpen) this.cluster.destroy();
    } catch {
      // already closed
    }
  }
}

export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = i > 0 ? s.slice(0, i).replace(/^\[|\]$/g, '') : s;
  const port = i > 0 ? Number(s.slice(i + 1)) : 6379;
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad host:port '${s}'`);
  return { host, port };
}
