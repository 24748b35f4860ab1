import { ErrorReply, type Reply } from '../resp/reply.js';
import type { Command } from '../commands/types.js';
import type { ServerState } from '../state.js';
import type { Metrics } from './metrics.js';

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGS = 32;
const MAX_STRING = 128;
const REDACTED = Buffer.from('(redacted)');

export interface SlowlogEntry {
  readonly id: number;
  /** Unix time, seconds, when the command was logged. */
  readonly time: number;
  readonly durationUs: number;
  readonly args: readonly Buffer[];
  readonly addr: string;
  readonly name: string;
}

/** What the observer needs of a connection. */
export interface ObservedClient {
  readonly addr: string;
  readonly name: string;
}

/**
 * Per-command observation for SLOWLOG and /metrics, called by each connection around every
 * command it runs (client.ts, marked [observe]). With metrics off and the slow log off
 * (slowlog-log-slower-than < 0) a command costs two property reads here; with the slow log on,
 * two clock reads; nothing is allocated unless an entry is logged.
 */
export class CommandObserver {
  /** Newest first, at most slowlog-max-len. */
  readonly slowlog: SlowlogEntry[] = [];
  private nextId = 0;
  metrics: Metrics | undefined;

  constructor(private readonly server: Pick<ServerState, 'options'>) {}

  /** A start time for {@link end}, or -1 when the slow log is off. */
  begin(): number {
    return this.server.options['slowlog-log-slower-than'] >= 0 ? performance.now() : -1;
  }

  /**
   * A command answered (`reply`): synchronously, or once its asynchronous work finished, so an
   * AI run's time includes its queue wait. `argv` includes the command name.
   */
  end(client: ObservedClient, command: Command, argv: readonly Buffer[], started: number, reply: Reply): void {
    const m = this.metrics;
    if (m !== undefined) {
      const c = m.commands.get(command.name);
      if (c !== undefined) {
        c.calls++;
        if (reply instanceof ErrorReply) c.errors++;
      }
    }
    if (started < 0) return;
    const us = Math.round((performance.now() - started) * 1000);
    const threshold = this.server.options['slowlog-log-slower-than'];
    if (threshold >= 0 && us >= threshold) this.log(client, command, argv, us);
  }

  /** A command refused before running (unknown, arity, NOAUTH, NOPERM, LOADING): an error reply. */
  rejected(command: Command | undefined): void {
    const c = this.metrics?.commands.get(command?.name ?? 'unknown');
    if (c !== undefined) c.errors++;
  }

  private log(client: ObservedClient, command: Command, argv: readonly Buffer[], us: number): void {
    const max = this.server.options['slowlog-max-len'];
    if (max <= 0) return;
    this.slowlog.unshift({
      id: this.nextId++,
      time: Math.floor(Date.now() / 1000),
      durationUs: us,
      args: slowlogArgs(command, argv),
      addr: client.addr,
      name: client.name,
    });
    if (this.slowlog.length > max) this.slowlog.length = max;
  }

  /** slowlog-max-len lowered: the oldest entries go at once, as in Redis. */
  trim(): void {
    const max = Math.max(0, this.server.options['slowlog-max-len']);
    if (this.slowlog.length > max) this.slowlog.length = max;
  }

  reset(): void {
    this.slowlog.length = 0;
  }
}

/** Redis's slowlogCreateEntry: at most 32 arguments and 128 bytes each; secrets redacted. */
export function slowlogArgs(command: Command, argv: readonly Buffer[]): Buffer[] {
  const redactFrom = redaction(command, argv);
  const n = Math.min(argv.length, MAX_ARGS);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (n !== argv.length && i === n - 1) {
      out.push(Buffer.from(`... (${argv.length - MAX_ARGS + 1} more arguments)`));
      break;
    }
    const a = argv[i]!;
    if (redactFrom(i)) out.push(REDACTED);
    else if (a.length > MAX_STRING) out.push(Buffer.concat([a.subarray(0, MAX_STRING), Buffer.from(`... (${a.length - MAX_STRING} more bytes)`)]));
    else out.push(Buffer.from(a));
  }
  return out;
}

/** Which arguments Redis redacts: AUTH's, HELLO's AUTH pair, ACL SETUSER's rules. */
function redaction(command: Command, argv: readonly Buffer[]): (i: number) => boolean {
  switch (command.name) {
    case 'auth':
      return (i) => i >= 1;
    case 'acl':
      return argv[1]?.toString().toLowerCase() === 'setuser' ? (i) => i >= 2 : () => false;
    case 'hello': {
      const at = argv.findIndex((a, i) => i >= 2 && a.toString().toLowerCase() === 'auth');
      return at < 0 ? () => false : (i) => i === at + 1 || i === at + 2;
    }
    default:
      return () => false;
  }
}
