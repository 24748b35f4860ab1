import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, DurableKeyspace, E, Engine, MemoryKeyspace, RespaiError, errorText, type BackendName, type Keyspace, type Persistence } from '@respai/core';
import { Client } from './client.js';
import { commandTable } from './commands/index.js';
import type { Command, ExecContext } from './commands/types.js';
import { runScriptCommand } from './script-host.js';
import { createPersistence } from './persistence.js';
import type { ServerOptions } from './config.js';
import { createLogger, setLogLevel, type Logger } from './logger.js';
import { Stats, type ServerState } from './state.js';
import { External, externalOptionsSet, type ExternalMode } from './external/index.js';
import { Acl } from './acl/acl.js';
import { CommandObserver } from './observe/commands.js';
import { createHttpServer } from './observe/http.js';
import { Metrics } from './observe/metrics.js';
import { createTlsServer } from './tls.js';

export interface StartOptions {
  options: ServerOptions;
  configFile?: string;
  keyspace?: Keyspace;
  log?: Logger;
}

/** The RESP server: accepts connections and hands each to a Client; owns the shared state. */
export class RespaiServer implements ServerState {
  readonly options: ServerOptions;
  readonly keyspace: Keyspace;
  readonly engine: Engine;
  readonly persistence: Persistence;
  readonly log: Logger;
  readonly stats = new Stats();
  readonly clients = new Map<number, Client>();
  readonly commands: ReadonlyMap<string, Command> = commandTable;
  readonly startedAt = Date.now();
  readonly configFile: string | undefined;
  readonly external: ExternalMode | undefined;
  boundPort = 0;
  readonly trustedBackendsPath: string;
  /** [acl] Users; the default user is unrestricted unless an aclfile or ACL SETUSER says otherwise. */
  readonly acl: Acl;
  /** [observe] SLOWLOG and per-command metrics. */
  readonly observe: CommandObserver;
  /** [observe] Prometheus metrics, when metrics-port is set. */
  readonly metrics: Metrics | undefined;
  /** [observe] More conditions for /readyz (an external keyspace's store): a reason, or undefined. */
  readonly readinessChecks: (() => string | undefined)[] = [];
  private phase: 'starting' | 'loading backends' | 'loading the data set' | 'ready' = 'starting';
  private readonly httpServers: HttpServer[] = [];
  private readonly servers: Server[] = [];
  private stopping: Promise<void> | undefined;
  private readonly closedHandlers: (() => void)[] = [];

  constructor(start: StartOptions) {
    this.options = start.options;
    this.configFile = start.configFile;
    // Every mutation passes through DurableKeyspace, which reports it to the persistence layer.
    const keyspace = new DurableKeyspace(start.keyspace ?? new MemoryKeyspace());
    this.keyspace = keyspace;
    this.log = start.log ?? createLogger(this.options.loglevel, this.options.logfile);
    const o = this.options;
    if (o.backendspath === '') o.backendspath = SERVER_PACKAGE_DIR;
    this.trustedBackendsPath = o.backendspath;
    const log = this.log.child({ component: 'engine' });
    this.engine = new Engine({
      keyspace: this.keyspace,
      log: {
        debug: (msg, fields) => log.debug(fields ?? {}, msg),
        info: (msg, fields) => log.info(fields ?? {}, msg),
        warn: (msg, fields) => log.warn(fields ?? {}, msg),
      },
      scriptCommands: (args, keys, caller) => runScriptCommand(caller as ExecContext, args, keys),
      config: {
        backendsPath: o.backendspath,
        modelChunkSize: o['model-chunk-size'],
        threadsPerQueue: o['threads-per-queue'],
        intraOpParallelism: o['intra-op-parallelism'],
        interOpParallelism: o['inter-op-parallelism'],
        modelExecutionTimeoutMs: o['model-execution-timeout'],
        backendMemoryLimitMb: o['backend-memory-limit'],
      },
    });
    // External keyspace (docs/scale-out.md): a store holds every key; respai's own persistence is off.
    if (externalOptionsSet(o)) {
      o.save = '';
      o.appendonly = 'no';
      const storeLog = this.log.child({ component: 'keyspace' });
      this.external = new External(o, this.engine, {
        info: (msg, fields) => storeLog.info(fields ?? {}, msg),
        warn: (msg, fields) => storeLog.warn(fields ?? {}, msg),
      });
    }
    this.persistence = createPersistence({ options: o, log: this.log, engine: this.engine, keyspace, state: () => this });
    try {
      this.acl = new Acl(this.commands, o.requirepass, o.aclfile);
    } catch (e) {
      throw new StartupError((e as Error).message);
    }
    this.observe = new CommandObserver(this);
    if (o['metrics-port'] > 0) {
      this.metrics = new Metrics(this, { maxKeys: o['metrics-max-keys'], ready: () => this.readiness() });
      this.observe.metrics = this.metrics;
      this.engine.observer = this.metrics;
    }
  }

  /** [observe] /readyz: undefined once the data set and the start-time backends are loaded, else why not. */
  readiness(): string | undefined {
    if (this.stopping !== undefined) return 'shutting down';
    if (this.phase !== 'ready') return this.phase;
    for (const check of this.readinessChecks) {
      const why = check();
      if (why !== undefined) return why;
    }
    return undefined;
  }

  /** Loads the backends named by `loadbackend` options, in order; a failure stops the start. */
  async loadBackends(): Promise<void> {
    for (const [name, path] of this.options.loadbackend) {
      if (!BACKEND_NAMES.includes(name as BackendName)) throw new Error(`loadbackend: unsupported backend ${name}`);
      try {
        await this.engine.registry.load(name as BackendName, path);
      } catch (e) {
        throw new Error(`loadbackend ${name} ${path}: ${(e as Error).message || errorText(e)}`);
      }
      this.log.info({ backend: name, path }, 'backend loaded');
    }
  }

  /**
   * Loads start-time backends, binds every address in `bind`, then loads the data set; resolves
   * once it is loaded. As in Redis, clients may connect while it loads: they get `-LOADING` for
   * every command but the few flagged `loading` (INFO shows loading:1 and the loading_* fields).
   */
  async listen(): Promise<void> {
    const o = this.options;
    // [observe] The HTTP endpoints come first: /healthz answers and /readyz says why not ready while starting.
    const metrics = this.metrics;
    if (metrics !== undefined) {
      const onError = (e: Error) => this.log.warn({ err: e.message }, 'metrics endpoint error');
      for (const host of o.bind) {
        this.httpServers.push(await this.bindListener(createHttpServer({ metrics, readiness: () => this.readiness(), onError }), host, o['metrics-port']));
      }
      this.log.info({ metricsPort: o['metrics-port'], bind: o.bind }, 'metrics endpoint listening');
    }
    this.phase = 'loading backends';
    await this.loadBackends();
    let port = o.port;
    // As redis-server, port 0 next to a tls-port means no plain TCP; alone, it picks a free port.
    if (o.port !== 0 || o['tls-port'] === 0) {
      for (const host of o.bind) {
        const server = await this.bindListener(createServer((socket) => this.accept(socket)), host, port);
        const addr = server.address();
        if (addr !== null && typeof addr === 'object') port = addr.port;
        this.servers.push(server);
      }
    }
    if (o['tls-port'] > 0) {
      for (const host of o.bind) {
        const onError = (e: Error) => this.log.debug({ err: e.message }, 'TLS handshake failed');
        let tls: Server;
        try {
          tls = createTlsServer(o, (socket) => this.accept(socket), onError);
        } catch (e) {
          for (const s of [...this.servers, ...this.httpServers]) s.close();
          throw new StartupError((e as Error).message);
        }
        this.servers.push(await this.bindListener(tls, host, o['tls-port']));
      }
    }
    this.boundPort = port;
    this.phase = 'loading the data set';
    try {
      if (this.external !== undefined) await this.external.start();
      else await this.persistence.load();
    } catch (e) {
      this.log.fatal({ err: (e as Error).message }, 'Fatal error loading the DB, exiting');
      for (const s of this.servers) s.close();
      for (const s of this.httpServers) s.close();
      for (const c of this.clients.values()) c.close();
      throw e;
    }
    this.phase = 'ready';
    const tls = o['tls-port'] > 0 ? { tlsPort: o['tls-port'] } : {};
    this.log.info({ port, ...tls, bind: o.bind }, 'Ready to accept connections');
  }

  /** Binds one listener; once listening, its errors (EMFILE on accept, a peer reset) are logged, never thrown. */
  private async bindListener<S extends Server | HttpServer>(server: S, host: string, port: number): Promise<S> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e: Error) => this.log.warn({ err: e.message, host }, 'listening socket error'));
    return server;
  }

  private accept(socket: Socket): void {
    if (this.stopping !== undefined) {
      socket.destroy();
      return;
    }
    this.stats.totalConnections++;
    if (this.clients.size >= this.options.maxclients) {
      this.stats.rejectedConnections++;
      // The refused peer may reset before the reply is written: its error must go somewhere.
      socket.on('error', () => undefined);
      socket.end(`-${E.maxClients}\r\n`);
      return;
    }
    const client = new Client(socket, this, (c) => this.clients.delete(c.id));
    this.clients.set(client.id, client);
  }

  onOptionChanged(name: keyof ServerOptions): void {
    if (name === 'loglevel') setLogLevel(this.log, this.options.loglevel);
    if (name === 'model-chunk-size') this.engine.config.modelChunkSize = this.options['model-chunk-size'];
    if (name === 'backendspath') this.engine.config.backendsPath = this.options.backendspath;
    if (name === 'appendonly' || name === 'appendfsync') this.persistence.configChanged(name);
    if (name === 'requirepass') this.acl.setRequirepass(this.options.requirepass);
    if (name === 'slowlog-max-len') this.observe.trim();
  }

  beforeReply(): Promise<void> | undefined {
    return this.persistence.barrier();
  }

  /** Resolves when the server has shut down (SHUTDOWN, a signal, or close()). */
  onClosed(handler: () => void): void {
    this.closedHandlers.push(handler);
  }

  shutdown(reason: string, options: { save?: boolean } = {}): Promise<void> {
    if (this.stopping === undefined) {
      // Synchronously, so no command runs between the final save and the connections closing.
      try {
        this.persistence.shutdown(options.save);
      } catch (e) {
        this.log.warn({ reason, err: (e as Error).message }, 'Errors trying to shut down the server, check the logs');
        return Promise.reject(new RespaiError(E.shutdownFailed));
      }
    }
    this.stopping ??= (async () => {
      this.log.info({ reason }, 'Shutting down');
      const closing = Promise.all(
        [...this.servers, ...this.httpServers].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      // Scrapers keep their HTTP connections alive: close them, or close() would wait for them.
      for (const h of this.httpServers) h.closeAllConnections();
      await closing.then(() => undefined, () => undefined);
      for (const c of this.clients.values()) c.close();
      await this.external?.close().catch(() => undefined);
      await this.engine.close().catch(() => undefined);
      this.keyspace.close();
      this.log.info('Bye');
      this.log.flush?.();
      for (const h of this.closedHandlers) h();
    })();
    // Clients must be closed before server.close() can finish; do it synchronously too.
    for (const c of this.clients.values()) c.close();
    return this.stopping;
  }
}

/** A start-up failure with a message for the operator (a bad aclfile, TLS files). */
export class StartupError extends Error {}

/** apps/server: its node_modules holds the backend packages the server ships with. */
const SERVER_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export async function startServer(start: StartOptions): Promise<RespaiServer> {
  const server = new RespaiServer(start);
  await server.listen();
  return server;
}
