#!/usr/bin/env node
import { PersistenceLoadError } from '@respai/core';
import { ConfigError, loadOptions } from './config.js';
import { startServer } from './server.js';

const USAGE = `Usage: respai-server [/path/to/respai.conf] [--option value ...]

Options (also accepted as config-file lines, "name value"):
  --port <n>                 TCP port (default 6379; 0 picks a free one)
  --bind <addr> [addr ...]   addresses to listen on (default 127.0.0.1)
  --requirepass <password>   require AUTH before any other command
  --maxclients <n>           maximum simultaneous clients (default 10000)
  --proto-max-bulk-len <sz>  largest bulk string accepted, e.g. 512mb (default)
  --loglevel <level>         debug | verbose | notice | warning | nothing
  --logfile <path>           append logs there instead of stdout
  --dir <path>               where the snapshot and the append-only file live (default .)
  --dbfilename <name>        snapshot file, an RDB file (default dump.rdb), loaded at start
  --save "<secs> <changes>"  snapshot points, like redis.conf (default "": none)
  --appendonly yes|no        append-only file (default no)
  --appendfilename <name>    (default appendonly.respai)
  --appendfsync <policy>     always | everysec | no (default everysec)
  (docs/persistence.md; repair a damaged append-only file with respai-check-aof --fix <file>)
  --keyspace-url redis://[user:pass@]host:port      keep every key in this Redis/Valkey server
  --keyspace-cluster-nodes host:port[,host:port]    ... or in this Redis Cluster
  --keyspace-timeout <ms>    store requests fail after this long (default 5000)
  (docs/scale-out.md: also keyspace-user, keyspace-password, keyspace-tls*, keyspace-check-interval)
`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let loaded;
  try {
    loaded = loadOptions(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n\n${USAGE}`);
      process.exit(1);
    }
    throw e;
  }
  const server = await startServer(loaded);
  let dying = false;
  server.onClosed(() => setImmediate(() => process.exit(dying ? 1 : 0)));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // A failed save keeps the server running (logged), as in Redis; a second signal ends it.
    process.once(sig, () => void server.shutdown(`received ${sig}`).catch(() => undefined));
  }
  // Nothing a client sends may get here (tests drive every error path and check the log): an
  // uncaught exception is a bug, and the state it leaves is unknown. Log it, save what the
  // persistence settings say to save (the AOF flushed), and exit non-zero, as a server should.
  process.on('uncaughtException', (err) => {
    server.log.fatal({ err }, 'uncaught exception: shutting down');
    if (dying) return;
    dying = true;
    void server
      .shutdown('uncaught exception')
      .catch(() => undefined)
      .finally(() => process.exit(1));
    setTimeout(() => process.exit(1), 10_000).unref();
  });
}

main().catch((err: unknown) => {
  if (err instanceof PersistenceLoadError) {
    process.stderr.write(`respai-server: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`respai-server: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
