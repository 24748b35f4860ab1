import { E, errorText, fail, type Engine } from '@respai/core';
import { ExternalKeyspace, type StoreLog } from '@respai/keyspace-redis';
import type { ServerOptions } from '../config.js';
import type { Command, ExecContext } from '../commands/types.js';
import { ErrorReply, type Reply } from '../resp/reply.js';
import { takeTransaction } from '../commands/exec.js';
import { runAi } from './ai.js';
import { dumpExternal, restoreExternal } from './dump-restore.js';
import { allMasters, forward, routeKey, scan, toReply, type } from './forward.js';

/**
 * respai over an external Redis/Valkey keyspace (docs/scale-out.md): every command a client sends
 * is answered locally, forwarded to the store, run on every master, or (AI commands) run over a
 * request overlay of the store's values. The server holds one when `keyspace-url` or
 * `keyspace-cluster-nodes` is set; the client's dispatch hands it every command.
 */
export interface ExternalMode {
  /** Runs one command (its arity and authentication already checked); `args` excludes the name. */
  run(ctx: ExecContext, command: Command, args: Buffer[]): Reply | Promise<Reply>;
  /** INFO's `keyspace_store` section. */
  infoFields(): Record<string, string | number>;
  /** INFO's `keyspace` section: the store's key counts (as of the last check). */
  keyspaceFields(): Record<string, string>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Answered by the node itself: connection and server commands that touch no data (ACL and SLOWLOG are the node's own). */
const LOCAL = new Set(['ping', 'echo', 'hello', 'auth', 'quit', 'select', 'client', 'command', 'config', 'time', 'shutdown', 'module', 'multi', 'discard', 'info', 'ai.config', 'acl', 'slowlog']);
/** Run on every master, replies merged (SCAN has its own cursor scheme). */
const ALL_MASTERS = new Set(['keys', 'dbsize', 'flushall', 'flushdb', 'save', 'bgsave', 'bgrewriteaof', 'lastsave', 'script']);

const isAi = (c: Command) => c.name.startsWith('ai.') && c.name !== 'ai.config';

export function externalOptionsSet(o: ServerOptions): boolean {
  return o['keyspace-url'] !== '' || o['keyspace-cluster-nodes'] !== '';
}

export class External implements ExternalMode {
  readonly ext: ExternalKeyspace;
  private keys = { keys: 0, expires: 0 };

  constructor(options: ServerOptions, engine: Engine, log: StoreLog) {
    if (options['keyspace-url'] !== '' && options['keyspace-cluster-nodes'] !== '') {
      throw new Error('keyspace-url and keyspace-cluster-nodes are exclusive: name a standalone server or Cluster seeds');
    }
    const o = options;
    this.ext = new ExternalKeyspace({
      engine,
      ...(o['keyspace-url'] !== '' ? { url: o['keyspace-url'] } : { clusterNodes: o['keyspace-cluster-nodes'].split(/[\s,]+/).filter((n) => n !== '') }),
      ...(o['keyspace-user'] !== '' ? { username: o['keyspace-user'] } : {}),
      ...(o['keyspace-password'] !== '' ? { password: o['keyspace-password'] } : {}),
      tls: o['keyspace-tls'] === 'yes',
      ...(o['keyspace-tls-ca-file'] !== '' ? { tlsCaFile: o['keyspace-tls-ca-file'] } : {}),
      ...(o['keyspace-tls-cert-file'] !== '' ? { tlsCertFile: o['keyspace-tls-cert-file'] } : {}),
      ...(o['keyspace-tls-key-file'] !== '' ? { tlsKeyFile: o['keyspace-tls-key-file'] } : {}),
      timeoutMs: o['keyspace-timeout'],
      checkIntervalMs: o['keyspace-check-interval'],
      log,
    });
    this.ext.store.onCheck(async () => {
      // INFO keyspace: the masters' db0 lines, summed.
      const infos = await this.ext.store.eachMaster(['INFO', 'keyspace']);
      let keys = 0;
      let expires = 0;
      for (const info of infos) {
        const m = /db0:keys=(\d+),expires=(\d+)/.exec(String(info));
        if (m) {
          keys += Number(m[1]);
          expires += Number(m[2]);
        }
      }
      this.keys = { keys, expires };
    });
  }

  start(): Promise<void> {
    return this.ext.start();
  }

  close(): Promise<void> {
    return this.ext.close();
  }

  run(ctx: ExecContext, command: Command, args: Buffer[]): Reply | Promise<Reply> {
    const name = command.name;
    if (LOCAL.has(name)) return command.execute(ctx, command.parse(args, parseContext(ctx)));
    if (isAi(command)) return runAi({ ext: this.ext, ctx, command, args, parse: parseContext(ctx) });
    const argv = [Buffer.from(name), ...args];
    if (name === 'exec') return this.exec(ctx);
    if (name === 'scan') return scan(this.ext, argv);
    if (name === 'type') return type(this.ext, args[0]!);
    if (name === 'dump') return dumpExternal(this.ext, ctx, command, argv);
    if (name === 'restore') return restoreExternal(this.ext, ctx, command, argv);
    if (ALL_MASTERS.has(name)) return allMasters(this.ext, command, argv);
    return forward(this.ext, command, argv);
  }

  /**
   * EXEC: the queued commands go to the store in one MULTI/EXEC (local ones, which touch no data,
   * are answered here in their place). AI commands cannot be part of one (docs/scale-out.md).
   */
  private async exec(ctx: ExecContext): Promise<Reply> {
    const queued = takeTransaction(ctx.client);
    if (queued.some((q) => isAi(q.command))) fail(E.externalMultiAi);
    const sent = queued.filter((q) => !LOCAL.has(q.command.name));
    const argvs = sent.map((q) => [Buffer.from(q.command.name), ...q.args]);
    const route = sent.map((q, i) => routeKey(q.command, argvs[i]!)).find((k) => k !== undefined);
    const replies = sent.length === 0 ? [] : (await this.ext.store.transaction(route, argvs)).map(toReply);
    let n = 0;
    const out: Reply[] = [];
    for (const q of queued) {
      if (!LOCAL.has(q.command.name)) out.push(replies[n++]!);
      else {
        try {
          out.push(await q.command.execute(ctx, q.command.parse(q.args, parseContext(ctx))));
        } catch (e) {
          out.push(errorOf(e));
        }
      }
    }
    return out;
  }

  infoFields(): Record<string, string | number> {
    const s = this.ext.store.state;
    const m = this.ext.models.stats;
    const sc = this.ext.scripts.stats;
    return {
      keyspace_mode: s.mode,
      keyspace_store_status: s.status,
      keyspace_store_last_error: s.lastError.replace(/[\r\n]+/g, ' '),
      keyspace_store_masters: s.masters.length,
      keyspace_store_nodes: s.masters.join(','),
      keyspace_store_topology_refreshes: s.topologyRefreshes,
      keyspace_store_requests: s.requests,
      keyspace_store_errors: s.errors,
      keyspace_store_timeouts: s.timeouts,
      keyspace_cache_models: m.entries,
      keyspace_cache_scripts: sc.entries,
      keyspace_cache_hits: m.hits + sc.hits,
      keyspace_cache_misses: m.misses + sc.misses,
      keyspace_cache_evictions: m.evictions + sc.evictions,
    };
  }

  keyspaceFields(): Record<string, string> {
    return this.keys.keys === 0 ? {} : { db0: `keys=${this.keys.keys},expires=${this.keys.expires},avg_ttl=0` };
  }
}

const parseContext = (ctx: ExecContext) => ({ protoMaxBulkLen: ctx.server.options['proto-max-bulk-len'] });

function errorOf(e: unknown): Reply {
  return new ErrorReply(errorText(e));
}
