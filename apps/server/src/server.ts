import { createServer, type Server, type Socket } from 'node:net';
import { MemoryKeyspace, type Keyspace } from '@respai/core';
import { Client } from './client.js';
import { commandTable } from './commands/index.js';
import type { Command } from './commands/types.js';
import type { ServerOptions } from './config.js';
import { createLogger, setLogLevel, type Logger } from './logger.js';
import { Stats, type ServerState } from './state.js';

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
  readonly log: Logger;
  readonly stats = new Stats();
  readonly clients = new Map<number, Client>();
  readonly commands: ReadonlyMap<string, Command> = commandTable;
  readonly startedAt = Date.now();
  readonly configFile: string | undefined;
  boundPort = 0;
  private readonly servers: Server[] = [];
  private stopping: Promise<void> | undefined;
  private readonly closedHandlers: (() => void)[] = [];

  constructor(start: StartOptions) {
    this.options = start.options;
    this.configFile = start.configFile;
    this.keyspace = start.keyspace ?? new MemoryKeyspace();
    this.log = start.log ?? createLogger(this.options.loglevel, this.options.logfile);
  }

  /** Binds every address in `bind`; resolves once all listen. */
  async listen(): Promise<void> {
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
      const addr = server.address();
      if (addr !== null && typeof addr === 'object') port = addr.port;
      this.servers.push(server);
    }
    this.boundPort = port;
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
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const client = new Client(socket, this, (c) => this.clients.delete(c.id));
    this.clients.set(client.id, client);
  }

  onOptionChanged(name: keyof ServerOptions): void {
    if (name === 'loglevel') setLogLevel(this.log, this.options.loglevel);
  }

  /** Resolves when the server has shut down (SHUTDOWN, a signal, or close()). */
  onClosed(handler: () => void): void {
    this.closedHandlers.push(handler);
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason }, 'Shutting down');
      await Promise.all(
        this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ).then(() => undefined, () => undefined);
      for (const c of this.clients.values()) c.close();
      // Closing the listeners above waits for connections, so close clients before awaiting.
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

export async function startServer(start: StartOptions): Promise<RespaiServer> {
  const server = new RespaiServer(start);
  await server.listen();
  return server;
}
