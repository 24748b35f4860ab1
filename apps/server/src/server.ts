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
    await this.loadBackends();
    let port = this.options.port;
    for (const host of this.options.bind) {
      const server = createServer((socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: 511 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Once listening, errors (EMFILE on accept, a peer reset) are logged: they must never
      // become an uncaught exception.
      server.on('error', (e) => this.log.warn({ err: e.message, host }, 'listening socket error'));
      const addr = server.address();
      if (addr !== null && typeof addr === 'object') port = addr.port;
      this.servers.push(server);
    }
    this.boundPort = port;
    try {
      if (this.external !== undefined) await this.external.start();
      else await this.persistence.load();
    } catch (e) {
      this.log.fatal({ err: (e as Error).message }, 'Fatal error loading the DB, exiting');
      for (const s of this.servers) s.close();
      for (const c of this.clients.values()) c.close();
      throw e;
    }
    this.log.info({ port, bind: this.options.bind }, 'Ready to accept connections');
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
      await Promise.all(
        this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ).then(() => undefined, () => undefined);
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

/** apps/server: its node_modules holds the backend packages the server ships with. */
const SERVER_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export async function startServer(start: StartOptions): Promise<RespaiServer> {
  const server = new RespaiServer(start);
  await server.listen();
  return server;
}
