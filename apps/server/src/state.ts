import type { Engine, Keyspace, Persistence } from '@respai/core';
import type { Client } from './client.js';
import type { Command } from './commands/types.js';
import type { ServerOptions } from './config.js';
import type { Logger } from './logger.js';
import type { ExternalMode } from './external/index.js';
import type { Acl } from './acl/acl.js';
import type { CommandObserver } from './observe/commands.js';

/** Counters INFO reports; reset by CONFIG RESETSTAT where Redis resets them. */
export class Stats {
  totalConnections = 0;
  rejectedConnections = 0;
  totalCommands = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  reset(): void {
    Object.assign(this, new Stats());
  }
}

/** Everything a command may reach on the server side. */
export interface ServerState {
  readonly options: ServerOptions;
  readonly keyspace: Keyspace;
  /** Backends, run queues and the DAG executor. */
  readonly engine: Engine;
  readonly log: Logger;
  readonly stats: Stats;
  readonly clients: ReadonlyMap<number, Client>;
  readonly commands: ReadonlyMap<string, Command>;
  readonly startedAt: number;
  readonly configFile: string | undefined;
  /** The port actually bound (differs from options.port when that was 0). */
  readonly boundPort: number;
  /** Applies an option change that needs more than a new value (log level, limits). */
  onOptionChanged(name: keyof ServerOptions): void;
  /**
   * Closes every connection and stops the process's server. `save`: true forces a snapshot,
   * false skips it, undefined saves when save points are configured (the AOF is always flushed).
   * Rejects, and keeps running, when that save fails.
   */
  shutdown(reason: string, options?: { save?: boolean }): Promise<void>;
  /** Snapshots and the append-only file (absent from unit tests' fake servers). */
  readonly persistence?: Persistence;
  /**
   * Clients call this right before writing replies: a promise when the replies must wait until
   * the writes they acknowledge are on disk (appendfsync always), else undefined.
   */
  beforeReply?(): Promise<void> | undefined;
  /** External keyspace mode (docs/scale-out.md): set when a store holds every key. */
  readonly external?: ExternalMode;
  /** [acl] Users (absent from unit tests' fake servers: every connection is unrestricted there). */
  readonly acl?: Acl;
  /** BACKENDSPATH as set at start: where AI.CONFIG LOADBACKEND may load from (ai.config.ts). */
  readonly trustedBackendsPath?: string;
  /** [observe] SLOWLOG and per-command metrics (absent from fake servers). */
  readonly observe?: CommandObserver;
}
