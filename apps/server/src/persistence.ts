import { fileURLToPath } from 'node:url';
import { E, Persistence, keyOf, shellQuote, type DurableKeyspace, type Engine, type PersistenceConfig, type SavePoint } from '@respai/core';
import type { Client } from './client.js';
import type { ExecContext } from './commands/types.js';
import type { ServerOptions } from './config.js';
import { ErrorReply } from './resp/reply.js';
import type { ServerState } from './state.js';
import type { Logger } from './logger.js';
import { REDIS_VERSION, RESPAI_VERSION } from './version.js';

/** The check/repair tool next to this file once built (bin `respai-check-aof`). */
export const CHECK_AOF_SCRIPT = fileURLToPath(new URL('./check-aof.js', import.meta.url));

/** `save "900 1 300 10"` as save points. */
export function parseSavePoints(s: string): SavePoint[] {
  const w = s.split(/\s+/).filter((x) => x !== '').map(Number);
  const out: SavePoint[] = [];
  for (let i = 0; i + 1 < w.length; i += 2) out.push({ seconds: w[i]!, changes: w[i + 1]! });
  return out;
}

/** The persistence settings from the server's options (read live: CONFIG SET applies at once). */
export function persistenceConfig(o: ServerOptions): PersistenceConfig {
  return {
    dir: o.dir,
    dbfilename: o.dbfilename,
    appendonly: o.appendonly === 'yes',
    appendfilename: o.appendfilename,
    appendfsync: o.appendfsync,
    autoAofRewritePercentage: o['auto-aof-rewrite-percentage'],
    autoAofRewriteMinSize: o['auto-aof-rewrite-min-size'],
    save: parseSavePoints(o.save),
    rdbcompression: o.rdbcompression === 'yes',
    rdbSkipUnsupportedTypes: o['rdb-skip-unsupported-types'] === 'yes',
    keyLoadDelayUs: o['key-load-delay'],
  };
}

/**
 * The server's Persistence: options from the option table, logs into the server's log, and a
 * failed AOF write under `appendfsync always` ends the process (as in Redis), since acknowledged
 * writes could no longer be guaranteed.
 */
export function createPersistence(s: {
  options: ServerOptions;
  log: Logger;
  engine: Engine;
  keyspace: DurableKeyspace;
  /** The server, for replaying the commands of a Redis AOF being imported. */
  state?: () => ServerState;
}): Persistence {
  const log = s.log.child({ component: 'persistence' });
  return new Persistence({
    keyspace: s.keyspace,
    engine: s.engine,
    config: () => persistenceConfig(s.options),
    log: {
      info: (msg, fields) => log.info(fields ?? {}, msg),
      warn: (msg, fields) => log.warn(fields ?? {}, msg),
      error: (msg, fields) => log.error(fields ?? {}, msg),
    },
    onFatal: (e) => {
      log.fatal({ err: e.message }, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      log.flush?.();
      process.stderr.write(`respai-server: AOF write failed under appendfsync always: ${e.message}. Exiting.\n`);
      process.exit(1);
    },
    // Snapshots say which Redis they speak for (Redis reads redis-ver) and which respai wrote them.
    aux: () => [
      ['redis-ver', REDIS_VERSION],
      ['respai-ver', RESPAI_VERSION],
    ],
    ...(s.state === undefined ? {} : { replay: replayer(s.state) }),
    repairCommand: (path) => `respai-check-aof --fix ${shellQuote(path)} (from the repository: node ${shellQuote(CHECK_AOF_SCRIPT)} --fix ${shellQuote(path)})`,
  });
}

/** The client a replayed command runs as (commands that look at the client are not in an AOF). */
const AOF_CLIENT = { id: 0, addr: 'aof', laddr: '', name: 'aof', multi: undefined, multiDirty: false } as unknown as Client;

/**
 * Runs the commands of a Redis append-only file being imported through the command table, as
 * Redis replays them: MULTI/EXEC markers dropped (what they wrapped was committed), SELECT 0,
 * PEXPIREAT/EXPIREAT (what Redis writes for TTLs) applied to the keyspace. An error reply stops
 * the import with its text.
 */
export function replayer(state: () => ServerState): (argv: Buffer[]) => Promise<void> {
  return async (argv) => {
    const server = state();
    const name = argv[0]!.toString('latin1').toLowerCase();
    if (name === 'multi' || name === 'exec') return;
    if (name === 'select') {
      if (argv[1]?.toString() !== '0') throw new Error(`SELECT ${argv[1]?.toString() ?? ''}: respai has database 0 only`);
      return;
    }
    if ((name === 'pexpireat' || name === 'expireat') && argv.length === 3 && !server.commands.has(name)) {
      const at = Number(argv[2]!.toString());
      if (!Number.isSafeInteger(at)) throw new Error(E.notInteger);
      server.keyspace.setExpiry(keyOf(argv[1]!), name === 'expireat' ? at * 1000 : at);
      return;
    }
    const command = server.commands.get(name);
    if (command === undefined) throw new Error(`unknown command '${name}'`);
    if ((command.arity > 0 && argv.length !== command.arity) || argv.length < -command.arity) throw new Error(E.arity(command.name));
    const ctx: ExecContext = { server, client: AOF_CLIENT, keyspace: server.keyspace };
    const reply = await command.execute(ctx, command.parse(argv.slice(1), { protoMaxBulkLen: Number.MAX_SAFE_INTEGER }));
    if (reply instanceof ErrorReply) throw new Error(reply.text);
  };
}
