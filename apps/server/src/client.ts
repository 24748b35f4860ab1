import type { Socket } from 'node:net';
import { E, RespaiError, errorText, type RunOwner } from '@respai/core';
import { RespDecoder } from './resp/decoder.js';
import { ReplyWriter } from './resp/encoder.js';
import { ErrorReply, QUEUED, type Reply } from './resp/reply.js';
import type { Command, ExecContext } from './commands/types.js';
import type { ServerState } from './state.js';
import { checkCall } from './acl/check.js';
import type { User } from './acl/user.js';

let nextId = 1;
const NO_ARGS: Buffer[] = [];

/** Input a connection buffers while its command completes asynchronously, before it stops reading. */
const PAUSE_WHILE_BUSY_BYTES = 1 << 20;

/** A queued MULTI command: parsed at EXEC time, like Redis (only arity is checked when queued). */
interface Queued {
  command: Command;
  args: Buffer[];
}

/**
 * One connection: decodes commands, runs them strictly in order, and writes replies.
 * Replies produced while handling one socket read are flushed with a single corked write.
 * While an asynchronous command (a model run) is in flight, the connection's next commands wait
 * (read but not run; past PAUSE_WHILE_BUSY_BYTES it stops reading), so a pipelining client waits
 * its turn and every other client is still served.
 */
export class Client {
  readonly id = nextId++;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
  /** [acl] The user this connection runs as (undefined without ACL: fake servers in unit tests). */
  user: User | undefined;
  lastCommand = 'NULL';
  /** MULTI state: undefined outside a transaction. */
  multi: Queued[] | undefined;
  multiDirty = false;
  /** CLIENT REPLY OFF: every reply is dropped until CLIENT REPLY ON. */
  replyOff = false;
  /** CLIENT REPLY SKIP: how many replies are still to drop (its own, then the next command's). */
  replySkip = 0;
  closed = false;
  /** The engine's handle on this connection's run in flight: cancelled when the connection closes. */
  readonly runOwner: RunOwner = { cancel: undefined };
  readonly addr: string;
  readonly laddr: string;
  private readonly decoder: RespDecoder;
  private readonly writer = new ReplyWriter(2);
  private busy = false;
  private closeAfterFlush = false;
  private readonly ctx: ExecContext;
  private readonly onClose: (c: Client) => void;

  constructor(
    readonly socket: Socket,
    private readonly server: ServerState,
    onClose: (c: Client) => void,
  ) {
    this.onClose = onClose;
    // [acl] Connections start as the default user, authenticated when it needs no password.
    this.user = server.acl?.defaultUser;
    this.authenticated = server.acl !== undefined ? !server.acl.defaultNeedsAuth : server.options.requirepass === '';
    this.decoder = new RespDecoder({ maxBulkLen: server.options['proto-max-bulk-len'] });
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = `${socket.localAddress}:${socket.localPort}`;
    this.ctx = { server, client: this, keyspace: server.keyspace };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      if (!this.busy && !this.closed) this.resumeReading();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get proto(): 2 | 3 {
    return this.writer.proto;
  }
  set proto(p: 2 | 3) {
    this.writer.proto = p;
  }

  /**
   * Redis's authRequired(): a connection that never authenticated may run commands once
   * requirepass is cleared (the default user is nopass again).
   */
  private get authRequired(): boolean {
    return !this.authenticated && (this.server.acl?.defaultNeedsAuth ?? this.server.options.requirepass !== '');
  }

  /** Writes one reply (one per command), unless CLIENT REPLY OFF / SKIP drops it, as in Redis. */
  private send(r: Reply): void {
    if (this.replySkip > 0) {
      this.replySkip--;
      return;
    }
    if (this.replyOff) return;
    try {
      this.writer.write(r);
    } catch (e) {
      // A bug (a command produced something that is not a reply): the client still gets an
      // answer in its place, so its pipeline stays in step, and the connection keeps going.
      this.server.log.error({ err: e, command: this.lastCommand }, 'reply could not be encoded');
      this.writer.write(new ErrorReply(E.internalReply));
    }
  }

  /** Bytes read but not yet parsed into commands (CLIENT LIST qbuf). */
  get queryBuffer(): number {
    return this.decoder.buffered;
  }

  private onData(chunk: Buffer): void {
    this.server.stats.netInputBytes += chunk.length;
    this.lastInteraction = Date.now();
    this.decoder.push(chunk);
    // While a command completes asynchronously, what arrives waits in the decoder; past a bound
    // the socket stops being read (pausing on every async command would cost two syscalls each).
    if (this.busy) {
      if (this.decoder.buffered > PAUSE_WHILE_BUSY_BYTES) this.pauseReading();
      return;
    }
    this.processInput();
  }

  private paused = false;

  private pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  private processInput(): void {
    this.decoder.limits.maxBulkLen = this.server.options['proto-max-bulk-len'];
    while (!this.busy && !this.closed && !this.closeAfterFlush) {
      let args: Buffer[] | null;
      try {
        // Before AUTH, Redis caps requests (10 args, 16 KiB bulks) so strangers cannot make it buffer much.
        this.decoder.authRequired = this.authRequired;
        args = this.decoder.next();
      } catch (e) {
        // Protocol errors close the connection after the error is sent, as in Redis.
        this.send(new ErrorReply(errorText(e)));
        this.closeAfterFlush = true;
        break;
      }
      if (args === null) break;
      this.dispatch(args);
    }
    this.flush();
  }

  /** Runs one command; may set `busy` when the command completes asynchronously. */
  private dispatch(argv: Buffer[]): void {
    const stats = this.server.stats;
    stats.totalCommands++;
    const nameArg = argv[0]!;
    const name = nameArg.toString('latin1').toLowerCase();
    const command = this.server.commands.get(name);
    if (command === undefined) {
      this.reject(E.unknownCommand(sanitize(nameArg.toString('latin1'), 128), describeArgs(argv)), undefined);
      return;
    }
    // Redis checks the arity before authentication.
    if ((command.arity > 0 && argv.length !== command.arity) || argv.length < -command.arity) {
      this.reject(E.arity(command.name), command);
      return;
    }
    if (this.authRequired && !command.flags.includes('noauth')) {
      this.reject(E.noAuth, command);
      return;
    }
    // [acl] A restricted user's command and the keys it names (acl/check.ts); others skip this.
    const user = this.user;
    if (user !== undefined && user.restricted) {
      const denied = checkCall(this.server.acl!, user, command, argv);
      if (denied !== undefined) {
        this.reject(denied, command);
        return;
      }
    }
    if (this.server.persistence?.loading === true && !command.flags.includes('loading')) {
      this.reject(E.loading, command);
      return;
    }
    this.lastCommand = command.name;
    if (this.multi !== undefined && !command.flags.includes('nomulti')) {
      this.multi.push({ command, args: argv.slice(1) });
      this.send(QUEUED);
      return;
    }
    this.argv = argv;
    this.run(command, argv.slice(1));
  }

  /** An error that happens before queueing also aborts an open transaction (EXECABORT). */
  private reject(text: string, command: Command | undefined): void {
    if (this.multi !== undefined) this.multiDirty = true;
    this.server.observe?.rejected(command); // [observe]
    this.send(new ErrorReply(text));
  }

  /** [observe] The command running (its argv, for SLOWLOG) and when it started (-1: not timed). */
  private argv: Buffer[] = NO_ARGS;
  private started = -1;

  private run(command: Command, args: Buffer[]): void {
    const observe = this.server.observe; // [observe]
    this.started = observe === undefined ? -1 : observe.begin();
    let result: Reply | Promise<Reply>;
    try {
      // External keyspace (docs/scale-out.md): the command is forwarded to the store or runs over it.
      const external = this.server.external;
      result = external !== undefined ? external.run(this.ctx, command, args) : command.execute(this.ctx, command.parse(args, this.parseContext()));
    } catch (e) {
      const r = this.errorReply(e, command);
      this.send(r);
      observe?.end(this, command, this.argv, this.started, r); // [observe]
      this.argv = NO_ARGS;
      return;
    }
    if (result instanceof Promise) {
      this.busy = true;
      result.then(
        (r) => this.finishAsync(r, command),
        (e: unknown) => this.finishAsync(this.errorReply(e, command), command),
      );
      return;
    }
    this.send(result);
    observe?.end(this, command, this.argv, this.started, result); // [observe]
    this.argv = NO_ARGS; // large arguments (a model blob) are not kept past their command
  }

  private finishAsync(r: Reply, command: Command): void {
    this.busy = false;
    // [observe] An AI run's time includes its queue wait.
    this.server.observe?.end(this, command, this.argv, this.started, r);
    this.argv = NO_ARGS;
    if (this.closed) return; // the client went away mid-run: the result is dropped
    this.send(r);
    this.resumeReading();
    this.processInput();
  }

  /**
   * One queued command of EXEC: its synchronous run, or (for two-phase commands) a promise of it
   * once its prepare is done. Run commands are refused with RedisAI's text, as the original does.
   */
  execStep(command: Command, args: Buffer[]): (() => Reply) | Promise<() => Reply> {
    const failed = (e: unknown) => {
      const r = this.errorReply(e, command);
      return () => r;
    };
    if (command.flags.includes('airun')) return () => new ErrorReply(E.runInMulti);
    let request: unknown;
    try {
      request = command.parse(args, this.parseContext());
    } catch (e) {
      return failed(e);
    }
    const guarded = (run: () => Reply) => () => {
      try {
        return run();
      } catch (e) {
        return this.errorReply(e, command);
      }
    };
    if (command.prepare !== undefined) return command.prepare(this.ctx, request).then(guarded, failed);
    return guarded(() => {
      const r = command.execute(this.ctx, request);
      if (r instanceof Promise) throw new Error(`${command.name} answered asynchronously inside EXEC: it needs a prepare`);
      return r;
    });
  }

  private parseContext() {
    return { protoMaxBulkLen: this.server.options['proto-max-bulk-len'] };
  }

  /**
   * The reply for a command that threw. A RespaiError is the client's answer (bad input; a backend's
   * refusal of a model, a script or a run, which the engine turns into one) and is not logged here.
   * Anything else escaped a command: a bug, logged at level 50 (the logger bounds the line).
   */
  private errorReply(e: unknown, command: Command): ErrorReply {
    if (!RespaiError.isInstance(e)) this.server.log.error({ err: e, command: command.name }, 'command failed unexpectedly');
    return new ErrorReply(errorText(e));
  }

  /** Ends the connection once pending replies are written (QUIT). */
  closeAfterReply(): void {
    this.closeAfterFlush = true;
  }

  private flush(): void {
    if (this.closed) return;
    const chunks = this.writer.take();
    // appendfsync always: replies wait until the writes they acknowledge are on disk (in order).
    const durable = this.server.beforeReply?.();
    if (durable !== undefined || this.held !== undefined) {
      const held: Promise<void> = Promise.all([this.held, durable]).then(() => {
        if (this.held === held) this.held = undefined;
        this.writeOut(chunks);
      });
      this.held = held;
      return;
    }
    this.writeOut(chunks);
  }

  /** Replies taken by an earlier flush that still wait for the disk (see flush). */
  private held: Promise<void> | undefined;

  private writeOut(chunks: Buffer[]): void {
    if (this.closed) return;
    if (chunks.length > 0) {
      let ok = true;
      let bytes = 0;
      if (chunks.length === 1) {
        ok = this.socket.write(chunks[0]!);
        bytes = chunks[0]!.length;
      } else {
        this.socket.cork();
        for (const c of chunks) {
          ok = this.socket.write(c);
          bytes += c.length;
        }
        this.socket.uncork();
      }
      this.server.stats.netOutputBytes += bytes;
      // A client that does not read its replies stops being read from, so it cannot make the
      // server buffer replies without bound.
      if (!ok && !this.busy) this.pauseReading();
    }
    if (this.closeAfterFlush && this.held === undefined) {
      this.socket.end();
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.runOwner.cancel?.();
    if (!this.socket.destroyed && !this.closeAfterFlush) this.socket.destroy();
    this.onClose(this);
  }
}

function sanitize(s: string, max: number): string {
  return s.slice(0, max).replace(/[\r\n]/g, ' ');
}

/** Redis's "with args beginning with:" list: quoted args, capped at about 128 characters. */
function describeArgs(argv: Buffer[]): string {
  let out = '';
  for (let i = 1; i < argv.length && out.length < 128; i++) {
    out += `'${sanitize(argv[i]!.toString('latin1'), 128 - out.length)}' `;
  }
  return out;
}
