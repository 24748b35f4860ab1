#!/usr/bin/env node
import { PersistenceLoadError } from '@respai/core';
import { ConfigError, loadOptions } from './config.js';
import { StartupError, startServer } from './server.js';
import { usage } from './usage.js';

const USAGE = usage();

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
