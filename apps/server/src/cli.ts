#!/usr/bin/env node
import { PersistenceLoadError } from '@respai/core';
import { ConfigError, loadOptions } from './config.js';
import { StartupError, startServer } from './server.js';

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
  --metrics-port <n>         HTTP /metrics, /healthz, /readyz on every bind address (default 0: off)
  --metrics-max-keys <n>     model/script keys with their own metric labels, then "other" (default 100)
  --slowlog-log-slower-than <us>  SLOWLOG threshold, negative = off (default 10000)
  --slowlog-max-len <n>      SLOWLOG entries kept (default 128)
  --tls-port <n>             TLS listener (default 0: none); with it, --port 0 means no plain TCP
  --tls-cert-file, --tls-key-file, --tls-ca-cert-file <path>
  --tls-auth-clients yes|no|optional   client certificates (default yes)
  --tls-protocols "<versions>"         e.g. "TLSv1.2 TLSv1.3" (the default)
  --aclfile <path>           ACL users, loaded at start (ACL LOAD / ACL SAVE)
  --enable-loadbackend-anywhere yes|no  AI.CONFIG LOADBACKEND outside BACKENDSPATH (default no)
  (docs/operations.md)
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
  if (err instanceof PersistenceLoadError || err instanceof StartupError) {
    process.stderr.write(`respai-server: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`respai-server: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
